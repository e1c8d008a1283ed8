package backend

import (
	"fmt"

	"github.com/nabla-go/nabla/device"
)

// OptimStates returns which of the three state views op reads and writes
// under h.
func OptimStates(op device.OptimOp, h device.OptimHyper) (need [3]bool) {
	switch op {
	case device.SGDStep:
		need[0] = h.Momentum != 0
	case device.AdamStep:
		need[0], need[1], need[2] = true, true, h.AMSGrad
	case device.AdagradStep:
		need[0] = true
	case device.RMSPropStep:
		need[0], need[1], need[2] = true, h.Momentum != 0, h.Centered
	}
	return need
}

// CheckOptim validates the operands of device.Backend.OptimStep: p, g and the
// states op uses are contiguous views of one shape and float dtype.
func CheckOptim(name string, op device.OptimOp, p, g device.View, s [3]device.View, h device.OptimHyper) error {
	if !op.Valid() {
		return fmt.Errorf("%s: unknown optimizer op %d", name, op)
	}
	dt := p.Buf.DType()
	if dt != device.Float32 && dt != device.Float64 {
		return fmt.Errorf("%s is not implemented for %v", name, dt)
	}
	check := func(what string, v device.View) error {
		if v.Buf == nil {
			return fmt.Errorf("%s: %s is missing", name, what)
		}
		if v.Buf.DType() != dt {
			return fmt.Errorf("%s: %s has dtype %v, the parameter %v", name, what, v.Buf.DType(), dt)
		}
		if !v.IsContiguous() || v.Numel() != p.Numel() || v.Rank() != p.Rank() {
			return fmt.Errorf("%s: %s (shape %v) must be contiguous and of the parameter's shape %v", name, what, v.Shape, p.Shape)
		}
		for i := range v.Shape {
			if v.Shape[i] != p.Shape[i] {
				return fmt.Errorf("%s: %s has shape %v, the parameter %v", name, what, v.Shape, p.Shape)
			}
		}
		return nil
	}
	if err := check("the parameter", p); err != nil {
		return err
	}
	if err := check("the gradient", g); err != nil {
		return err
	}
	for i, need := range OptimStates(op, h) {
		if need {
			if err := check(fmt.Sprintf("state %d", i), s[i]); err != nil {
				return err
			}
		}
	}
	return nil
}
