package backend

import (
	"fmt"
	"math"
	"slices"

	"github.com/nabla-go/nabla/device"
)

// This file holds what both backends share for the two fused training
// primitives of activations: device.Backend.Dropout, which recomputes its mask
// from the Philox counters instead of storing it, and
// device.Backend.UnaryBackward, the one-pass gradient of an activation.

// UnaryBackwardSupported returns nil when UnaryBackward computes the
// gradient of op with these parameters, and otherwise an error that
// names the op and what to do instead.
func UnaryBackwardSupported(op device.UnaryOp, alpha, beta float64) error {
	switch {
	case op.BackwardOperand() == device.NoBackward:
		return fmt.Errorf("%v has no fused gradient (UnaryBackward supports relu, leaky_relu, threshold, clamp, softplus, gelu, sigmoid, tanh and elu); build its gradient from elementwise ops", op)
	case op == device.Elu && !(alpha >= 0):
		return fmt.Errorf("the elu gradient is computed from the output, which needs alpha >= 0 (got %v); build it from the input with elementwise ops", alpha)
	}
	return nil
}

// CheckUnaryBackward validates a call of device.Backend.UnaryBackward and returns
// the operand the op reads (x or y; the other may be the zero View): the
// op and its parameters must be supported, and dx, g and that operand
// must share one float dtype and one shape.
func CheckUnaryBackward(name string, op device.UnaryOp, dx, g, x, y device.View, alpha, beta float64) (device.View, error) {
	var a device.View
	var what string
	switch op.BackwardOperand() {
	case device.FromInput:
		a, what = x, "the input x"
	case device.FromOutput:
		a, what = y, "the output y"
	}
	if err := UnaryBackwardSupported(op, alpha, beta); err != nil {
		return device.View{}, fmt.Errorf("%s: %w", name, err)
	}
	if dx.Buf == nil || g.Buf == nil {
		return device.View{}, fmt.Errorf("%s of %v: the gradient views dx and g are required", name, op)
	}
	if a.Buf == nil {
		return device.View{}, fmt.Errorf("%s of %v: the gradient is computed from %s, which is missing", name, op, what)
	}
	dt := dx.Buf.DType()
	if dt != device.Float32 && dt != device.Float64 {
		return device.View{}, fmt.Errorf("%s of %v is not implemented for %v; the gradient needs float32 or float64", name, op, dt)
	}
	if g.Buf.DType() != dt || a.Buf.DType() != dt {
		return device.View{}, fmt.Errorf("%s of %v: dtypes dx %v, g %v and %s %v differ", name, op, dt, g.Buf.DType(), what, a.Buf.DType())
	}
	if !slices.Equal(g.Shape, dx.Shape) || !slices.Equal(a.Shape, dx.Shape) {
		return device.View{}, fmt.Errorf("%s of %v: shapes dx %v, g %v and %s %v differ; expand the operands to one shape first", name, op, dx.Shape, g.Shape, what, a.Shape)
	}
	return a, nil
}

// CheckDropout validates the operands of device.Backend.Dropout: dst and src
// share one float dtype and one shape, and p is a probability.
func CheckDropout(name string, dst, src device.View, p float64) error {
	if !(p >= 0 && p <= 1) {
		return fmt.Errorf("%s: probability %v is outside [0, 1]", name, p)
	}
	if dst.Buf == nil || src.Buf == nil {
		return fmt.Errorf("%s: the destination and source views are required", name)
	}
	dt := dst.Buf.DType()
	if dt != device.Float32 && dt != device.Float64 {
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
// draw (u64>>11, as RandomValue takes them) are below threshold, and a
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
