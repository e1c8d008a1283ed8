package optim

import (
	"fmt"
	"math"
)

// PlateauScheduler lowers the learning rate when a watched metric stops
// improving; ReduceLROnPlateau makes it. Unlike the epoch schedules it is
// stepped with the metric, once per epoch:
//
//	sched := optim.ReduceLROnPlateau(opt, optim.Mode("max"), optim.Patience(2))
//	for epoch := range epochs {
//		train(opt)
//		sched.Step(validationAccuracy())
//	}
//
// Its state (best value, counters, hyperparameters) saves and loads like
// a Scheduler's, and goes into a Checkpoint as its Scheduler.
type PlateauScheduler struct {
	opt Optimizer
	plateauConfig
	best          float64
	numBadEpochs  int
	cooldownCount int
	lastEpoch     int
	lastLR        float64
}

// plateauConfig holds ReduceLROnPlateau's hyperparameters.
type plateauConfig struct {
	max, absThreshold bool // mode "max"; threshold_mode "abs"
	factor            float64
	patience          int
	threshold         float64
	cooldown          int
	minLR             float64
	eps               float64
}

// PlateauOption sets a hyperparameter of ReduceLROnPlateau, as a keyword
// argument does in PyTorch.
type PlateauOption func(*plateauConfig)

// Mode chooses whether the metric should fall ("min", the default: a
// loss) or rise ("max": an accuracy). Other values panic.
func Mode(mode string) PlateauOption {
	if mode != "min" && mode != "max" {
		argPanic("optim.Mode", fmt.Sprintf("mode %q is unknown (want \"min\" or \"max\")", mode))
	}
	return func(c *plateauConfig) { c.max = mode == "max" }
}

// Factor sets the factor the rate is multiplied by when the metric
// stalls (default 0.1): new_lr = lr·factor, in [0, 1).
func Factor(f float64) PlateauOption { return func(c *plateauConfig) { c.factor = f } }

// Patience sets how many epochs without improvement are tolerated before
// the rate falls (default 10): with patience 2 the rate falls after the
// third bad epoch in a row.
func Patience(epochs int) PlateauOption { return func(c *plateauConfig) { c.patience = epochs } }

// Threshold sets how much better than the best so far a value must be to
// count as an improvement (default 1e-4), relative or absolute by
// ThresholdMode.
func Threshold(t float64) PlateauOption { return func(c *plateauConfig) { c.threshold = t } }

// ThresholdMode chooses how Threshold applies: "rel" (the default) needs a
// value below best·(1-threshold) (above best·(1+threshold) in max mode),
// "abs" below best-threshold (above best+threshold). Other values panic.
func ThresholdMode(mode string) PlateauOption {
	if mode != "rel" && mode != "abs" {
		argPanic("optim.ThresholdMode", fmt.Sprintf("threshold mode %q is unknown (want \"rel\" or \"abs\")", mode))
	}
	return func(c *plateauConfig) { c.absThreshold = mode == "abs" }
}

// Cooldown sets how many epochs after a reduction pass before bad epochs
// count again (default 0).
func Cooldown(epochs int) PlateauOption { return func(c *plateauConfig) { c.cooldown = epochs } }

// MinLR sets the lowest rate a reduction goes to (default 0).
func MinLR(lr float64) PlateauOption { return func(c *plateauConfig) { c.minLR = lr } }

// MinDecay sets PyTorch's eps (default 1e-8): a reduction smaller than
// this is skipped.
func MinDecay(eps float64) PlateauOption { return func(c *plateauConfig) { c.eps = eps } }

