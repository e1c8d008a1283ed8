package tensor

import "github.com/nabla-go/nabla/device"

// AddInPlace adds other, broadcast to t's shape, into t's own memory and
// returns t: PyTorch's t.add_(other). It allocates nothing, which is what
// makes gradient accumulation cheap; every view of t's memory sees the
// change.
func (t *Tensor) AddInPlace(other *Tensor) *Tensor {
	const op = "AddInPlace"
	if other == nil {
		fail(op, ErrArgument, "nil tensor operand")
	}
	sameDevice(op, t, other)
	sameDType(op, t, other)
	if t.DType() == Bool {
		fail(op, ErrDType, "is not defined for Bool tensors; use LogicalOr")
	}
	t.writable(op)
	l, ok := expandLayout(other.layout, t.layout.Shape)
	if !ok {
		fail(op, ErrShape, "operand shape %v does not broadcast to the destination shape %v (an in-place result keeps its shape); use Add for a new tensor",
			other.layout.Shape, t.layout.Shape)
	}
	if other.SharesMemory(t) && !sameLayout(l, t.layout) {
		// Backends allow a destination to overlap only an identical
		// operand (x += x): read anything else from a private copy.
		other = other.Clone()
		l, _ = expandLayout(other.layout, t.layout.Shape)
	}
	check(op, t.be.Binary(device.Add, t.view(), t.view(), device.View{Buf: other.buf, Layout: l}))
	return t
}

// writable panics unless every element of t has its own memory location:
// an in-place op on a broadcast (stride 0) view would write one location
// many times.
func (t *Tensor) writable(op string) {
	for i, d := range t.layout.Shape {
		if d > 1 && t.layout.Strides[i] == 0 {
			fail(op, ErrArgument, "the destination of shape %v is a broadcast view (stride 0 in dimension %d), so several of its elements share one memory location; write into t.Contiguous() instead",
				t.layout.Shape, i)
		}
	}
}
