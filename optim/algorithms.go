package optim

import (
	"math"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/prim"
	"github.com/nabla-go/nabla/tensor"
)

// tensorOps holds the fused optimizer steps, which package tensor keeps
// out of its API.
var tensorOps = prim.TensorOps[*tensor.Tensor, *tensor.Generator]()

// State slot names, as PyTorch's optimizers name them.
const (
	slotMomentum  = "momentum_buffer"
	slotSum       = "sum"
	slotSquareAvg = "square_avg"
	slotGradAvg   = "grad_avg"
	slotExpAvg    = "exp_avg"
	slotExpAvgSq  = "exp_avg_sq"
	slotMaxExpSq  = "max_exp_avg_sq"
)

// SGD returns stochastic gradient descent over params with learning rate
// lr, torch.optim.SGD. It takes the options Momentum, Dampening, Nesterov,
// WeightDecay and Maximize; with g the gradient of parameter p:
//
//	g = g + weight_decay*p
//	buf = g (first step), else momentum*buf + (1-dampening)*g
//	g = g + momentum*buf (Nesterov), else buf        (when momentum != 0)
//	p = p - lr*g
//
// Nesterov needs a momentum > 0 and zero dampening; a bad combination
// panics.
func SGD(params []*autograd.Var, lr float64, opts ...Option) Optimizer {
	return newOptimizer(sgdAlgorithm, params, lr, config{}, opts)
}

var sgdAlgorithm = &algorithm{
	kind:    "SGD",
	options: []string{"Momentum", "Dampening", "Nesterov", "WeightDecay", "Maximize"},
	hypers:  []string{keyMomentum, keyDampening, keyWeightDecay, keyNesterov, keyMaximize},
	check: func(c *config) string {
		msg := firstProblem(nonNegative("momentum", c.momentum), finite("dampening", c.dampening), nonNegative("weight_decay", c.weightDecay))
		if msg == "" && c.nesterov && (c.momentum <= 0 || c.dampening != 0) {
			msg = "Nesterov momentum requires a momentum > 0 and zero dampening"
		}
		return msg
	},
	slots: func(c *config) []string {
		if c.momentum == 0 {
			return nil
		}
		return []string{slotMomentum}
	},
	update: func(c *config, p, g *tensor.Tensor, st *paramState) *tensor.Tensor {
		g = effectiveGrad(c, p, g)
		if c.momentum != 0 {
			buf := st.slots[slotMomentum]
			if buf == nil {
				buf = g.Clone()
				st.slots = map[string]*tensor.Tensor{slotMomentum: buf}
			} else {
				buf = axpy(buf.Mul(c.momentum), 1-c.dampening, g)
				st.slots[slotMomentum] = buf
			}
			if c.nesterov {
				g = axpy(g, c.momentum, buf)
			} else {
				g = buf
			}
		}
		return axpy(p, -c.lr, g)
	},
	fused: sgdFused,
}

// sgdFused is SGD's update as one backend pass (prim's FusedSGDStep).
func sgdFused(c *config, p, g *tensor.Tensor, st *paramState) bool {
	if !tensorOps.CanFuseOptim(p, g) {
		return false
	}
	h := device.OptimHyper{LR: c.lr, WeightDecay: c.weightDecay, Maximize: c.maximize,
		Momentum: c.momentum, Dampening: c.dampening, Nesterov: c.nesterov}
	st.own()
	var buf *tensor.Tensor
	if c.momentum != 0 {
		buf = st.slots[slotMomentum]
		if buf == nil {
			buf = tensor.ZerosLike(p) // overwritten with the gradient
			h.FirstStep = true
		} else if !tensorOps.CanFuseOptim(p, buf) {
			return false
		}
	}
	tensorOps.FusedSGDStep(p, g, buf, h)
	if h.FirstStep {
		st.slots = map[string]*tensor.Tensor{slotMomentum: buf}
	}
	return true
}

// AdaGrad returns the AdaGrad optimizer over params with learning rate lr,
// torch.optim.Adagrad. It takes LRDecay, WeightDecay, InitialAccumulator,
// Eps (default 1e-10) and Maximize; at step t:
//
//	g = g + weight_decay*p
//	clr = lr / (1 + (t-1)*lr_decay)
//	sum = sum + g*g                  (sum starts at initial_accumulator_value)
//	p = p - clr * g / (sqrt(sum) + eps)
func AdaGrad(params []*autograd.Var, lr float64, opts ...Option) Optimizer {
	return newOptimizer(adagradAlgorithm, params, lr, config{eps: 1e-10}, opts)
}

