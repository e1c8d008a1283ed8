package optim

import (
	"fmt"
	"math"
	"slices"
)

// Scheduler adjusts an optimizer's learning rate once per epoch, like
// torch.optim.lr_scheduler. Call Step after the epoch's optimizer steps:
//
//	for epoch := 0; epoch < n; epoch++ {
//		train(opt)      // opt.Step() per batch
//		sched.Step()    // the learning rate for the next epoch
//	}
//
// A schedule computes the new rate from the optimizer's current one (the
// chainable form PyTorch uses in step()), so two schedules on one
// optimizer compose, and a rate set with SetLR is carried forward.
type Scheduler interface {
	// Step advances the epoch counter and sets the optimizer's learning
	// rate for the new epoch.
	Step()
	// LR returns the learning rate the last Step (or the constructor)
	// set, PyTorch's get_last_lr().
	LR() float64
	// LastEpoch returns the epoch counter: 0 after construction, then one
	// more per Step.
	LastEpoch() int
	// StateDict returns the schedule's state: the epoch counter, the base
	// and last learning rates and the schedule's parameters.
	StateDict() StateDict
	// LoadStateDict restores a state from StateDict of a schedule of the
	// same kind. It does not touch the optimizer: restore the optimizer's
	// own state (which holds its learning rate) as well. On error the
	// schedule is unchanged.
	LoadStateDict(sd StateDict) error
}

// schedule implements Scheduler for every schedule kind.
type schedule struct {
	kind      string
	opt       Optimizer
	baseLR    float64
	lastEpoch int
	lastLR    float64
	params    []string           // state-dict keys of the schedule's parameters
	values    map[string]float64 // their values
	check     func(map[string]float64) string
	next      func(s *schedule) float64 // the rate for s.lastEpoch, from the optimizer's current rate
	// closed, when set, is the rate for s.lastEpoch from the base rate
	// alone (PyTorch's _get_closed_form_lr), which SequentialLR uses when
	// it restarts a schedule at a milestone.
	closed func(s *schedule) float64
}

// newSchedule builds a schedule and takes its initial step (epoch 0), as
// PyTorch's constructors do.
func newSchedule(kind string, opt Optimizer, values map[string]float64, params []string,
	check func(map[string]float64) string, next func(*schedule) float64) *schedule {
	op := "optim." + kind
	if opt == nil {
		argPanic(op, "nil Optimizer")
	}
	if msg := check(values); msg != "" {
		argPanic(op, msg)
	}
	s := &schedule{kind: kind, opt: opt, baseLR: initialLR(opt), lastEpoch: -1, params: params, values: values, check: check, next: next}
	s.Step()
	return s
}

// initialLR returns the optimizer's rate when its first schedule was
// attached, recording the current rate if this is the first: every
// schedule on an optimizer has that base rate, as in PyTorch, where the
// first scheduler sets param_group["initial_lr"]. Optimizers from outside
// this package give their current rate.
func initialLR(opt Optimizer) float64 {
	o, ok := opt.(*optimizer)
	if !ok {
		return opt.LR()
	}
	if !o.hasInitialLR {
		o.initialLR, o.hasInitialLR = o.cfg.lr, true
	}
	return o.initialLR
}

// withClosedForm sets the schedule's closed form and returns it.
func (s *schedule) withClosedForm(f func(s *schedule) float64) *schedule {
	s.closed = f
	return s
}

