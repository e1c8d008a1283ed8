package device

import (
	"fmt"
	"math"
	"slices"
)

// This file holds what every backend shares for the two fused training
// primitives of activations: Backend.Dropout, which recomputes its mask
// from the Philox counters instead of storing it, and
// Backend.UnaryBackward, the one-pass gradient of an activation.

// BackwardOperand names the operand that Backend.UnaryBackward reads,
// besides the upstream gradient, to compute an op's gradient.
type BackwardOperand uint8

const (
	// NoBackward: the op has no fused gradient; UnaryBackward fails.
	NoBackward BackwardOperand = iota
	// FromInput: the gradient is computed from the op's input x.
	FromInput
	// FromOutput: the gradient is computed from the op's output y, which
	// saves recomputing a transcendental function.
	FromOutput
)

// BackwardOperand reports which operand UnaryBackward reads for op. The
// gradients dx = g·f'(·), with alpha and beta as in Unary, are:
//
//	Relu       x: g where x > 0, else 0
//	LeakyRelu  x: g where x > 0, else g·alpha
//	Threshold  x: g where x > alpha, else 0
//	Clamp      x: g where alpha <= x <= beta, else 0
//	Softplus   x: g where x > 20 (where the forward is x itself), else g·sigmoid(x)
//	Gelu       x: g·(Φ(x) + x·φ(x)), Φ and φ the standard normal CDF and density
//	Sigmoid    y: g·(y·(1-y))
//	Tanh       y: g·((1-y)·(1+y)), which does not cancel where y is near ±1
//	Elu        y: g where y > 0, else g·(y+alpha), which is g·alpha·e^x;
//	           alpha must be >= 0 (as for PyTorch's ELU backward from its
//	           result), so that y > 0 exactly where x > 0
//
// The masks select: a masked-out element is 0 even where g is NaN, as
// Where(mask, g, 0) is. Relu, and LeakyRelu with alpha >= 0, read x only
// through the sign of x, which y shares, so a caller that keeps only the
// output may pass y as x. Every other op reports NoBackward.
func (op UnaryOp) BackwardOperand() BackwardOperand {
	switch op {
	case Relu, LeakyRelu, Threshold, Clamp, Softplus, Gelu:
		return FromInput
	case Sigmoid, Tanh, Elu:
		return FromOutput
	}
	return NoBackward
}

// UnaryBackwardSupported returns nil when UnaryBackward computes the
// gradient of op with these parameters, and otherwise an error that
// names the op and what to do instead.
func UnaryBackwardSupported(op UnaryOp, alpha, beta float64) error {
	switch {
	case op.BackwardOperand() == NoBackward:
		return fmt.Errorf("%v has no fused gradient (UnaryBackward supports relu, leaky_relu, threshold, clamp, softplus, gelu, sigmoid, tanh and elu); build its gradient from elementwise ops", op)
	case op == Elu && !(alpha >= 0):
		return fmt.Errorf("the elu gradient is computed from the output, which needs alpha >= 0 (got %v); build it from the input with elementwise ops", alpha)
	}
	return nil
}

// CheckUnaryBackward validates a call of Backend.UnaryBackward and returns
// the operand the op reads (x or y; the other may be the zero View): the
// op and its parameters must be supported, and dx, g and that operand
// must share one float dtype and one shape.
func CheckUnaryBackward(name string, op UnaryOp, dx, g, x, y View, alpha, beta float64) (View, error) {
	var a View
	var what string
	switch op.BackwardOperand() {
	case FromInput:
		a, what = x, "the input x"
	case FromOutput:
		a, what = y, "the output y"
	}
	if err := UnaryBackwardSupported(op, alpha, beta); err != nil {
		return View{}, fmt.Errorf("%s: %w", name, err)
	}
	if dx.Buf == nil || g.Buf == nil {
		return View{}, fmt.Errorf("%s of %v: the gradient views dx and g are required", name, op)
	}
	if a.Buf == nil {
		return View{}, fmt.Errorf("%s of %v: the gradient is computed from %s, which is missing", name, op, what)
	}
	dt := dx.Buf.DType()
	if dt != Float32 && dt != Float64 {
		return View{}, fmt.Errorf("%s of %v is not implemented for %v; the gradient needs float32 or float64", name, op, dt)
	}
	if g.Buf.DType() != dt || a.Buf.DType() != dt {
		return View{}, fmt.Errorf("%s of %v: dtypes dx %v, g %v and %s %v differ", name, op, dt, g.Buf.DType(), what, a.Buf.DType())
	}
	if !slices.Equal(g.Shape, dx.Shape) || !slices.Equal(a.Shape, dx.Shape) {
		return View{}, fmt.Errorf("%s of %v: shapes dx %v, g %v and %s %v differ; expand the operands to one shape first", name, op, dx.Shape, g.Shape, what, a.Shape)
	}
	return a, nil
}

// CheckDropout validates the operands of Backend.Dropout: dst and src
// share one float dtype and one shape, and p is a probability.
func CheckDropout(name string, dst, src View, p float64) error {
	if !(p >= 0 && p <= 1) {
		return fmt.Errorf("%s: probability %v is outside [0, 1]", name, p)
	}
	if dst.Buf == nil || src.Buf == nil {
		return fmt.Errorf("%s: the destination and source views are required", name)
	}
	dt := dst.Buf.DType()
	if dt != Float32 && dt != Float64 {
		return fmt.Errorf("%s is not implemented for %v; dropout needs float32 or float64", name, dt)
	}
	if src.Buf.DType() != dt {
		return fmt.Errorf("%s: dtypes %v and %v differ", name, dt, src.Buf.DType())
	}
	if !slices.Equal(src.Shape, dst.Shape) {
		return fmt.Errorf("%s: source shape %v differs from the destination shape %v", name, src.Shape, dst.Shape)
	}
	return nil
}

// DropoutMask returns the two numbers that define dropout with
// probability p: an element is kept when the top 53 bits of its Philox
// draw (u64>>11, as randomValue takes them) are below threshold, and a
// kept element is multiplied by scale = 1/(1-p).
//
// Bernoulli with probability keep = 1-p keeps an element when
// float64(u53)/2^53 < keep. Both sides scale exactly by 2^53, so that is
// u53 < keep·2^53, and for an integer u53 it is u53 < ⌈keep·2^53⌉: the
// same decision as an integer comparison, which costs a GPU thread no
// double-precision work.
func DropoutMask(p float64) (threshold uint64, scale float64) {
	keep := 1 - p
	return uint64(math.Ceil(keep * (1 << 53))), 1 / keep
}