var adagradAlgorithm = &algorithm{
	kind:     "AdaGrad",
	options:  []string{"LRDecay", "WeightDecay", "InitialAccumulator", "Eps", "Maximize"},
	hypers:   []string{keyLRDecay, keyWeightDecay, keyInitAcc, keyEps, keyMaximize},
	usesStep: true,
	check: func(c *config) string {
		return firstProblem(nonNegative("lr_decay", c.lrDecay), nonNegative("weight_decay", c.weightDecay),
			nonNegative("initial_accumulator_value", c.initAcc), nonNegative("eps", c.eps))
	},
	slots: func(*config) []string { return []string{slotSum} },
	update: func(c *config, p, g *tensor.Tensor, st *paramState) *tensor.Tensor {
		if st.slots == nil {
			st.slots = map[string]*tensor.Tensor{slotSum: tensor.FullLike(p, c.initAcc)}
		}
		st.step++
		g = effectiveGrad(c, p, g)
		clr := c.lr / (1 + float64(st.step-1)*c.lrDecay)
		sum := st.slots[slotSum].Add(g.Mul(g))
		st.slots[slotSum] = sum
		std := sum.Sqrt().Add(c.eps)
		return p.Add(g.Mul(-clr).Div(std))
	},
	fused: adagradFused,
}

// adagradFused is AdaGrad's update as one backend pass (prim's
// FusedAdagradStep), with the decayed rate computed here exactly as
// update does.
func adagradFused(c *config, p, g *tensor.Tensor, st *paramState) bool {
	if !fusibleState(p, g, st) {
		return false
	}
	if st.slots != nil && st.slots[slotSum] == nil {
		return false // the sum is missing: update decides
	}
	st.own()
	if st.slots == nil {
		st.slots = map[string]*tensor.Tensor{slotSum: tensor.FullLike(p, c.initAcc)}
	}
	sum := st.slots[slotSum]
	st.step++
	clr := c.lr / (1 + float64(st.step-1)*c.lrDecay)
	h := device.OptimHyper{LR: clr, WeightDecay: c.weightDecay, Maximize: c.maximize, Eps: c.eps}
	tensorOps.FusedAdagradStep(p, g, sum, h)
	return true
}

// RMSProp returns the RMSprop optimizer over params with learning rate lr,
// torch.optim.RMSprop. It takes Alpha (default 0.99), Eps (default 1e-8),
// WeightDecay, Momentum, Centered and Maximize:
//
//	g = g + weight_decay*p
//	v = alpha*v + (1-alpha)*g*g
//	avg = sqrt(v - gavg*gavg) + eps, gavg = alpha*gavg + (1-alpha)*g (Centered)
//	avg = sqrt(v) + eps                                               (otherwise)
//	buf = momentum*buf + g/avg; p = p - lr*buf    (momentum > 0)
//	p = p - lr*g/avg                              (otherwise)
func RMSProp(params []*autograd.Var, lr float64, opts ...Option) Optimizer {
	return newOptimizer(rmspropAlgorithm, params, lr, config{alpha: 0.99, eps: 1e-8}, opts)
}

var rmspropAlgorithm = &algorithm{
	kind:     "RMSProp",
	options:  []string{"Alpha", "Eps", "WeightDecay", "Momentum", "Centered", "Maximize"},
	hypers:   []string{keyAlpha, keyEps, keyWeightDecay, keyMomentum, keyCentered, keyMaximize},
	usesStep: true,
	check: func(c *config) string {
		return firstProblem(nonNegative("alpha", c.alpha), nonNegative("eps", c.eps),
			nonNegative("weight_decay", c.weightDecay), nonNegative("momentum", c.momentum))
	},
	slots: func(c *config) []string {
		s := []string{slotSquareAvg}
		if c.momentum > 0 {
			s = append(s, slotMomentum)
		}
		if c.centered {
			s = append(s, slotGradAvg)
		}
		return s
	},
	update: func(c *config, p, g *tensor.Tensor, st *paramState) *tensor.Tensor {
		rmspropInit(c, p, st)
		st.step++
		g = effectiveGrad(c, p, g)
		sq := st.slots[slotSquareAvg].Mul(c.alpha).Add(g.Mul(1 - c.alpha).Mul(g))
		st.slots[slotSquareAvg] = sq
		var avg *tensor.Tensor
		if c.centered {
			ga := decay(st.slots[slotGradAvg], c.alpha, g)
			st.slots[slotGradAvg] = ga
			avg = sq.Sub(ga.Mul(ga)).Sqrt()
		} else {
			avg = sq.Sqrt()
		}
		avg = avg.Add(c.eps)
		if c.momentum > 0 {
			buf := st.slots[slotMomentum].Mul(c.momentum).Add(g.Div(avg))
			st.slots[slotMomentum] = buf
			return axpy(p, -c.lr, buf)
		}
		return p.Add(g.Mul(-c.lr).Div(avg))
	},
	fused: rmspropFused,
}