// ReduceLROnPlateau returns a schedule that multiplies opt's learning rate
// by Factor when the metric passed to Step has not improved for more than
// Patience epochs, torch.optim.lr_scheduler.ReduceLROnPlateau with
// PyTorch 1.13's rules: an improvement beats the best value by Threshold
// (ThresholdMode), every reduction starts a Cooldown during which bad
// epochs do not count, the rate never falls below MinLR, and a reduction
// smaller than MinDecay (eps) is skipped. A NaN metric never improves.
// The defaults are PyTorch's: Mode("min"), Factor(0.1), Patience(10),
// Threshold(1e-4), ThresholdMode("rel"), Cooldown(0), MinLR(0),
// MinDecay(1e-8).
func ReduceLROnPlateau(opt Optimizer, opts ...PlateauOption) *PlateauScheduler {
	const op = "optim.ReduceLROnPlateau"
	if opt == nil {
		argPanic(op, "nil Optimizer")
	}
	c := plateauConfig{factor: 0.1, patience: 10, threshold: 1e-4, eps: 1e-8}
	for _, o := range opts {
		if o == nil {
			argPanic(op, "nil PlateauOption")
		}
		o(&c)
	}
	if msg := c.check(); msg != "" {
		argPanic(op, msg)
	}
	s := &PlateauScheduler{opt: opt, plateauConfig: c, lastLR: opt.LR()}
	s.best = s.worst()
	return s
}

// check describes the first invalid hyperparameter, or returns "".
func (c plateauConfig) check() string {
	switch {
	case !(c.factor >= 0 && c.factor < 1):
		return fmt.Sprintf("invalid factor %v: it must lie in [0, 1) (the rate is multiplied by it)", c.factor)
	case c.patience < 0:
		return fmt.Sprintf("invalid patience %d: it must be >= 0", c.patience)
	case c.cooldown < 0:
		return fmt.Sprintf("invalid cooldown %d: it must be >= 0", c.cooldown)
	}
	return firstProblem(nonNegative("threshold", c.threshold), nonNegative("min_lr", c.minLR), nonNegative("eps", c.eps))
}

// worst is the starting best value: +∞ in min mode, -∞ in max mode.
func (s *PlateauScheduler) worst() float64 {
	if s.max {
		return math.Inf(-1)
	}
	return math.Inf(1)
}

// better reports whether a improves on best (PyTorch's is_better).
func (s *PlateauScheduler) better(a, best float64) bool {
	switch {
	case !s.max && !s.absThreshold:
		return a < best*(1-s.threshold)
	case !s.max:
		return a < best-s.threshold
	case !s.absThreshold:
		return a > best*(s.threshold+1)
	}
	return a > best+s.threshold
}

// Step records the epoch's metric and lowers the learning rate when it
// has not improved for more than Patience epochs (outside a cooldown).
func (s *PlateauScheduler) Step(metric float64) {
	s.lastEpoch++
	if s.better(metric, s.best) {
		s.best = metric
		s.numBadEpochs = 0
	} else {
		s.numBadEpochs++
	}
	if s.cooldownCount > 0 {
		s.cooldownCount--
		s.numBadEpochs = 0 // bad epochs in a cooldown do not count
	}
	if s.numBadEpochs > s.patience {
		old := s.opt.LR()
		if lr := math.Max(old*s.factor, s.minLR); old-lr > s.eps {
			s.opt.SetLR(lr)
		}
		s.cooldownCount = s.cooldown
		s.numBadEpochs = 0
	}
	s.lastLR = s.opt.LR()
}

// LR returns the learning rate after the last Step (the optimizer's rate
// before the first).
func (s *PlateauScheduler) LR() float64 { return s.lastLR }

// LastEpoch returns the number of Steps taken.
func (s *PlateauScheduler) LastEpoch() int { return s.lastEpoch }

// Best returns the best metric seen (±Inf before the first Step).
func (s *PlateauScheduler) Best() float64 { return s.best }

// NumBadEpochs returns the number of epochs since the last improvement
// that count towards Patience.
func (s *PlateauScheduler) NumBadEpochs() int { return s.numBadEpochs }

// InCooldown reports whether the schedule is in the cooldown after a
// reduction.
func (s *PlateauScheduler) InCooldown() bool { return s.cooldownCount > 0 }

