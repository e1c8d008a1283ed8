package optim

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/device/cpu"
	"github.com/nabla-go/nabla/tensor"
)

// Optimizer updates a fixed list of parameters from their gradients, like
// torch.optim.Optimizer with one parameter group.
type Optimizer interface {
	// Step updates every parameter that has a gradient, in place; the
	// parameters without one are skipped.
	Step()
	// ZeroGrad clears the gradient of every parameter (PyTorch's
	// zero_grad(set_to_none=True)).
	ZeroGrad()
	// LR returns the current learning rate.
	LR() float64
	// SetLR changes the learning rate; the schedules use it. It panics
	// when lr is negative, not finite, or too large for the parameters'
	// dtype (above 3.4e38 for float32 parameters).
	SetLR(lr float64)
	// Params returns the parameters, in the order their state is indexed.
	Params() []*autograd.Var
	// StateDict returns the optimizer's state: the per-parameter tensors,
	// step counts and hyperparameters. It is a snapshot: later steps do
	// not change it.
	StateDict() StateDict
	// LoadStateDict replaces the optimizer's state and hyperparameters
	// (learning rate included) with sd, which must come from an optimizer
	// of the same kind over parameters of the same shapes, with valid
	// values: hyperparameters in their ranges, state tensors finite, sums
	// and averages of squared gradients non-negative. State tensors are
	// moved to each parameter's device and dtype. On error the optimizer
	// is unchanged.
	LoadStateDict(sd StateDict) error
}

// paramState is the state of one parameter: its step count and its named
// tensors (nil until the parameter's first update).
type paramState struct {
	step  int64
	slots map[string]*tensor.Tensor
	// shared marks slots handed out by StateDict: the fused updates,
	// which write the slots in place, replace them with copies first.
	shared bool
}

// own replaces slots that StateDict handed out with private copies, so
// they can be updated in place.
func (st *paramState) own() {
	if !st.shared {
		return
	}
	for name, t := range st.slots {
		st.slots[name] = t.Clone()
	}
	st.shared = false
}

// algorithm describes one optimizer: its name, the options and
// hyperparameters it takes, the state it keeps and its update rule.
type algorithm struct {
	kind     string
	options  []string // Option names the constructor accepts
	hypers   []string // state-dict hyperparameter keys besides "lr"
	usesStep bool     // whether the state counts steps ("state.<i>.step")
	// check returns a description of the first invalid hyperparameter,
	// or "".
	check func(c *config) string
	// slots lists the state tensors a parameter with state has under c.
	slots func(c *config) []string
	// update returns the parameter's new value from its value p and
	// gradient g, updating st (whose slots it creates on first use).
	update func(c *config, p, g *tensor.Tensor, st *paramState) *tensor.Tensor
	// fused, when set, tries the same update as one backend pass that
	// writes p and the state in place (prim's FusedSGDStep,
	// FusedAdamStep, FusedAdagradStep and FusedRMSPropStep); it reports
	// false, having changed nothing that update would not, when the
	// tensors do not allow it (a non-contiguous parameter, gradient or
	// state), and update runs.
	fused func(c *config, p, g *tensor.Tensor, st *paramState) bool
}

// optimizer implements Optimizer for every algorithm.
type optimizer struct {
	algo   *algorithm
	params []*autograd.Var
	cfg    config
	state  []paramState
	// initialLR is the learning rate when the first schedule was attached
	// (PyTorch's param_group["initial_lr"]), the base rate of every
	// schedule on the optimizer; hasInitialLR says whether it is set.
	initialLR    float64
	hasInitialLR bool
}