// rmspropInit makes RMSProp's state on the first step: zeros of p's shape.
func rmspropInit(c *config, p *tensor.Tensor, st *paramState) {
	if st.slots != nil {
		return
	}
	st.slots = map[string]*tensor.Tensor{slotSquareAvg: tensor.ZerosLike(p)}
	if c.momentum > 0 {
		st.slots[slotMomentum] = tensor.ZerosLike(p)
	}
	if c.centered {
		st.slots[slotGradAvg] = tensor.ZerosLike(p)
	}
}

// rmspropFused is RMSProp's update as one backend pass (prim's
// FusedRMSPropStep).
func rmspropFused(c *config, p, g *tensor.Tensor, st *paramState) bool {
	if !fusibleState(p, g, st) {
		return false
	}
	if st.slots != nil && (st.slots[slotSquareAvg] == nil ||
		c.momentum > 0 && st.slots[slotMomentum] == nil || c.centered && st.slots[slotGradAvg] == nil) {
		return false // a slot the options need is missing: update decides
	}
	st.own()
	rmspropInit(c, p, st)
	st.step++
	h := device.OptimHyper{LR: c.lr, WeightDecay: c.weightDecay, Maximize: c.maximize, Eps: c.eps,
		Alpha: c.alpha, Momentum: c.momentum, Centered: c.centered}
	var buf, gavg *tensor.Tensor
	if c.momentum > 0 {
		buf = st.slots[slotMomentum]
	}
	if c.centered {
		gavg = st.slots[slotGradAvg]
	}
	tensorOps.FusedRMSPropStep(p, g, st.slots[slotSquareAvg], buf, gavg, h)
	return true
}

// fusibleState reports whether the fused steps accept p, g and every
// tensor of st.
func fusibleState(p, g *tensor.Tensor, st *paramState) bool {
	if !tensorOps.CanFuseOptim(p, g) {
		return false
	}
	for _, t := range st.slots {
		if !tensorOps.CanFuseOptim(p, t) {
			return false
		}
	}
	return true
}

// Adam returns the Adam optimizer over params with learning rate lr,
// torch.optim.Adam. It takes Betas (default 0.9, 0.999), Eps (default
// 1e-8), WeightDecay (an L2 penalty added to the gradient), AMSGrad and
// Maximize; at step t:
//
//	g = g + weight_decay*p
//	m = beta1*m + (1-beta1)*g
//	v = beta2*v + (1-beta2)*g*g
//	vmax = max(vmax, v) and v = vmax below     (AMSGrad)
//	p = p - lr/(1-beta1^t) * m / (sqrt(v)/sqrt(1-beta2^t) + eps)
func Adam(params []*autograd.Var, lr float64, opts ...Option) Optimizer {
	return newOptimizer(adamAlgorithm, params, lr, config{beta1: 0.9, beta2: 0.999, eps: 1e-8}, opts)
}

// AdamW returns Adam with decoupled weight decay (Loshchilov & Hutter),
// torch.optim.AdamW. It takes the options of Adam; WeightDecay defaults to
// 0.01 and shrinks the parameter directly, p = p*(1 - lr*weight_decay),
// before the Adam update (which then sees no L2 term).
func AdamW(params []*autograd.Var, lr float64, opts ...Option) Optimizer {
	return newOptimizer(adamwAlgorithm, params, lr, config{beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01}, opts)
}

var adamOptions = []string{"Betas", "Eps", "WeightDecay", "AMSGrad", "Maximize"}
var adamHypers = []string{keyBeta1, keyBeta2, keyEps, keyWeightDecay, keyAMSGrad, keyMaximize}

func adamCheck(c *config) string {
	return firstProblem(nonNegative("eps", c.eps), unitInterval("beta1", c.beta1), unitInterval("beta2", c.beta2),
		nonNegative("weight_decay", c.weightDecay))
}

func adamSlots(c *config) []string {
	if c.amsgrad {
		return []string{slotExpAvg, slotExpAvgSq, slotMaxExpSq}
	}
	return []string{slotExpAvg, slotExpAvgSq}
}

