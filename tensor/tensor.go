package tensor

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/device/cpu"
	"github.com/nabla-go/nabla/internal/bytesize"
)

// Tensor is an n-dimensional strided view of device memory. Tensors are
// immutable in shape; operations return new tensors, and views share
// memory with the tensor they came from. A Tensor is safe to read from
// several goroutines at once.
type Tensor struct {
	buf    device.Buffer
	be     device.Backend
	layout device.Layout
}

// backendOf returns the backend of dev, panicking with ErrDevice when the
// device cannot be used.
func backendOf(op string, dev device.Device) device.Backend {
	be, err := device.Get(dev)
	if err != nil {
		// Keep the device's error as the cause, so that callers can test
		// for device.ErrNoCUDA with errors.Is.
		panic(&Error{Op: op, Kind: ErrDevice, Msg: err.Error(), Cause: err})
	}
	return be
}

// empty allocates a contiguous tensor of the given shape; its contents are
// unspecified until written.
func empty(op string, be device.Backend, dt DType, shape []int) *Tensor {
	n := checkShape(op, shape)
	shape = slices.Clone(shape)
	buf, err := be.Alloc(dt, n)
	if err != nil {
		allocFailed(op, be.Device(), dt, shape, n, err)
	}
	return &Tensor{buf: buf, be: be, layout: device.Contiguous(shape...)}
}

// checkShape returns the number of elements of shape, panicking with
// ErrShape when a dimension is negative or the count (or a stride of the
// shape) overflows int. Every shape a tensor gets passes it, so that
// Numel and the strides of a tensor never wrap around.
func checkShape(op string, shape []int) int {
	n, err := device.CheckedNumel(shape)
	if err != nil {
		for _, d := range shape {
			if d < 0 {
				fail(op, ErrShape, "negative dimension in shape %v", shape)
			}
		}
		fail(op, ErrShape, "shape %v has too many elements: their number overflows int (at most %d)", shape, math.MaxInt)
	}
	return n
}

// allocFailed panics with the error of an allocation of shape that the
// backend refused: ErrMemory, naming the shape and the bytes, when it is
// larger than the device's memory, ErrBackend otherwise.
func allocFailed(op string, dev device.Device, dt DType, shape []int, n int, err error) {
	var me *device.MemoryError
	if errors.As(err, &me) {
		panic(&Error{Op: op, Kind: ErrMemory, Cause: err, Msg: fmt.Sprintf(
			"a tensor of shape %v and dtype %v needs %s, more than the %s that %v may allocate (%s)",
			shape, dt, bytesize.Format(me.Bytes), bytesize.Format(me.Limit), dev, me.Source)})
	}
	if errors.Is(err, device.ErrSize) {
		panic(&Error{Op: op, Kind: ErrMemory, Cause: err, Msg: fmt.Sprintf(
			"a tensor of shape %v and dtype %v needs %.4g bytes, more than an int can count", shape, dt, float64(n)*float64(dt.Size()))})
	}
	check(op, err)
}

// checkHostAlloc panics like empty when a host slice of n elements of dt,
// the copy of a tensor of shape, would exceed the CPU memory limit: a
// CUDA tensor can be larger than the host's memory.
func checkHostAlloc(op string, dt DType, shape []int, n int) {
	if err := cpu.CheckAlloc(dt, n); err != nil {
		allocFailed(op, device.CPU(), dt, shape, n, err)
	}
}

// emptyLike allocates an uninitialised contiguous tensor on t's device.
func (t *Tensor) emptyLike(op string, dt DType, shape []int) *Tensor {
	return empty(op, t.be, dt, shape)
}

// withLayout returns a view of t's memory with another layout.
func (t *Tensor) withLayout(l device.Layout) *Tensor {
	return &Tensor{buf: t.buf, be: t.be, layout: l}
}

// view returns the backend operand for t.
func (t *Tensor) view() device.View { return device.View{Buf: t.buf, Layout: t.layout} }

// Shape returns a copy of the dimensions ([]int{} for a 0-d tensor).
func (t *Tensor) Shape() []int { return append([]int{}, t.layout.Shape...) }

