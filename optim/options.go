package optim

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/nabla-go/nabla/tensor"
)

// config holds every hyperparameter of every optimizer; each optimizer
// reads the ones it uses. It is a plain value, so that loading a state dict
// can change a copy, validate it and only then commit it.
type config struct {
	lr          float64
	momentum    float64
	dampening   float64
	weightDecay float64
	nesterov    bool
	maximize    bool
	lrDecay     float64 // AdaGrad
	initAcc     float64 // AdaGrad initial_accumulator_value
	eps         float64
	alpha       float64 // RMSProp smoothing constant
	centered    bool
	beta1       float64
	beta2       float64
	amsgrad     bool

	given []string // the options passed to the constructor, for the applicability check
}

// Option sets a hyperparameter of an optimizer, as a keyword argument does
// in PyTorch: optim.SGD(params, 0.1, optim.Momentum(0.9), optim.Nesterov()).
// An optimizer given an option it does not take panics and lists the ones
// it does. The zero Option is invalid.
type Option struct {
	name  string
	apply func(*config)
}

func option(name string, set func(*config)) Option { return Option{name: name, apply: set} }

// Momentum sets the momentum factor of SGD and RMSProp (default 0).
func Momentum(m float64) Option { return option("Momentum", func(c *config) { c.momentum = m }) }

// Dampening sets SGD's dampening for momentum (default 0): the buffer is
// updated as buf = momentum*buf + (1-dampening)*grad.
func Dampening(d float64) Option { return option("Dampening", func(c *config) { c.dampening = d }) }

// Nesterov enables Nesterov momentum in SGD. It needs a momentum > 0 and
// zero dampening.
func Nesterov() Option { return option("Nesterov", func(c *config) { c.nesterov = true }) }

// WeightDecay sets the weight decay of any optimizer. For SGD, AdaGrad,
// RMSProp and Adam it is an L2 penalty added to the gradient
// (grad + wd*param); for AdamW it is decoupled (param *= 1 - lr*wd) and
// defaults to 0.01 instead of 0.
func WeightDecay(wd float64) Option {
	return option("WeightDecay", func(c *config) { c.weightDecay = wd })
}

// Maximize makes any optimizer maximise the objective instead of
// minimising it (it steps along the gradient).
func Maximize() Option { return option("Maximize", func(c *config) { c.maximize = true }) }

// Eps sets the term added to the denominator for numerical stability of
// AdaGrad (default 1e-10), RMSProp, Adam and AdamW (default 1e-8).
func Eps(eps float64) Option { return option("Eps", func(c *config) { c.eps = eps }) }

// Alpha sets RMSProp's smoothing constant (default 0.99).
func Alpha(a float64) Option { return option("Alpha", func(c *config) { c.alpha = a }) }

// Centered makes RMSProp normalise the gradient by an estimate of its
// variance instead of its second moment.
func Centered() Option { return option("Centered", func(c *config) { c.centered = true }) }

// Betas sets the decay rates of Adam's and AdamW's running averages of the
// gradient and its square (default 0.9 and 0.999).
func Betas(beta1, beta2 float64) Option {
	return option("Betas", func(c *config) { c.beta1, c.beta2 = beta1, beta2 })
}

// AMSGrad makes Adam and AdamW use the maximum of past squared-gradient
// averages (the AMSGrad variant).
func AMSGrad() Option { return option("AMSGrad", func(c *config) { c.amsgrad = true }) }

// LRDecay sets AdaGrad's learning-rate decay (default 0): step t uses
// lr / (1 + (t-1)*lrDecay).
func LRDecay(d float64) Option { return option("LRDecay", func(c *config) { c.lrDecay = d }) }

// InitialAccumulator sets the starting value of AdaGrad's sum of squared
// gradients (default 0).
func InitialAccumulator(v float64) Option {
	return option("InitialAccumulator", func(c *config) { c.initAcc = v })
}