var adamAlgorithm = &algorithm{
	kind:     "Adam",
	options:  adamOptions,
	hypers:   adamHypers,
	usesStep: true,
	check:    adamCheck,
	slots:    adamSlots,
	update: func(c *config, p, g *tensor.Tensor, st *paramState) *tensor.Tensor {
		return adamUpdate(c, p, effectiveGrad(c, p, g), st)
	},
	fused: func(c *config, p, g *tensor.Tensor, st *paramState) bool { return adamFused(c, p, g, st, false) },
}

var adamwAlgorithm = &algorithm{
	kind:     "AdamW",
	options:  adamOptions,
	hypers:   adamHypers,
	usesStep: true,
	check:    adamCheck,
	slots:    adamSlots,
	update: func(c *config, p, g *tensor.Tensor, st *paramState) *tensor.Tensor {
		if c.maximize {
			g = g.Neg()
		}
		if shrink := 1 - c.lr*c.weightDecay; shrink != 1 {
			p = p.Mul(shrink)
		}
		return adamUpdate(c, p, g, st)
	},
	fused: func(c *config, p, g *tensor.Tensor, st *paramState) bool { return adamFused(c, p, g, st, true) },
}

// adamFused is adamUpdate (with Adam's L2 term, or AdamW's decoupled
// decay when decoupled) as one backend pass (prim's FusedAdamStep), with
// the bias corrections computed here exactly as adamUpdate does.
func adamFused(c *config, p, g *tensor.Tensor, st *paramState, decoupled bool) bool {
	if !fusibleState(p, g, st) {
		return false
	}
	st.own()
	if st.slots == nil {
		st.slots = map[string]*tensor.Tensor{slotExpAvg: tensor.ZerosLike(p), slotExpAvgSq: tensor.ZerosLike(p)}
	}
	var vmax *tensor.Tensor
	if c.amsgrad {
		vmax = st.slots[slotMaxExpSq]
		if vmax == nil { // AMSGrad switched on after the state was made
			vmax = tensor.ZerosLike(p)
			st.slots[slotMaxExpSq] = vmax
		}
	} else {
		delete(st.slots, slotMaxExpSq)
	}
	st.step++
	step := float64(st.step)
	bc1 := 1 - math.Pow(c.beta1, step)
	bc2 := 1 - math.Pow(c.beta2, step)
	h := device.OptimHyper{Maximize: c.maximize, Beta1: c.beta1, Beta2: c.beta2, Eps: c.eps,
		StepSize: c.lr / bc1, BC2Sqrt: math.Sqrt(bc2), AMSGrad: c.amsgrad, Shrink: 1}
	if decoupled {
		h.Shrink = 1 - c.lr*c.weightDecay
	} else {
		h.WeightDecay = c.weightDecay
	}
	tensorOps.FusedAdamStep(p, g, st.slots[slotExpAvg], st.slots[slotExpAvgSq], vmax, h)
	return true
}

// adamUpdate is the part Adam and AdamW share, with g the gradient after
// maximize and any L2 term.
func adamUpdate(c *config, p, g *tensor.Tensor, st *paramState) *tensor.Tensor {
	if st.slots == nil {
		st.slots = map[string]*tensor.Tensor{slotExpAvg: tensor.ZerosLike(p), slotExpAvgSq: tensor.ZerosLike(p)}
		if c.amsgrad {
			st.slots[slotMaxExpSq] = tensor.ZerosLike(p)
		}
	}
	st.step++
	m := decay(st.slots[slotExpAvg], c.beta1, g)
	v := st.slots[slotExpAvgSq].Mul(c.beta2).Add(g.Mul(1 - c.beta2).Mul(g))
	st.slots[slotExpAvg], st.slots[slotExpAvgSq] = m, v

	step := float64(st.step)
	bc1 := 1 - math.Pow(c.beta1, step)
	bc2 := 1 - math.Pow(c.beta2, step)
	stepSize := c.lr / bc1
	bc2Sqrt := math.Sqrt(bc2)
	if c.amsgrad {
		vmax := st.slots[slotMaxExpSq]
		if vmax == nil { // AMSGrad switched on after the state was made
			vmax = tensor.ZerosLike(p)
		}
		v = vmax.Maximum(v)
		st.slots[slotMaxExpSq] = v
	} else {
		delete(st.slots, slotMaxExpSq)
	}
	denom := v.Sqrt().Div(bc2Sqrt).Add(c.eps)
	return p.Add(m.Mul(-stepSize).Div(denom))
}
