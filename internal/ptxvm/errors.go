package ptxvm

import (
	"errors"
	"fmt"
)

// FaultKind classifies a failed launch.
type FaultKind int

// Kinds of faults.
const (
	FaultOther       FaultKind = iota
	FaultOutOfBounds           // memcheck: an access outside live memory, or to freed memory
	FaultMisaligned            // memcheck: an access not aligned to its size
	FaultRace                  // racecheck: a shared-memory hazard between threads
	FaultTrap                  // the kernel executed trap
	FaultDivergence            // a warp-wide instruction reached by only some of its lanes
)

func (k FaultKind) String() string {
	switch k {
	case FaultOutOfBounds:
		return "memcheck"
	case FaultMisaligned:
		return "memcheck (misaligned)"
	case FaultRace:
		return "racecheck"
	case FaultTrap:
		return "trap"
	case FaultDivergence:
		return "warp divergence"
	}
	return "fault"
}

// Fault is why a launch failed: the kernel, the block and thread, the PTX
// line and instruction, and for memory faults the address.
type Fault struct {
	Kind       FaultKind
	Kernel     string // the .entry launched
	Func       string // the function holding the instruction (the entry or a .func)
	Line       int    // line in the module's PTX text
	Instr      string
	Block      [3]uint32
	Thread     [3]uint32
	Addr       uint64
	Other      [3]uint32 // racecheck: the other thread
	OtherKnown bool
	Msg        string
}

func (f *Fault) Error() string {
	where := f.Kernel
	if f.Func != f.Kernel {
		where += " (in " + f.Func + ")"
	}
	return fmt.Sprintf("%s: kernel %s, block (%d,%d,%d), thread (%d,%d,%d), PTX line %d `%s`: %s",
		f.Kind, where, f.Block[0], f.Block[1], f.Block[2], f.Thread[0], f.Thread[1], f.Thread[2], f.Line, f.Instr, f.Msg)
}

// Error is a driver-level error: the CUDA result a real driver would
// return, and why.
type Error struct {
	Code int    // the CUresult
	Name string // "CUDA_ERROR_INVALID_VALUE", ...
	Msg  string
	// Fault is set when a launch failed while running.
	Fault *Fault
}

func (e *Error) Error() string { return e.Msg }

// Unwrap returns the launch's fault, if any.
func (e *Error) Unwrap() error {
	if e.Fault == nil {
		return nil
	}
	return e.Fault
}

// CUresult codes used by the virtual machine.
const (
	CodeInvalidValue      = 1
	CodeOutOfMemory       = 2
	CodeInvalidImage      = 200
	CodeInvalidContext    = 201
	CodeInvalidHandle     = 400
	CodeNotFound          = 500
	CodeNotReady          = 600
	CodeIllegalAddress    = 700
	CodeLaunchOutOfRes    = 701
	CodeMisalignedAddress = 716
	CodeIllegalInstr      = 715
	CodeAssert            = 710
	CodeContextDestroyed  = 709
	CodeLaunchFailed      = 719
	CodeInvalidPTX        = 218
)

var codeNames = map[int]string{
	CodeInvalidValue:      "CUDA_ERROR_INVALID_VALUE",
	CodeOutOfMemory:       "CUDA_ERROR_OUT_OF_MEMORY",
	CodeInvalidImage:      "CUDA_ERROR_INVALID_IMAGE",
	CodeInvalidContext:    "CUDA_ERROR_INVALID_CONTEXT",
	CodeInvalidHandle:     "CUDA_ERROR_INVALID_HANDLE",
	CodeNotFound:          "CUDA_ERROR_NOT_FOUND",
	CodeNotReady:          "CUDA_ERROR_NOT_READY",
	CodeIllegalAddress:    "CUDA_ERROR_ILLEGAL_ADDRESS",
	CodeLaunchOutOfRes:    "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES",
	CodeMisalignedAddress: "CUDA_ERROR_MISALIGNED_ADDRESS",
	CodeIllegalInstr:      "CUDA_ERROR_ILLEGAL_INSTRUCTION",
	CodeAssert:            "CUDA_ERROR_ASSERT",
	CodeContextDestroyed:  "CUDA_ERROR_CONTEXT_IS_DESTROYED",
	CodeLaunchFailed:      "CUDA_ERROR_LAUNCH_FAILED",
	CodeInvalidPTX:        "CUDA_ERROR_INVALID_PTX",
}

func newError(code int, format string, args ...any) *Error {
	return &Error{Code: code, Name: codeNames[code], Msg: fmt.Sprintf(format, args...)}
}

// faultError wraps a launch's fault as the error a synchronisation
// returns.
func faultError(f *Fault) *Error {
	code := CodeLaunchFailed
	switch f.Kind {
	case FaultOutOfBounds:
		code = CodeIllegalAddress
	case FaultMisaligned:
		code = CodeMisalignedAddress
	case FaultTrap:
		code = CodeIllegalInstr
	}
	return &Error{Code: code, Name: codeNames[code], Msg: "ptxvm: " + f.Error(), Fault: f}
}

// errOutOfMemory is returned by allocations beyond the device's memory.
var errOutOfMemory = errors.New("out of memory")
