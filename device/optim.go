package device

import "fmt"

// OptimOp selects the update of Backend.OptimStep.
type OptimOp uint8

// Fused optimizer updates.
const (
	// SGDStep: with g the gradient and buf the momentum buffer (state 0),
	//
	//	g = -g (Maximize); g = g + p*WeightDecay (when not 0)
	//	buf = g (FirstStep), else buf*Momentum + g*(1-Dampening)  (Momentum != 0)
	//	g = g + buf*Momentum (Nesterov), else buf                  (Momentum != 0)
	//	p = p + g*(-LR)
	SGDStep OptimOp = iota
	// AdamStep: with m, v and vmax the states 0, 1 and 2,
	//
	//	g = -g (Maximize); g = g + p*WeightDecay (when not 0, Adam's L2 term)
	//	p = p*Shrink (when not 1, AdamW's decoupled decay)
	//	m = m*Beta1 + g*(1-Beta1)
	//	v = v*Beta2 + (g*(1-Beta2))*g
	//	vmax = max(vmax, v) and v = vmax below (AMSGrad)
	//	p = p + (m*(-StepSize)) / (sqrt(v)/BC2Sqrt + Eps)
	AdamStep
	numOptimOps
)

var optimNames = [...]string{"sgd_step", "adam_step"}

// String is the op's kernel name stem.
func (op OptimOp) String() string {
	if op < numOptimOps {
		return optimNames[op]
	}
	return "optim?"
}

// OptimHyper holds the scalars of one OptimStep, computed on the host in
// float64 (bias corrections included). Each is rounded to the parameter's
// dtype before use, and every operation is rounded separately (no fused
// multiply-add), so the result equals the unfused chain of tensor ops.
type OptimHyper struct {
	LR          float64 // learning rate (SGDStep)
	WeightDecay float64 // L2 term added to the gradient; 0 for none
	Maximize    bool    // ascend: negate the gradient first

	Momentum, Dampening float64 // SGDStep
	Nesterov            bool    // SGDStep
	FirstStep           bool    // SGDStep: the momentum buffer starts as the gradient

	Beta1, Beta2, Eps float64 // AdamStep
	StepSize          float64 // AdamStep: LR / (1 - Beta1^t)
	BC2Sqrt           float64 // AdamStep: sqrt(1 - Beta2^t)
	Shrink            float64 // AdamStep: decoupled decay factor 1 - LR*decay; 1 for none
	AMSGrad           bool    // AdamStep: keep the running maximum of v in state 2
}

// OptimStates returns which of the three state views op reads and writes
// under h.
func OptimStates(op OptimOp, h OptimHyper) (need [3]bool) {
	switch op {
	case SGDStep:
		need[0] = h.Momentum != 0
	case AdamStep:
		need[0], need[1], need[2] = true, true, h.AMSGrad
	}
	return need
}

// CheckOptim validates the operands of Backend.OptimStep: p, g and the
// states op uses are contiguous views of one shape and float dtype.
func CheckOptim(name string, op OptimOp, p, g View, s [3]View, h OptimHyper) error {
	if op >= numOptimOps {
		return fmt.Errorf("%s: unknown optimizer op %d", name, op)
	}
	dt := p.Buf.DType()
	if dt != Float32 && dt != Float64 {
		return fmt.Errorf("%s is not implemented for %v", name, dt)
	}
	check := func(what string, v View) error {
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