// newOptimizer checks the parameters and the options and builds an
// optimizer; defaults holds the algorithm's default hyperparameters.
func newOptimizer(a *algorithm, params []*autograd.Var, lr float64, defaults config, opts []Option) *optimizer {
	op := "optim." + a.kind
	if len(params) == 0 {
		argPanic(op, "got an empty parameter list")
	}
	seen := make(map[*autograd.Var]int, len(params))
	for i, p := range params {
		switch {
		case p == nil:
			argPanic(op, fmt.Sprintf("parameter %d is nil", i))
		case !p.IsLeaf():
			argPanic(op, fmt.Sprintf("parameter %d is not a leaf: only Params (and Consts) can be optimized, not results of operations", i))
		case !p.DType().IsFloat():
			argPanic(op, fmt.Sprintf("parameter %d has dtype %v; optimizers need float32 or float64 parameters", i, p.DType()))
		}
		if j, dup := seen[p]; dup {
			argPanic(op, fmt.Sprintf("parameter %d appears twice (also at %d)", i, j))
		}
		seen[p] = i
	}
	cfg := defaults
	cfg.lr = lr
	applyOptions(op, &cfg, a.options, opts)
	o := &optimizer{
		algo:   a,
		params: slices.Clone(params),
		cfg:    cfg,
		state:  make([]paramState, len(params)),
	}
	if msg := firstProblem(nonNegative("learning rate", lr), a.check(&cfg), o.representable(&cfg)); msg != "" {
		argPanic(op, msg)
	}
	return o
}

// Step implements Optimizer.
func (o *optimizer) Step() {
	for i, v := range o.params {
		g := v.Grad()
		if g == nil {
			continue
		}
		p := v.Detach()
		o.fitState(i, p)
		if o.algo.fused != nil && o.algo.fused(&o.cfg, p, g, &o.state[i]) {
			continue
		}
		p.CopyFrom(o.algo.update(&o.cfg, p, g, &o.state[i]))
	}
}

// fitState moves parameter i's state to the parameter's device and dtype
// (the parameter may have been moved with SetData since the state was
// made) and panics when the shapes no longer agree.
func (o *optimizer) fitState(i int, p *tensor.Tensor) {
	for name, t := range o.state[i].slots {
		if !slices.Equal(t.Shape(), p.Shape()) {
			panic(&tensor.Error{Op: "optim." + o.algo.kind + ".Step", Kind: tensor.ErrShape,
				Msg: fmt.Sprintf("parameter %d has shape %v but its %s has shape %v; was the parameter replaced after the optimizer was made?", i, p.Shape(), name, t.Shape())})
		}
		if t.Device() != p.Device() || t.DType() != p.DType() {
			o.state[i].slots[name] = t.As(p.DType()).To(p.Device())
		}
	}
}

// ZeroGrad implements Optimizer.
func (o *optimizer) ZeroGrad() {
	for _, v := range o.params {
		v.ZeroGrad()
	}
}

// LR implements Optimizer.
func (o *optimizer) LR() float64 { return o.cfg.lr }

// SetLR implements Optimizer.
func (o *optimizer) SetLR(lr float64) {
	c := o.cfg
	c.lr = lr
	if msg := firstProblem(nonNegative("learning rate", lr), o.representable(&c)); msg != "" {
		argPanic("optim."+o.algo.kind+".SetLR", msg)
	}
	o.cfg.lr = lr
}

// Params implements Optimizer.
func (o *optimizer) Params() []*autograd.Var { return slices.Clone(o.params) }

// String describes the optimizer and its hyperparameters, like PyTorch's
// repr of an optimizer.
func (o *optimizer) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s(lr=%v", o.algo.kind, o.cfg.lr)
	for _, h := range o.algo.hypers {
		if f := o.cfg.floatField(h); f != nil {
			fmt.Fprintf(&b, ", %s=%v", h, *f)
		} else {
			fmt.Fprintf(&b, ", %s=%v", h, *o.cfg.boolField(h))
		}
	}
	fmt.Fprintf(&b, ", params=%d)", len(o.params))
	return b.String()
}

// state-dict keys that are not hyperparameters.
const (
	keyParams    = "params"
	keyStep      = "step"
	statePrefix  = "state."
	maxStepCount = 1 << 53 // step counts travel as float64
)