// String describes the schedule like its PyTorch constructor call.
func (s *PlateauScheduler) String() string {
	mode, tmode := "min", "rel"
	if s.max {
		mode = "max"
	}
	if s.absThreshold {
		tmode = "abs"
	}
	return fmt.Sprintf("ReduceLROnPlateau(mode=%s, factor=%v, patience=%d, threshold=%v, threshold_mode=%s, cooldown=%d, min_lr=%v, eps=%v, last_epoch=%d)",
		mode, s.factor, s.patience, s.threshold, tmode, s.cooldown, s.minLR, s.eps, s.lastEpoch)
}

// State-dict keys of ReduceLROnPlateau: PyTorch's attribute names; mode
// is 0 for "min" and 1 for "max", threshold_mode 0 for "rel" and 1 for
// "abs".
var plateauKeys = []string{"mode", "factor", "patience", "threshold", "threshold_mode", "cooldown", "min_lr", "eps",
	"best", "num_bad_epochs", "cooldown_counter", keyLastEpoch, keyLastLR}

// StateDict returns the schedule's state: hyperparameters, best value,
// counters and the last rate.
func (s *PlateauScheduler) StateDict() StateDict {
	return StateDict{Kind: "ReduceLROnPlateau", Scalars: map[string]float64{
		"mode": boolFloat(s.max), "factor": s.factor, "patience": float64(s.patience),
		"threshold": s.threshold, "threshold_mode": boolFloat(s.absThreshold), "cooldown": float64(s.cooldown),
		"min_lr": s.minLR, "eps": s.eps, "best": s.best, "num_bad_epochs": float64(s.numBadEpochs),
		"cooldown_counter": float64(s.cooldownCount), keyLastEpoch: float64(s.lastEpoch), keyLastLR: s.lastLR,
	}}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// LoadStateDict restores a state from StateDict. It does not touch the
// optimizer, whose own state holds its rate. On error the schedule is
// unchanged.
func (s *PlateauScheduler) LoadStateDict(sd StateDict) error {
	fail := scheduleFail("ReduceLROnPlateau")
	if err := checkScheduleState(sd, "ReduceLROnPlateau", plateauKeys); err != nil {
		return err
	}
	v := sd.Scalars
	flag := func(k string) (bool, string) {
		if v[k] != 0 && v[k] != 1 {
			return false, fmt.Sprintf("invalid %s %v: it must be 0 or 1", k, v[k])
		}
		return v[k] == 1, ""
	}
	maxMode, msg1 := flag("mode")
	absMode, msg2 := flag("threshold_mode")
	msg := firstProblem(msg1, msg2,
		wholeAtLeast("patience", v["patience"], 0), wholeAtLeast("cooldown", v["cooldown"], 0),
		wholeAtLeast("num_bad_epochs", v["num_bad_epochs"], 0), wholeAtLeast("cooldown_counter", v["cooldown_counter"], 0),
		wholeAtLeast(keyLastEpoch, v[keyLastEpoch], 0), nonNegative(keyLastLR, v[keyLastLR]))
	c := plateauConfig{max: maxMode, absThreshold: absMode, factor: v["factor"], patience: int(v["patience"]),
		threshold: v["threshold"], cooldown: int(v["cooldown"]), minLR: v["min_lr"], eps: v["eps"]}
	if msg == "" {
		msg = c.check()
	}
	if msg == "" && math.IsNaN(v["best"]) {
		msg = "invalid best NaN"
	}
	if msg != "" {
		return fail("%s", msg)
	}
	s.plateauConfig = c
	s.best, s.numBadEpochs, s.cooldownCount = v["best"], int(v["num_bad_epochs"]), int(v["cooldown_counter"])
	s.lastEpoch, s.lastLR = int(v[keyLastEpoch]), v[keyLastLR]
	return nil
}
