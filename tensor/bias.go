package tensor

import (
	"fmt"

	"github.com/nabla-go/nabla/device"
)

// ActivationKind selects the function of an Activation.
type ActivationKind uint8

// The activations the fused bias epilogue applies: those that follow a
// fully connected layer.
const (
	ActNone      ActivationKind = iota // identity: the bias alone
	ActRelu                            // max(x, 0)
	ActLeakyRelu                       // x if x > 0 else Alpha·x
	ActSigmoid                         // 1/(1+e^-x)
	ActTanh                            // tanh x
	ActElu                             // x if x > 0 else Alpha·(e^x - 1)
	ActSoftplus                        // ln(1+e^x)
	ActGelu                            // x·Φ(x), the exact erf form
	numActivations
)

// Activation is an elementwise activation together with its parameter, as
// BiasActivation applies it after adding a bias. The zero value is no
// activation.
type Activation struct {
	Kind ActivationKind
	// Alpha is the negative slope of ActLeakyRelu and the alpha of ActElu;
	// the other kinds ignore it.
	Alpha float64
}

var activationNames = [...]string{"None", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "ELU", "Softplus", "GELU"}

// String names the activation like the nn module that applies it, with
// its parameter where it has one: "ReLU", "LeakyReLU(0.01)".
func (a Activation) String() string {
	if a.Kind >= numActivations {
		return fmt.Sprintf("Activation(%d)", a.Kind)
	}
	switch a.Kind {
	case ActLeakyRelu, ActElu:
		return fmt.Sprintf("%s(%v)", activationNames[a.Kind], a.Alpha)
	}
	return activationNames[a.Kind]
}

// unary returns the backend op and scalar parameter of a, panicking in op
// when a's kind is unknown.
func (a Activation) unary(op string) (device.UnaryOp, float64) {
	switch a.Kind {
	case ActNone:
		return device.AddScalar, 0 // alpha 0: the bias alone (backend.BiasOnly)
	case ActRelu:
		return device.Relu, 0
	case ActLeakyRelu:
		return device.LeakyRelu, a.Alpha
	case ActSigmoid:
		return device.Sigmoid, 0
	case ActTanh:
		return device.Tanh, 0
	case ActElu:
		return device.Elu, a.Alpha
	case ActSoftplus:
		return device.Softplus, 0
	case ActGelu:
		return device.Gelu, 0
	}
	fail(op, ErrArgument, "unknown activation kind %d; use one of the tensor.Act* constants", a.Kind)
	return 0, 0
}

// Apply returns a(x) with the ordinary elementwise op (x itself for
// ActNone): the unfused form of the epilogue, bit for bit equal to it.
func (a Activation) Apply(x *Tensor) *Tensor {
	switch a.Kind {
	case ActNone:
		return x
	case ActRelu:
		return x.Relu()
	case ActLeakyRelu:
		return x.LeakyRelu(a.Alpha)
	case ActSigmoid:
		return x.Sigmoid()
	case ActTanh:
		return x.Tanh()
	case ActElu:
		return x.Elu(a.Alpha)
	case ActSoftplus:
		return x.Softplus()
	case ActGelu:
		return x.Gelu()
	}
	a.unary("Activation.Apply") // panics with the list of kinds
	return nil
}

// BiasActivation returns act(t + bias) for t of shape [..., N] and bias of
// shape [N] in one pass over memory: the epilogue of a fully connected
// layer. The result equals t.Add(bias) followed by act.Apply bit for bit.
func (t *Tensor) BiasActivation(bias *Tensor, act Activation) *Tensor {
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

// BiasActivationInPlace overwrites t with act(t + bias), as
// BiasActivation computes it, and returns t. Use it on a tensor that
// nothing else reads, such as a fresh matrix product: every view of t's
// memory sees the change.
func (t *Tensor) BiasActivationInPlace(bias *Tensor, act Activation) *Tensor {
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
func (t *Tensor) biasOperands(op string, bias *Tensor, act Activation) (device.Layout, bool) {
	if bias == nil {
		fail(op, ErrArgument, "nil bias")
	}
	act.unary(op)
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
func (t *Tensor) biasEpilogue(op string, dst, src, bias *Tensor, act Activation) {
	u, alpha := act.unary(op)
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