// StateDict implements Optimizer.
func (o *optimizer) StateDict() StateDict {
	sd := StateDict{
		Kind:    o.algo.kind,
		Tensors: map[string]*tensor.Tensor{},
		Scalars: map[string]float64{keyParams: float64(len(o.params)), keyLR: o.cfg.lr},
	}
	for _, h := range o.algo.hypers {
		sd.Scalars[h] = o.cfg.get(h)
	}
	for i, st := range o.state {
		if st.slots == nil {
			continue
		}
		prefix := statePrefix + strconv.Itoa(i) + "."
		if o.algo.usesStep {
			sd.Scalars[prefix+keyStep] = float64(st.step)
		}
		for name, t := range st.slots {
			sd.Tensors[prefix+name] = t
		}
		// The dict holds these tensors now: a fused update must copy them
		// before it writes in place, so the dict stays a snapshot.
		o.state[i].shared = true
	}
	return sd
}

// LoadStateDict implements Optimizer. Besides the structure of sd it
// checks its values: hyperparameters in their ranges and representable in
// the parameters' dtype, state tensors finite, the running sums and
// averages of squared gradients non-negative and AMSGrad's maximum at
// least the average it bounds.
func (o *optimizer) LoadStateDict(sd StateDict) error { return o.loadStateDict(sd, false, false) }

// loadStateDict implements LoadStateDict. owned says that sd's tensors
// belong to the caller alone (a file's loader), so that those already on
// the parameter's device and dtype are kept rather than copied;
// allowNonFinite accepts NaN and infinite state (LoadCheckpoint's
// AllowNonFinite).
func (o *optimizer) loadStateDict(sd StateDict, owned, allowNonFinite bool) error {
	cfg, state, err := o.parseState(sd, owned, allowNonFinite)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrState, o.algo.kind, err)
	}
	o.cfg, o.state = cfg, state
	return nil
}