// Strides returns a copy of the strides, in elements.
func (t *Tensor) Strides() []int { return append([]int{}, t.layout.Strides...) }

// Offset is the position of the first element in the underlying buffer.
func (t *Tensor) Offset() int { return t.layout.Offset }

// Dim returns the number of dimensions (0 for a scalar).
func (t *Tensor) Dim() int { return len(t.layout.Shape) }

// Size returns the length of dimension d; negative d counts from the end.
func (t *Tensor) Size(d int) int { return t.layout.Shape[t.normDim("Size", d)] }

// Numel returns the number of elements.
func (t *Tensor) Numel() int { return t.layout.Numel() }

// DType returns the element type.
func (t *Tensor) DType() DType { return t.buf.DType() }

// Device returns the device holding t's memory.
func (t *Tensor) Device() device.Device { return t.be.Device() }

// IsContiguous reports whether t's elements are laid out row-major
// without gaps.
func (t *Tensor) IsContiguous() bool { return t.layout.IsContiguous() }

// SharesMemory reports whether t and u are views of the same buffer.
func (t *Tensor) SharesMemory(u *Tensor) bool { return t.buf == u.buf }

// Layout returns a copy of t's layout, for backends and serialisers.
func (t *Tensor) Layout() device.Layout { return t.layout.Clone() }

// Buffer returns the device buffer behind t, for packages that extend the
// tensor package with their own backend calls.
func (t *Tensor) Buffer() device.Buffer { return t.buf }

// Backend returns the backend of t's device.
func (t *Tensor) Backend() device.Backend { return t.be }

// normDim turns a possibly negative dimension into an index, panicking with
// ErrIndex when it is out of range.
func (t *Tensor) normDim(op string, d int) int {
	return normDim(op, d, t.Dim())
}

func normDim(op string, d, rank int) int {
	if rank == 0 {
		fail(op, ErrIndex, "dimension %d is out of range: the tensor is 0-dimensional and has no dimensions", d)
	}
	if d < -rank || d >= rank {
		fail(op, ErrIndex, "dimension %d is out of range for a tensor of rank %d (valid: %d to %d)", d, rank, -rank, rank-1)
	}
	if d < 0 {
		d += rank
	}
	return d
}

// scalarDim checks a dimension argument given to an operation on a 0-d
// tensor that, as in PyTorch, treats the scalar as having one dimension
// (reductions, Softmax, Squeeze, Transpose): only 0 and -1 are valid.
func scalarDim(op string, d int) {
	if d != 0 && d != -1 {
		fail(op, ErrIndex, "dimension %d is out of range for a 0-dimensional tensor (valid: -1 to 0)", d)
	}
}

// sameDevice panics when the tensors live on different devices.
func sameDevice(op string, ts ...*Tensor) {
	for _, u := range ts[1:] {
		if u.Device() != ts[0].Device() {
			fail(op, ErrDevice, "operands are on different devices (%v and %v); move one with .To(%v) first",
				ts[0].Device(), u.Device(), ts[0].Device())
		}
	}
}

// sameDType panics when the tensors have different dtypes.
func sameDType(op string, ts ...*Tensor) {
	for _, u := range ts[1:] {
		if u.DType() != ts[0].DType() {
			fail(op, ErrDType, "dtypes %v and %v differ; convert one with .As(tensor.%s)",
				ts[0].DType(), u.DType(), goName(ts[0].DType()))
		}
	}
}

// requireFloat panics unless t has a floating-point dtype.
func requireFloat(op string, t *Tensor) {
	if !t.DType().IsFloat() {
		fail(op, ErrDType, "needs a float32 or float64 tensor, got %v; convert with .As(tensor.Float32)", t.DType())
	}
}

// goName is the Go identifier of a dtype constant, for messages.
func goName(dt DType) string {
	switch dt {
	case Float32:
		return "Float32"
	case Float64:
		return "Float64"
	case Int64:
		return "Int64"
	case Bool:
		return "Bool"
	case Uint8:
		return "Uint8"
	}
	return dt.String()
}
