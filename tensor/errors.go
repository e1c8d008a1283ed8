package tensor

import (
	"errors"
	"fmt"
)

// Sentinel errors wrapped by *Error; test with errors.Is.
var (
	// ErrShape: shapes that do not broadcast, match or reshape.
	ErrShape = errors.New("shape error")
	// ErrDevice: operands on different devices, or a host read of device memory.
	ErrDevice = errors.New("device error")
	// ErrDType: operands of different dtypes, or a dtype the op does not support.
	ErrDType = errors.New("dtype error")
	// ErrIndex: a dimension or index out of range.
	ErrIndex = errors.New("index error")
	// ErrArgument: any other invalid argument.
	ErrArgument = errors.New("invalid argument")
	// ErrBackend: the device failed to run an operation.
	ErrBackend = errors.New("backend error")
	// ErrMemory: a tensor larger than the device's memory (for the CPU,
	// cpu.MemoryLimit), refused before the allocation was tried.
	ErrMemory = errors.New("out of memory")
)

// Error is the panic value of a misused tensor operation. Its message names
// the operation and the operands, for example
// "tensor: MatMul: shapes [4 3] and [2 5] do not match (inner 3 != 2)".
type Error struct {
	Op    string // the operation, e.g. "MatMul"
	Kind  error  // one of the sentinels above
	Msg   string // what went wrong and, where there is one, the fix
	Cause error  // the underlying error, if any: the backend's (ErrBackend) or the device registry's (ErrDevice)
}

// Error formats the error as "tensor: Op: Msg".
func (e *Error) Error() string { return "tensor: " + e.Op + ": " + e.Msg }

// Unwrap exposes the sentinel and, when present, the underlying error.
func (e *Error) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Kind, e.Cause}
	}
	return []error{e.Kind}
}

// fail panics with an *Error.
func fail(op string, kind error, format string, args ...any) {
	panic(&Error{Op: op, Kind: kind, Msg: fmt.Sprintf(format, args...)})
}

// check panics with an ErrBackend *Error when a backend call failed.
func check(op string, err error) {
	if err != nil {
		panic(&Error{Op: op, Kind: ErrBackend, Msg: err.Error(), Cause: err})
	}
}

// Catch runs f and returns the *Error it panicked with, or nil. Panics that
// are not tensor errors (bugs) propagate unchanged.
func Catch(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if te, ok := r.(*Error); ok {
				err = te
				return
			}
			panic(r)
		}
	}()
	f()
	return nil
}
