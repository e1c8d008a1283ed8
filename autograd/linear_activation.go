package autograd

import (
	"slices"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/prim"
	"github.com/nabla-go/nabla/tensor"
)

// checkLinear validates the operands of x·wᵀ + b (b may be nil) and
// returns the weight's input and output sizes.
func checkLinear(op string, x, w, b *Var) (in, out int) {
	if w.Dim() != 2 {
		failf(op, tensor.ErrShape, "weight must be [out, in], got shape %v", w.Shape())
	}
	out, in = w.Size(0), w.Size(1)
	if x.Dim() == 0 || x.Size(-1) != in {
		failf(op, tensor.ErrShape, "input of shape %v does not end in the %d input features of the weight %v", x.Shape(), in, w.Shape())
	}
	if b != nil && (b.Dim() != 1 || b.Size(0) != out) {
		failf(op, tensor.ErrShape, "bias must be [%d], got shape %v", out, b.Shape())
	}
	sameFloat(op, x, w, b)
	return in, out
}

// linearActivation returns act(x·wᵀ + b), Linear followed by the
// activation, as one recorded operation: the bias and the activation are
// applied in a single pass over the matrix product's output (in place
// where the backward pass does not need the pre-activation values), and
// the backward pass computes the activation's gradient and then the
// linear one. Values and gradients equal those of Linear followed by the
// activation's Var method bit for bit. b may be nil.
func linearActivation(x, w, b *Var, act prim.Activation) *Var {
	const op = "LinearActivation"
	in, out := checkLinear(op, x, w, b)
	fromInput := activationNeedsInput(op, act)
	xShape := x.Shape()
	x2 := x.data.Reshape(-1, in)
	y := x2.MatMul(w.data.T())
	inputs := []*Var{x, w}
	if b != nil {
		inputs = append(inputs, b)
	}
	tracked := IsGradEnabled() && slices.ContainsFunc(inputs, func(v *Var) bool { return v.requiresGrad })
	// keep is the tensor the backward pass rebuilds the pre-activation
	// from: the product before the bias. Only activations whose gradient
	// cannot be read off their output need it; the others overwrite the
	// product in place.
	var keep, res *tensor.Tensor
	switch {
	case b == nil:
		res = tensorOps.ApplyActivation(act, y)
	case tracked && fromInput:
		res = tensorOps.BiasActivation(y, b.data, act)
	default:
		res = tensorOps.BiasActivationInPlace(y, b.data, act)
	}
	if tracked && fromInput {
		keep = y
	}
	outShape := append(slices.Clone(xShape[:len(xShape)-1]), out)
	res = res.Reshape(outShape...)
	if !tracked {
		return &Var{data: res}
	}
	var bias *tensor.Tensor
	if b != nil {
		bias = b.data
	}
	lin := linearRule(x2, w.data, xShape, x.requiresGrad, b != nil)
	return record(op, res, func(g *tensor.Tensor) []*tensor.Tensor {
		var z *tensor.Tensor
		if fromInput {
			// Rounds as the forward pass's fused add did, bit for bit.
			z = keep
			if bias != nil {
				z = z.Add(bias)
			}
			z = z.Reshape(outShape...)
		}
		return lin(activationGrad(act, g, z, res))
	}, inputs...)
}

// activationNeedsInput reports whether act's gradient needs its input z,
// rather than its output alone, and panics on an unknown kind. ReLU, and
// LeakyReLU and ELU with a parameter >= 0, are positive exactly where
// their input is, so their output decides the branch.
func activationNeedsInput(op string, act prim.Activation) bool {
	switch act.Kind {
	case prim.ActNone, prim.ActRelu, prim.ActSigmoid, prim.ActTanh:
		return false
	case prim.ActLeakyRelu, prim.ActElu:
		return !(act.Alpha >= 0)
	case prim.ActSoftplus, prim.ActGelu:
		return true
	}
	failf(op, tensor.ErrArgument, "unknown activation %v; use one of the prim.Act* kinds", act)
	return false
}

// activationGrad returns the gradient of act's input from the gradient g
// of its output out, using its input z where activationNeedsInput says
// so (z is nil otherwise). It builds the very rules that the Var methods
// (Relu, Sigmoid, ...) record, from the same operands, so the chain of
// separate operations gives the same bits.
func activationGrad(act prim.Activation, g, z, out *tensor.Tensor) *tensor.Tensor {
	// sign decides the branch of LeakyReLU: the input when it is kept,
	// else the output, which is positive exactly where the input is.
	sign := z
	if sign == nil {
		sign = out
	}
	var r rule
	switch act.Kind {
	case prim.ActNone:
		return g
	case prim.ActRelu:
		r = activationRule(device.Relu, out, 0, 0)
	case prim.ActLeakyRelu:
		r = leakyReluRule(sign, act.Alpha)
	case prim.ActSigmoid:
		r = sigmoidRule(out)
	case prim.ActTanh:
		r = tanhRule(out)
	case prim.ActElu:
		r = eluRule(z, out, act.Alpha)
	case prim.ActSoftplus:
		r = softplusRule(z)
	case prim.ActGelu:
		r = geluRule(z)
	}
	return r(g)[0]
}