// applyOptions applies opts to c and panics, naming op, when one of them
// is not among those op takes.
func applyOptions(op string, c *config, allowed []string, opts []Option) {
	for _, o := range opts {
		if o.apply == nil {
			argPanic(op, "the zero Option is not an option; use the constructors (Momentum, WeightDecay, ...)")
		}
		o.apply(c)
		c.given = append(c.given, o.name)
	}
	for _, name := range c.given {
		if !slices.Contains(allowed, name) {
			argPanic(op, fmt.Sprintf("the option %s does not apply to %s (it takes %s)", name, strings.TrimPrefix(op, "optim."), strings.Join(allowed, ", ")))
		}
	}
	c.given = nil
}

// argPanic panics with a *tensor.Error wrapping tensor.ErrArgument, the
// project's panic value for misuse.
func argPanic(op, msg string) {
	panic(&tensor.Error{Op: op, Kind: tensor.ErrArgument, Msg: msg})
}

// hyperparameter names in state dicts, as PyTorch's param_groups spell them.
const (
	keyLR          = "lr"
	keyMomentum    = "momentum"
	keyDampening   = "dampening"
	keyWeightDecay = "weight_decay"
	keyNesterov    = "nesterov"
	keyMaximize    = "maximize"
	keyLRDecay     = "lr_decay"
	keyInitAcc     = "initial_accumulator_value"
	keyEps         = "eps"
	keyAlpha       = "alpha"
	keyCentered    = "centered"
	keyBeta1       = "beta1"
	keyBeta2       = "beta2"
	keyAMSGrad     = "amsgrad"
)

// floatField and boolField return a pointer to the hyperparameter called
// name, or nil.
func (c *config) floatField(name string) *float64 {
	switch name {
	case keyLR:
		return &c.lr
	case keyMomentum:
		return &c.momentum
	case keyDampening:
		return &c.dampening
	case keyWeightDecay:
		return &c.weightDecay
	case keyLRDecay:
		return &c.lrDecay
	case keyInitAcc:
		return &c.initAcc
	case keyEps:
		return &c.eps
	case keyAlpha:
		return &c.alpha
	case keyBeta1:
		return &c.beta1
	case keyBeta2:
		return &c.beta2
	}
	return nil
}

func (c *config) boolField(name string) *bool {
	switch name {
	case keyNesterov:
		return &c.nesterov
	case keyMaximize:
		return &c.maximize
	case keyCentered:
		return &c.centered
	case keyAMSGrad:
		return &c.amsgrad
	}
	return nil
}

// get returns the hyperparameter called name as a float64 (booleans as 0
// or 1).
func (c *config) get(name string) float64 {
	if f := c.floatField(name); f != nil {
		return *f
	}
	if b := c.boolField(name); b != nil && *b {
		return 1
	}
	return 0
}

// set stores the hyperparameter called name; booleans must be 0 or 1.
func (c *config) set(name string, v float64) error {
	if f := c.floatField(name); f != nil {
		*f = v
		return nil
	}
	if b := c.boolField(name); b != nil {
		switch v {
		case 0:
			*b = false
		case 1:
			*b = true
		default:
			return fmt.Errorf("%q is a flag and must be 0 or 1, got %v", name, v)
		}
		return nil
	}
	return fmt.Errorf("unknown hyperparameter %q", name)
}

// checkers for hyperparameter values; each returns "" when v is valid.

func nonNegative(name string, v float64) string {
	if !(v >= 0) || math.IsInf(v, 1) {
		return fmt.Sprintf("invalid %s %v: it must be a finite number >= 0", name, v)
	}
	return ""
}

func unitInterval(name string, v float64) string {
	if !(v >= 0 && v < 1) {
		return fmt.Sprintf("invalid %s %v: it must be in [0, 1)", name, v)
	}
	return ""
}

func finite(name string, v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprintf("invalid %s %v: it must be finite", name, v)
	}
	return ""
}

// firstProblem returns the first non-empty message.
func firstProblem(msgs ...string) string {
	for _, m := range msgs {
		if m != "" {
			return m
		}
	}
	return ""
}