// StepLR multiplies the learning rate by gamma every stepSize epochs,
// torch.optim.lr_scheduler.StepLR: lr = base_lr * gamma^(epoch/stepSize)
// (integer division) when nothing else changes the rate.
func StepLR(opt Optimizer, stepSize int, gamma float64) Scheduler {
	return newSchedule("StepLR", opt, map[string]float64{"step_size": float64(stepSize), "gamma": gamma},
		[]string{"step_size", "gamma"},
		func(v map[string]float64) string {
			if !(v["step_size"] >= 1) || v["step_size"] != math.Trunc(v["step_size"]) || v["step_size"] > maxStepCount {
				return fmt.Sprintf("invalid step_size %v: it must be a whole number >= 1", v["step_size"])
			}
			return nonNegative("gamma", v["gamma"])
		},
		func(s *schedule) float64 {
			lr := s.opt.LR()
			if s.lastEpoch == 0 || s.lastEpoch%int(s.values["step_size"]) != 0 {
				return lr
			}
			return lr * s.values["gamma"]
		}).withClosedForm(func(s *schedule) float64 {
		return s.baseLR * math.Pow(s.values["gamma"], float64(s.lastEpoch/int(s.values["step_size"])))
	})
}

// ExponentialLR multiplies the learning rate by gamma every epoch,
// torch.optim.lr_scheduler.ExponentialLR: lr = base_lr * gamma^epoch.
func ExponentialLR(opt Optimizer, gamma float64) Scheduler {
	return newSchedule("ExponentialLR", opt, map[string]float64{"gamma": gamma}, []string{"gamma"},
		func(v map[string]float64) string { return nonNegative("gamma", v["gamma"]) },
		func(s *schedule) float64 {
			lr := s.opt.LR()
			if s.lastEpoch == 0 {
				return lr
			}
			return lr * s.values["gamma"]
		}).withClosedForm(func(s *schedule) float64 { return s.baseLR * math.Pow(s.values["gamma"], float64(s.lastEpoch)) })
}

// CosineAnnealingLR anneals the learning rate from its initial value
// (eta_max) to etaMin over tMax epochs along a half cosine,
// torch.optim.lr_scheduler.CosineAnnealingLR:
//
//	lr = etaMin + (eta_max - etaMin) * (1 + cos(pi * epoch / tMax)) / 2
//
// computed, as PyTorch does, by its recurrence from the current rate; past
// tMax the rate climbs back along the cosine.
func CosineAnnealingLR(opt Optimizer, tMax int, etaMin float64) Scheduler {
	return newSchedule("CosineAnnealingLR", opt, map[string]float64{"T_max": float64(tMax), "eta_min": etaMin},
		[]string{"T_max", "eta_min"},
		func(v map[string]float64) string {
			if !(v["T_max"] >= 1) || v["T_max"] != math.Trunc(v["T_max"]) || v["T_max"] > maxStepCount {
				return fmt.Sprintf("invalid T_max %v: it must be a whole number >= 1", v["T_max"])
			}
			return nonNegative("eta_min", v["eta_min"])
		},
		func(s *schedule) float64 {
			lr := s.opt.LR()
			tMax, etaMin := s.values["T_max"], s.values["eta_min"]
			e := float64(s.lastEpoch)
			switch {
			case s.lastEpoch == 0:
				return lr
			case pyMod(s.lastEpoch-1-int(tMax), 2*int(tMax)) == 0:
				return lr + (s.baseLR-etaMin)*(1-math.Cos(math.Pi/tMax))/2
			}
			return (1+math.Cos(math.Pi*e/tMax))/(1+math.Cos(math.Pi*(e-1)/tMax))*(lr-etaMin) + etaMin
		}).withClosedForm(func(s *schedule) float64 {
		tMax, etaMin := s.values["T_max"], s.values["eta_min"]
		return etaMin + (s.baseLR-etaMin)*(1+math.Cos(math.Pi*float64(s.lastEpoch)/tMax))/2
	})
}

