package device

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
	// AdagradStep: with sum the state 0 and LR the decayed rate
	// lr / (1 + (t-1)*lr_decay) of step t (computed on the host),
	//
	//	g = -g (Maximize); g = g + p*WeightDecay (when not 0)
	//	sum = sum + g*g
	//	p = p + (g*(-LR)) / (sqrt(sum) + Eps)
	AdagradStep
	// RMSPropStep: with v, buf and gavg the states 0, 1 and 2,
	//
	//	g = -g (Maximize); g = g + p*WeightDecay (when not 0)
	//	v = v*Alpha + (g*(1-Alpha))*g
	//	gavg = gavg*Alpha + g*(1-Alpha); avg = sqrt(v - gavg*gavg) + Eps  (Centered)
	//	avg = sqrt(v) + Eps                                                  (otherwise)
	//	buf = buf*Momentum + g/avg; p = p + buf*(-LR)    (Momentum != 0)
	//	p = p + (g*(-LR)) / avg                          (otherwise)
	RMSPropStep
	numOptimOps
)

var optimNames = [...]string{"sgd_step", "adam_step", "adagrad_step", "rmsprop_step"}

// String is the op's kernel name stem.
func (op OptimOp) String() string {
	if op < numOptimOps {
		return optimNames[op]
	}
	return "optim?"
}

// Valid reports whether op is one of the defined optimizer updates.
func (op OptimOp) Valid() bool { return op < numOptimOps }

// OptimHyper holds the scalars of one OptimStep, computed on the host in
// float64 (bias corrections included). Each is rounded to the parameter's
// dtype before use, and every operation is rounded separately (no fused
// multiply-add), so the result equals the unfused chain of tensor ops.
type OptimHyper struct {
	LR          float64 // learning rate (SGDStep, RMSPropStep; AdagradStep: the decayed rate of this step)
	WeightDecay float64 // L2 term added to the gradient; 0 for none
	Maximize    bool    // ascend: negate the gradient first
	Eps         float64 // term added to the denominator (AdamStep, AdagradStep, RMSPropStep)

	Momentum  float64 // SGDStep, RMSPropStep; 0 for none (no momentum buffer)
	Dampening float64 // SGDStep
	Nesterov  bool    // SGDStep
	FirstStep bool    // SGDStep: the momentum buffer starts as the gradient

	Alpha    float64 // RMSPropStep: smoothing constant of the running averages
	Centered bool    // RMSPropStep: keep the running average of the gradient in state 2

	Beta1, Beta2 float64 // AdamStep
	StepSize     float64 // AdamStep: LR / (1 - Beta1^t)
	BC2Sqrt      float64 // AdamStep: sqrt(1 - Beta2^t)
	Shrink       float64 // AdamStep: decoupled decay factor 1 - LR*decay; 1 for none
	AMSGrad      bool    // AdamStep: keep the running maximum of v in state 2
}
