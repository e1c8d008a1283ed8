package tensor

import (
	"slices"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/backend"
)

// activationGrad returns g·f'(·), the gradient of the activation op (with
// the scalar parameters alpha and beta of the forward op) for the
// upstream gradient g, in one pass over g and a, without temporaries.
// a is the tensor op's gradient is computed from, as
// op.BackwardOperand() says: the forward input for Relu, LeakyRelu,
// Threshold, Clamp, Softplus and Gelu, the forward output for Sigmoid,
// Tanh and Elu (alpha >= 0). Relu, and LeakyRelu with alpha >= 0, may be
// given their output instead of their input, which has the same sign.
// g and a must have one shape, float dtype and device; the result is a
// new contiguous tensor.
func activationGrad(op device.UnaryOp, g, a *Tensor, alpha, beta float64) *Tensor {
	const name = "ActivationGrad"
	if err := backend.UnaryBackwardSupported(op, alpha, beta); err != nil {
		fail(name, ErrArgument, "%v", err)
	}
	requireFloat(name, g)
	sameDevice(name, g, a)
	sameDType(name, g, a)
	if !slices.Equal(g.layout.Shape, a.layout.Shape) {
		fail(name, ErrShape, "the gradient %v and the %v operand %v differ in shape; they must have the forward output's shape", g.layout.Shape, op, a.layout.Shape)
	}
	var x, y device.View
	if op.BackwardOperand() == device.FromInput {
		x = a.view()
	} else {
		y = a.view()
	}
	out := g.emptyLike(name, g.DType(), g.layout.Shape)
	check(name, g.be.UnaryBackward(op, out.view(), g.view(), x, y, alpha, beta))
	return out
}