// parseState validates sd against the optimizer and returns the
// hyperparameters and state it describes, without changing o.
func (o *optimizer) parseState(sd StateDict, owned, allowNonFinite bool) (config, []paramState, error) {
	a := o.algo
	if sd.Kind != a.kind {
		return config{}, nil, fmt.Errorf("the state dict is from %s, not %s", describeKind(sd.Kind), a.kind)
	}
	n, ok := sd.Scalars[keyParams]
	if !ok {
		return config{}, nil, fmt.Errorf("the state dict has no %q entry", keyParams)
	}
	if n != float64(len(o.params)) {
		return config{}, nil, fmt.Errorf("the state dict is for %v parameters, the optimizer has %d", n, len(o.params))
	}

	cfg := o.cfg
	for _, h := range append([]string{keyLR}, a.hypers...) {
		v, ok := sd.Scalars[h]
		if !ok {
			return config{}, nil, fmt.Errorf("the state dict has no hyperparameter %q", h)
		}
		if err := cfg.set(h, v); err != nil {
			return config{}, nil, err
		}
	}
	if msg := firstProblem(nonNegative("learning rate", cfg.lr), a.check(&cfg), o.representable(&cfg)); msg != "" {
		return config{}, nil, fmt.Errorf("%s", msg)
	}
	slotNames := a.slots(&cfg)

	state := make([]paramState, len(o.params))
	hasStep := make([]bool, len(o.params))
	for _, key := range sortedKeys(sd.Scalars) {
		v := sd.Scalars[key]
		if key == keyParams || key == keyLR || slices.Contains(a.hypers, key) {
			continue
		}
		i, name, ok := parseStateKey(key, len(o.params))
		if !ok || name != keyStep || !a.usesStep {
			return config{}, nil, fmt.Errorf("unexpected scalar %q", key)
		}
		if !(v >= 1 && v <= maxStepCount) || v != math.Trunc(v) {
			return config{}, nil, fmt.Errorf("%q is %v, not a step count", key, v)
		}
		state[i].step, hasStep[i] = int64(v), true
	}
	for _, key := range sortedKeys(sd.Tensors) {
		t := sd.Tensors[key]
		i, name, ok := parseStateKey(key, len(o.params))
		if !ok || !slices.Contains(slotNames, name) {
			return config{}, nil, fmt.Errorf("unexpected tensor %q (a parameter's state here holds %s)", key, describeSlots(slotNames))
		}
		p := o.params[i].Detach()
		if t == nil {
			return config{}, nil, fmt.Errorf("tensor %q is nil", key)
		}
		if !slices.Equal(t.Shape(), p.Shape()) {
			return config{}, nil, fmt.Errorf("tensor %q has shape %v, parameter %d has shape %v", key, t.Shape(), i, p.Shape())
		}
		if !t.DType().IsFloat() {
			return config{}, nil, fmt.Errorf("tensor %q has dtype %v; optimizer state is float32 or float64", key, t.DType())
		}
		bad, err := badValue(t, allowNonFinite, squaredSlots[name])
		if err != nil {
			return config{}, nil, fmt.Errorf("tensor %q: %w", key, err)
		}
		if bad != "" {
			what := "is not finite"
			if squaredSlots[name] {
				what = "is not a finite non-negative number, as an average or sum of squares must be"
			}
			return config{}, nil, fmt.Errorf("tensor %q %s: %s", key, what, bad)
		}
		var moved *tensor.Tensor
		if err := tensor.Catch(func() {
			moved = t.As(p.DType()).To(p.Device())
			if moved == t && !owned {
				moved = t.Clone() // the optimizer must not share memory with the caller's dict
			}
		}); err != nil {
			return config{}, nil, fmt.Errorf("tensor %q: %w", key, err)
		}
		if state[i].slots == nil {
			state[i].slots = map[string]*tensor.Tensor{}
		}
		state[i].slots[name] = moved
	}
	for i := range state {
		have := len(state[i].slots)
		switch {
		case a.usesStep && hasStep[i] && have != len(slotNames):
			return config{}, nil, fmt.Errorf("parameter %d has a step count but not all of its state (%s)", i, describeSlots(slotNames))
		case a.usesStep && !hasStep[i] && have > 0:
			return config{}, nil, fmt.Errorf("parameter %d has state tensors but no %q", i, statePrefix+strconv.Itoa(i)+"."+keyStep)
		}
		if vmax, v := state[i].slots[slotMaxExpSq], state[i].slots[slotExpAvgSq]; vmax != nil && v != nil {
			// AMSGrad stores max(vmax, v) after updating v: never less.
			var below bool
			if err := tensor.Catch(func() { below = vmax.Lt(v).As(tensor.Float32).Max().Item() != 0 }); err != nil {
				return config{}, nil, fmt.Errorf("parameter %d: %w", i, err)
			}
			if below {
				return config{}, nil, fmt.Errorf("%q is below %q somewhere, but AMSGrad keeps the maximum of the averages: the state was altered",
					statePrefix+strconv.Itoa(i)+"."+slotMaxExpSq, statePrefix+strconv.Itoa(i)+"."+slotExpAvgSq)
			}
		}
	}
	return cfg, state, nil
}

// squaredSlots are the state slots that hold averages or sums of squared
// gradients (plus AdaGrad's non-negative initial value): a negative
// element can only come from a damaged or altered state, and would make
// the update take the square root of a negative number.
var squaredSlots = map[string]bool{slotSum: true, slotSquareAvg: true, slotExpAvgSq: true, slotMaxExpSq: true}

// representable reports a float hyperparameter that the parameters'
// dtype cannot hold: the updates of float32 parameters compute in float32,
// where a learning rate of 1e308 is infinite.
func (o *optimizer) representable(c *config) string {
	f32 := false
	for _, p := range o.params {
		f32 = f32 || p.DType() == tensor.Float32
	}
	if !f32 {
		return ""
	}
	for _, h := range append([]string{keyLR}, o.algo.hypers...) {
		if f := c.floatField(h); f != nil && math.Abs(*f) > math.MaxFloat32 {
			return fmt.Sprintf("invalid %s %v: the parameters are float32, which cannot hold it (at most %v)", h, *f, float32(math.MaxFloat32))
		}
	}
	return ""
}