// pyMod is Python's a % b for b > 0: the result is in [0, b).
func pyMod(a, b int) int {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// Step implements Scheduler.
func (s *schedule) Step() {
	s.lastEpoch++
	s.set(s.next(s))
}

// stepTo moves the schedule to epoch and sets the rate of that epoch from
// its closed form (from the chainable form when it has none), as
// PyTorch's step(epoch) does.
func (s *schedule) stepTo(epoch int) {
	s.lastEpoch = epoch
	if s.closed != nil {
		s.set(s.closed(s))
		return
	}
	s.set(s.next(s))
}

// set gives the optimizer the rate lr, which must be a valid rate.
func (s *schedule) set(lr float64) {
	if msg := nonNegative("learning rate", lr); msg != "" {
		argPanic("optim."+s.kind+".Step", fmt.Sprintf("epoch %d: %s; check the schedule's function and parameters", s.lastEpoch, msg))
	}
	s.opt.SetLR(lr)
	s.lastLR = lr
}

// LR implements Scheduler.
func (s *schedule) LR() float64 { return s.lastLR }

// LastEpoch implements Scheduler.
func (s *schedule) LastEpoch() int { return s.lastEpoch }

// String describes the schedule.
func (s *schedule) String() string {
	out := s.kind + "("
	for i, p := range s.params {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%s=%v", p, s.values[p])
	}
	return out + fmt.Sprintf(", last_epoch=%d)", s.lastEpoch)
}

// state-dict keys of schedules, PyTorch's attribute names.
const (
	keyBaseLR    = "base_lr"
	keyLastEpoch = "last_epoch"
	keyLastLR    = "last_lr"
)

// StateDict implements Scheduler.
func (s *schedule) StateDict() StateDict {
	sd := StateDict{Kind: s.kind, Scalars: map[string]float64{
		keyBaseLR:    s.baseLR,
		keyLastEpoch: float64(s.lastEpoch),
		keyLastLR:    s.lastLR,
	}}
	for _, p := range s.params {
		sd.Scalars[p] = s.values[p]
	}
	return sd
}

// LoadStateDict implements Scheduler.
func (s *schedule) LoadStateDict(sd StateDict) error {
	fail := scheduleFail(s.kind)
	if err := checkScheduleState(sd, s.kind, append([]string{keyBaseLR, keyLastEpoch, keyLastLR}, s.params...)); err != nil {
		return err
	}
	values := map[string]float64{}
	for _, p := range s.params {
		values[p] = sd.Scalars[p]
	}
	epoch := sd.Scalars[keyLastEpoch]
	msg := firstProblem(s.check(values), nonNegative(keyBaseLR, sd.Scalars[keyBaseLR]), nonNegative(keyLastLR, sd.Scalars[keyLastLR]))
	// -1 is the epoch of a schedule that SequentialLR has not started.
	if msg == "" && (!(epoch >= -1) || epoch != math.Trunc(epoch) || epoch > maxStepCount) {
		msg = fmt.Sprintf("invalid last_epoch %v: it must be a whole number >= -1", epoch)
	}
	if msg != "" {
		return fail("%s", msg)
	}
	s.values = values
	s.baseLR = sd.Scalars[keyBaseLR]
	s.lastEpoch = int(epoch)
	s.lastLR = sd.Scalars[keyLastLR]
	return nil
}

// scheduleFail returns the error constructor of a schedule's
// LoadStateDict: ErrState, then the schedule's kind and the message.
func scheduleFail(kind string) func(format string, args ...any) error {
	return func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrState, kind, fmt.Sprintf(format, args...))
	}
}

// checkScheduleState checks what every schedule's state dict shares: its
// kind, no tensors and, unless keys is nil, exactly the scalar entries
// keys.
func checkScheduleState(sd StateDict, kind string, keys []string) error {
	fail := scheduleFail(kind)
	if sd.Kind != kind {
		return fail("the state dict is from %s, not %s", describeKind(sd.Kind), kind)
	}
	if len(sd.Tensors) != 0 {
		return fail("a schedule's state has no tensors, got %d", len(sd.Tensors))
	}
	if keys == nil {
		return nil
	}
	for _, k := range sortedKeys(sd.Scalars) {
		if !slices.Contains(keys, k) {
			return fail("unexpected entry %q", k)
		}
	}
	for _, k := range keys {
		if _, ok := sd.Scalars[k]; !ok {
			return fail("no entry %q", k)
		}
	}
	return nil
}
