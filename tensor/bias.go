package tensor

import (
	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/prim"
)

// activationUnary returns the backend op and scalar parameter of a,
// panicking in op when a's kind is unknown.
func activationUnary(op string, a prim.Activation) (device.UnaryOp, float64) {
	switch a.Kind {
	case prim.ActNone:
		return device.AddScalar, 0 // alpha 0: the bias alone (backend.BiasOnly)
	case prim.ActRelu:
		return device.Relu, 0
	case prim.ActLeakyRelu:
		return device.LeakyRelu, a.Alpha
	case prim.ActSigmoid:
		return device.Sigmoid, 0
	case prim.ActTanh:
		return device.Tanh, 0
	case prim.ActElu:
		return device.Elu, a.Alpha
	case prim.ActSoftplus:
		return device.Softplus, 0
	case prim.ActGelu:
		return device.Gelu, 0
	}
	fail(op, ErrArgument, "unknown activation kind %d; use one of the prim.Act* constants", a.Kind)
	return 0, 0
}

// applyActivation returns a(x) with the ordinary elementwise op (x itself
// for ActNone): the unfused form of the epilogue, bit for bit equal to it.
func applyActivation(a prim.Activation, x *Tensor) *Tensor {
	switch a.Kind {
	case prim.ActNone:
		return x
	case prim.ActRelu:
		return x.Relu()
	case prim.ActLeakyRelu:
		return x.LeakyRelu(a.Alpha)
	case prim.ActSigmoid:
		return x.Sigmoid()
	case prim.ActTanh:
		return x.Tanh()
	case prim.ActElu:
		return x.Elu(a.Alpha)
	case prim.ActSoftplus:
		return x.Softplus()
	case prim.ActGelu:
		return x.Gelu()
	}
	activationUnary("Activation.Apply", a) // panics on the unknown kind
	return nil
}

// biasActivation returns act(t + bias) for t of shape [..., N] and bias of
// shape [N] in one pass over memory: the epilogue of a fully connected
// layer. The result equals t.Add(bias) followed by applyActivation bit for
// bit.
func biasActivation(t, bias *Tensor, act prim.Activation) *Tensor {
	const op = "BiasActivation"
	src, ok := t.biasOperands(op, bias, act)
	if !ok {
		c := t.Contiguous()
		src, _ = rows2D(c.layout)
		t = c
	}
	out := t.emptyLike(op, t.DType(), t.layout.Shape)
	dst, _ := rows2D(out.layout)
	t.biasEpilogue(op, out.withLayout(dst), t.withLayout(src), bias, act)
	return out
}

// biasActivationInPlace overwrites t with act(t + bias), as
// biasActivation computes it, and returns t. Use it on a tensor that
// nothing else reads, such as a fresh matrix product: every view of t's
// memory sees the change.
func biasActivationInPlace(t, bias *Tensor, act prim.Activation) *Tensor {
	const op = "BiasActivationInPlace"
	rows, ok := t.biasOperands(op, bias, act)
	if !ok {
		fail(op, ErrArgument, "the leading dimensions of the shape %v (strides %v) cannot be viewed as rows in place; use BiasActivation, which copies",
			t.layout.Shape, t.layout.Strides)
	}
	t.writable(op)
	if bias.SharesMemory(t) {
		// Backends allow a destination to overlap only an identical
		// source, never another operand: read the bias from a copy.
		bias = bias.Clone()
	}
	x := t.withLayout(rows)
	t.biasEpilogue(op, x, x, bias, act)
	return t
}

// biasOperands checks the operands of the bias epilogue and returns t's
// layout viewed as [M, N] rows, or false when its leading dimensions do
// not merge.
func (t *Tensor) biasOperands(op string, bias *Tensor, act prim.Activation) (device.Layout, bool) {
	if bias == nil {
		fail(op, ErrArgument, "nil bias")
	}
	activationUnary(op, act)
	requireFloat(op, t)
	sameDevice(op, t, bias)
	sameDType(op, t, bias)
	if t.Dim() == 0 || bias.Dim() != 1 || bias.Size(0) != t.Size(-1) {
		fail(op, ErrShape, "bias of shape %v does not match the last dimension of the input %v; it must be [N] for an input [..., N]",
			bias.layout.Shape, t.layout.Shape)
	}
	return rows2D(t.layout)
}

// biasEpilogue runs the backend's BiasActivation on [M, N] views.
func (t *Tensor) biasEpilogue(op string, dst, src, bias *Tensor, act prim.Activation) {
	u, alpha := activationUnary(op, act)
	check(op, t.be.BiasActivation(u, dst.view(), src.view(), bias.view(), alpha, 0))
}

// rows2D views a layout of shape [..., N] as [M, N], M the product of the
// leading dimensions. It fails when the leading dimensions do not merge
// into one stride (a permuted 3-D view).
func rows2D(l device.Layout) (device.Layout, bool) {
	r := len(l.Shape)
	n := l.Shape[r-1]
	m, rowStride := 1, 0
	for i := r - 2; i >= 0; i-- {
		d := l.Shape[i]
		if d == 1 {
			continue
		}
		if m > 1 && l.Strides[i] != rowStride*m {
			return device.Layout{}, false
		}
		if m == 1 {
			rowStride = l.Strides[i]
		}
		m *= d
	}
	if m == 0 {
		rowStride = 0
	}
	return device.Layout{Shape: []int{m, n}, Strides: []int{rowStride, l.Strides[r-1]}, Offset: l.Offset}, true
}
