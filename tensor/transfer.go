package tensor

import (
	"slices"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/device/cpu"
)

// To returns t on dev: t itself when it is already there, otherwise a
// contiguous copy. This is the only way data moves between devices.
func (t *Tensor) To(dev device.Device) *Tensor {
	if t.Device() == dev {
		return t
	}
	be := backendOf("To", dev)
	out := empty("To", be, t.DType(), t.layout.Shape)
	check("To", be.Upload(out.buf, t.hostCopy("To")))
	return out
}

// CPU returns t on the CPU; the same as t.To(device.CPU()).
func (t *Tensor) CPU() *Tensor { return t.To(device.CPU()) }

// As returns t converted to dtype dt (t itself when it already has it).
// Float to integer conversion truncates toward zero; nonzero becomes true.
func (t *Tensor) As(dt DType) *Tensor {
	if !dt.Valid() {
		fail("As", ErrDType, "unknown dtype %v", dt)
	}
	if t.DType() == dt {
		return t
	}
	out := t.emptyLike("As", dt, t.layout.Shape)
	check("As", t.be.Copy(out.view(), t.view()))
	return out
}

// hostCopy returns t's elements in row-major order as a new Go slice of
// t's element type, from any device. It is the one path by which device
// memory reaches the host.
func (t *Tensor) hostCopy(op string) any {
	c := t
	if !c.IsContiguous() || c.layout.Offset != 0 || c.buf.Len() != c.Numel() {
		c = t.Clone()
	}
	if c.Device().IsCPU() && c != t {
		return cpu.Data(c.buf) // a fresh clone: nobody else holds it
	}
	var host any
	n := c.Numel()
	checkHostAlloc(op, c.DType(), c.layout.Shape, n)
	switch c.DType() {
	case Float32:
		host = make([]float32, n)
	case Float64:
		host = make([]float64, n)
	case Int64:
		host = make([]int64, n)
	case Bool:
		host = make([]bool, n)
	case Uint8:
		host = make([]uint8, n)
	}
	check(op, c.be.Download(host, c.buf))
	return host
}

// hostRead implements the typed host reads: CPU tensors of the matching
// dtype only.
func hostRead[T Elem](t *Tensor, op string) []T {
	if !t.Device().IsCPU() {
		fail(op, ErrDevice, "the tensor is on %v; host reads need a CPU tensor: call .CPU() first (for a Var: .Detach().CPU())", t.Device())
	}
	if want := dtypeOf[T](); t.DType() != want {
		fail(op, ErrDType, "the tensor is %v, not %v; convert with .As(tensor.%s) first", t.DType(), want, goName(want))
	}
	return t.hostCopy(op).([]T)
}

// Float32s returns a copy of a Float32 CPU tensor's elements in row-major
// order. It panics for tensors on other devices (call CPU first) or of
// other dtypes (call As first).
func (t *Tensor) Float32s() []float32 { return hostRead[float32](t, "Float32s") }

// Float64s returns a copy of a Float64 CPU tensor's elements.
func (t *Tensor) Float64s() []float64 { return hostRead[float64](t, "Float64s") }

// Int64s returns a copy of an Int64 CPU tensor's elements.
func (t *Tensor) Int64s() []int64 { return hostRead[int64](t, "Int64s") }

// Bools returns a copy of a Bool CPU tensor's elements.
func (t *Tensor) Bools() []bool { return hostRead[bool](t, "Bools") }

// Uint8s returns a copy of a Uint8 CPU tensor's elements.
func (t *Tensor) Uint8s() []uint8 { return hostRead[uint8](t, "Uint8s") }

// Item returns the value of a one-element tensor on any device as a
// float64 (booleans are 0 or 1).
func (t *Tensor) Item() float64 {
	if t.Numel() != 1 {
		fail("Item", ErrShape, "needs exactly one element, the tensor has shape %v (%d elements)", t.layout.Shape, t.Numel())
	}
	return toFloat64s(t.hostCopy("Item"))[0]
}

// toFloat64s converts a host slice of any element type to float64.
func toFloat64s(host any) []float64 {
	switch h := host.(type) {
	case []float64:
		return h
	case []float32:
		return convertSlice(h)
	case []int64:
		return convertSlice(h)
	case []uint8:
		return convertSlice(h)
	case []bool:
		out := make([]float64, len(h))
		for i, b := range h {
			if b {
				out[i] = 1
			}
		}
		return out
	}
	return nil
}

func convertSlice[T float32 | int64 | uint8](in []T) []float64 {
	out := make([]float64, len(in))
	for i, v := range in {
		out[i] = float64(v)
	}
	return out
}

// CopyFrom copies src (broadcast to t's shape) into t in place. The two
// must share device and dtype. It is the one mutating operation, used by
// optimizers and state loading; views of t see the change.
func (t *Tensor) CopyFrom(src *Tensor) {
	const op = "CopyFrom"
	sameDevice(op, t, src)
	sameDType(op, t, src)
	l, ok := expandLayout(src.layout, t.layout.Shape)
	if !ok {
		fail(op, ErrShape, "source shape %v does not broadcast to the destination shape %v", src.layout.Shape, t.layout.Shape)
	}
	if src.SharesMemory(t) && !sameLayout(l, t.layout) {
		// Backends do not support partially overlapping operands (such
		// as x.CopyFrom(x.T())): read from a private copy.
		src = src.Clone()
		l, _ = expandLayout(src.layout, t.layout.Shape)
	}
	check(op, t.be.Copy(t.view(), device.View{Buf: src.buf, Layout: l}))
}

// sameLayout reports whether two layouts address the same elements in the
// same order.
func sameLayout(a, b device.Layout) bool {
	return a.Offset == b.Offset && slices.Equal(a.Shape, b.Shape) && slices.Equal(a.Strides, b.Strides)
}
