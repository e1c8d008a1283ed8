package backend

import (
	"fmt"
	"slices"

	"github.com/nabla-go/nabla/device"
)

// bnOperand is one operand of a batch-norm primitive as its validation
// sees it: the name used in errors and whether the zero View is allowed.
type bnOperand struct {
	name     string
	v        device.View
	optional bool
}

// CheckBatchNormStats validates the operands of device.Backend.BatchNormStats:
// x is an [N, C, L] float view and mean and variance are [C] views of its
// dtype. Backends call it before they touch memory.
func CheckBatchNormStats(op string, mean, variance, x device.View) error {
	return checkBatchNorm(op, bnOperand{name: "x", v: x}, nil,
		[]bnOperand{{name: "mean", v: mean}, {name: "variance", v: variance}})
}

// CheckBatchNormForward validates the operands of
// device.Backend.BatchNormForward: y, x and (unless it is the zero View) xhat are
// [N, C, L] views of one float dtype; mean and invstd are [C] views, and so
// are weight and bias unless they are the zero View.
func CheckBatchNormForward(op string, y, xhat, x, mean, invstd, weight, bias device.View) error {
	return checkBatchNorm(op, bnOperand{name: "x", v: x},
		[]bnOperand{{name: "y", v: y}, {name: "xhat", v: xhat, optional: true}},
		[]bnOperand{{name: "mean", v: mean}, {name: "invstd", v: invstd},
			{name: "weight", v: weight, optional: true}, {name: "bias", v: bias, optional: true}})
}

// CheckBatchNormBackward validates the operands of
// device.Backend.BatchNormBackward: g, xhat and (unless it is the zero View) dx
// are [N, C, L] views of one float dtype; invstd is a [C] view, and so are
// weight, dweight and dbias unless they are the zero View.
func CheckBatchNormBackward(op string, dx, dweight, dbias, g, xhat, invstd, weight device.View) error {
	return checkBatchNorm(op, bnOperand{name: "g", v: g},
		[]bnOperand{{name: "xhat", v: xhat}, {name: "dx", v: dx, optional: true}},
		[]bnOperand{{name: "invstd", v: invstd}, {name: "weight", v: weight, optional: true},
			{name: "dweight", v: dweight, optional: true}, {name: "dbias", v: dbias, optional: true}})
}

// checkBatchNorm checks that lead is an [N, C, L] float view, that every
// plane operand has its shape and every vector operand is [C], all of
// lead's dtype; optional operands may be the zero View.
func checkBatchNorm(op string, lead bnOperand, planes, vecs []bnOperand) error {
	x := lead.v
	if x.Buf == nil {
		return fmt.Errorf("%s: the %s operand is missing", op, lead.name)
	}
	if x.Rank() != 3 || len(x.Strides) != 3 {
		return fmt.Errorf("%s: %s must be an [N, C, L] view (batch, channel, positions), got shape %v with strides %v; reshape it first",
			op, lead.name, x.Shape, x.Strides)
	}
	dt := x.Buf.DType()
	if dt != device.Float32 && dt != device.Float64 {
		return fmt.Errorf("%s is not implemented for %v (%s); use float32 or float64", op, dt, lead.name)
	}
	check := func(o bnOperand, want []int) error {
		if o.v.Buf == nil {
			if o.optional {
				return nil
			}
			return fmt.Errorf("%s: the %s operand is missing", op, o.name)
		}
		if o.v.Buf.DType() != dt {
			return fmt.Errorf("%s: %s is %v but %s is %v; convert one of them", op, o.name, o.v.Buf.DType(), lead.name, dt)
		}
		if !slices.Equal(o.v.Shape, want) || len(o.v.Strides) != len(want) {
			return fmt.Errorf("%s: %s has shape %v (strides %v), want %v for %s of shape %v",
				op, o.name, o.v.Shape, o.v.Strides, want, lead.name, x.Shape)
		}
		return nil
	}
	for _, o := range planes {
		if err := check(o, x.Shape); err != nil {
			return err
		}
	}
	for _, o := range vecs {
		if err := check(o, x.Shape[1:2]); err != nil {
			return err
		}
	}
	return nil
}