// badValue describes the first element of a float tensor that is not
// finite (unless allowNonFinite) or, with nonNegative, is negative; ""
// when there is none. A contiguous CPU tensor is scanned where it lies;
// on another device the test runs there, so that the tensor comes to the
// host only when it holds a bad value.
func badValue(t *tensor.Tensor, allowNonFinite, nonNegative bool) (desc string, err error) {
	if t.Numel() == 0 || !t.DType().IsFloat() || (allowNonFinite && !nonNegative) {
		return "", nil
	}
	err = tensor.Catch(func() {
		host := t
		if !t.Device().IsCPU() || !t.IsContiguous() {
			var bad *tensor.Tensor
			if !allowNonFinite {
				bad = t.Sub(t).Ne(0) // x - x is 0 for finite x, NaN for NaN and ±Inf
			}
			if nonNegative {
				if neg := t.Lt(0); bad == nil {
					bad = neg
				} else {
					bad = bad.LogicalOr(neg)
				}
			}
			if bad.As(tensor.Float32).Max().Item() == 0 {
				return
			}
			host = t.CPU().Contiguous()
		}
		switch data := cpu.Data(host.Buffer()).(type) {
		case []float32:
			desc = firstBad(data[host.Offset():host.Offset()+host.Numel()], allowNonFinite, nonNegative)
		case []float64:
			desc = firstBad(data[host.Offset():host.Offset()+host.Numel()], allowNonFinite, nonNegative)
		}
	})
	return desc, err
}

// firstBad describes the first element of vals that badValue refuses.
func firstBad[T float32 | float64](vals []T, allowNonFinite, nonNegative bool) string {
	for i, v := range vals {
		f := float64(v)
		if (!allowNonFinite && (math.IsNaN(f) || math.IsInf(f, 0))) || (nonNegative && v < 0) {
			return fmt.Sprintf("element %d is %v", i, v)
		}
	}
	return ""
}

// parseStateKey parses "state.<i>.<name>" with i a parameter index below
// n.
func parseStateKey(key string, n int) (i int, name string, ok bool) {
	rest, found := strings.CutPrefix(key, statePrefix)
	if !found {
		return 0, "", false
	}
	idx, name, found := strings.Cut(rest, ".")
	if !found {
		return 0, "", false
	}
	i, err := strconv.Atoi(idx)
	if err != nil || strconv.Itoa(i) != idx || i < 0 || i >= n {
		return 0, "", false
	}
	return i, name, true
}

func describeKind(kind string) string {
	if kind == "" {
		return "an unnamed optimizer"
	}
	return strconv.Quote(kind)
}

func describeSlots(names []string) string {
	if len(names) == 0 {
		return "no tensors"
	}
	return strings.Join(names, ", ")
}

// axpy returns a + alpha*b, PyTorch's a.add(b, alpha=alpha).
func axpy(a *tensor.Tensor, alpha float64, b *tensor.Tensor) *tensor.Tensor {
	if alpha == 1 {
		return a.Add(b)
	}
	return a.Add(b.Mul(alpha))
}

// decay returns beta*a + (1-beta)*b, the running-average update
// a.mul_(beta).add_(b, alpha=1-beta).
func decay(a *tensor.Tensor, beta float64, b *tensor.Tensor) *tensor.Tensor {
	return axpy(a.Mul(beta), 1-beta, b)
}

// effectiveGrad applies maximize and L2 weight decay to the gradient:
// (maximize ? -g : g) + wd*p.
func effectiveGrad(c *config, p, g *tensor.Tensor) *tensor.Tensor {
	if c.maximize {
		g = g.Neg()
	}
	if c.weightDecay != 0 {
		g = axpy(g, c.weightDecay, p)
	}
	return g
}
