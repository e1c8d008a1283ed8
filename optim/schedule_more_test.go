package optim

import (
	"errors"
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/tensor"
)

// moreScheduleCases: the learning rate after construction and after each
// Step, from PyTorch 1.13.1 (the loop of scheduleCases):
//
//	opt = torch.optim.SGD([p], lr=0.1); s = Scheduler(opt, ...)
//	lrs = [s.get_last_lr()[0]]
//	for _ in range(n): opt.step(); s.step(); lrs.append(s.get_last_lr()[0])
var moreScheduleCases = []struct {
	name string
	make func(Optimizer) Scheduler
	lrs  []float64
}{
	// LambdaLR(opt, lambda e: min(1, (e+1)/5))
	{"LambdaLR warmup", func(o Optimizer) Scheduler { return LambdaLR(o, func(e int) float64 { return min(1, float64(e+1)/5) }) },
		[]float64{0.020000000000000004, 0.04000000000000001, 0.06, 0.08000000000000002, 0.1, 0.1, 0.1, 0.1, 0.1}},
	// LambdaLR(opt, lambda e: 0.95**e)
	{"LambdaLR decay", func(o Optimizer) Scheduler {
		return LambdaLR(o, func(e int) float64 { return math.Pow(0.95, float64(e)) })
	},
		[]float64{0.1, 0.095, 0.09025, 0.0857375, 0.081450625, 0.07737809374999999, 0.07350918906249998}},
	// MultiplicativeLR(opt, lambda e: 0.9 if e % 2 else 0.5)
	{"MultiplicativeLR", func(o Optimizer) Scheduler { return MultiplicativeLR(o, alternate) },
		[]float64{0.1, 0.09000000000000001, 0.045000000000000005, 0.04050000000000001, 0.020250000000000004, 0.018225000000000005, 0.009112500000000003}},
	// LinearLR(opt, 0.25, 1.0, 4)
	{"LinearLR warmup", func(o Optimizer) Scheduler { return LinearLR(o, 0.25, 1, 4) },
		[]float64{0.025, 0.043750000000000004, 0.06250000000000001, 0.08125000000000002, 0.10000000000000002, 0.10000000000000002, 0.10000000000000002, 0.10000000000000002}},
	// LinearLR(opt, 1.0, 0.1, 5)
	{"LinearLR decay", func(o Optimizer) Scheduler { return LinearLR(o, 1, 0.1, 5) },
		[]float64{0.1, 0.08200000000000002, 0.06400000000000002, 0.04600000000000001, 0.02800000000000001, 0.010000000000000002, 0.010000000000000002, 0.010000000000000002}},
	// ConstantLR(opt, 0.5, 3)
	{"ConstantLR", func(o Optimizer) Scheduler { return ConstantLR(o, 0.5, 3) },
		[]float64{0.05, 0.05, 0.05, 0.1, 0.1, 0.1, 0.1}},
	// SequentialLR(opt, [LinearLR(opt, 0.1, 1.0, 3), CosineAnnealingLR(opt, 6, 0.001)], [3])
	{"SequentialLR warmup cosine", func(o Optimizer) Scheduler {
		return SequentialLR(o, []Scheduler{LinearLR(o, 0.1, 1, 3), CosineAnnealingLR(o, 6, 0.001)}, []int{3})
	}, []float64{0.010000000000000002, 0.04, 0.07, 0.1, 0.09336825748732973, 0.07525000000000001, 0.0505, 0.025750000000000012,
		0.007631742512670284, 0.001, 0.007631742512670284, 0.025750000000000002, 0.05050000000000004}},
	// SequentialLR(opt, [ConstantLR(opt, 0.1, 2), ExponentialLR(opt, 0.9)], [2])
	{"SequentialLR constant exponential", func(o Optimizer) Scheduler {
		return SequentialLR(o, []Scheduler{ConstantLR(o, 0.1, 2), ExponentialLR(o, 0.9)}, []int{2})
	}, []float64{0.010000000000000002, 0.010000000000000002, 0.1, 0.09000000000000001, 0.08100000000000002, 0.07290000000000002, 0.06561000000000002}},
	// SequentialLR(opt, [LinearLR(opt, 0.5, 1.0, 2), StepLR(opt, 2, 0.5), LambdaLR(opt, lambda e: 1/(e+1))], [3, 7])
	{"SequentialLR three", func(o Optimizer) Scheduler {
		return SequentialLR(o, []Scheduler{LinearLR(o, 0.5, 1, 2), StepLR(o, 2, 0.5), LambdaLR(o, func(e int) float64 { return 1 / float64(e+1) })}, []int{3, 7})
	}, []float64{0.05, 0.07500000000000001, 0.1, 0.1, 0.1, 0.05, 0.05, 0.1, 0.05, 0.03333333333333333, 0.025}},
	// SequentialLR(opt, [ConstantLR(opt, 0.25, 2), MultiplicativeLR(opt, lambda e: 0.8)], [2])
	{"SequentialLR multiplicative", func(o Optimizer) Scheduler {
		return SequentialLR(o, []Scheduler{ConstantLR(o, 0.25, 2), MultiplicativeLR(o, func(int) float64 { return 0.8 })}, []int{2})
	}, []float64{0.025, 0.025, 0.025, 0.020000000000000004, 0.016000000000000004, 0.012800000000000004}},
}

func alternate(e int) float64 {
	if e%2 == 1 {
		return 0.9
	}
	return 0.5
}

func TestMoreSchedulesMatchPyTorch(t *testing.T) {
	for _, tc := range moreScheduleCases {
		t.Run(tc.name, func(t *testing.T) {
			opt := newTestSGD()
			s := tc.make(opt)
			got := []float64{s.LR()}
			require.Equal(t, 0, s.LastEpoch())
			for range len(tc.lrs) - 1 {
				opt.Step()
				s.Step()
				got = append(got, s.LR())
				require.Equal(t, s.LR(), opt.LR(), "the schedule sets the optimizer's rate")
			}
			requireClose(t, tc.lrs, got)
		})
	}
}

// TestMoreScheduleStateRoundTrip saves every new schedule half way, with
// SaveState and in a Checkpoint, restores it into a fresh schedule on a
// fresh optimizer (with another rate) and requires the rest of the
// sequence to be identical.
func TestMoreScheduleStateRoundTrip(t *testing.T) {
	for _, tc := range moreScheduleCases {
		t.Run(tc.name, func(t *testing.T) {
			opt := newTestSGD()
			s := tc.make(opt)
			half := len(tc.lrs) / 2
			rest := len(tc.lrs) - 1 - half
			for range half {
				opt.Step()
				s.Step()
			}
			dir := t.TempDir()
			state, ckpt := filepath.Join(dir, "sched.safetensors"), filepath.Join(dir, "ckpt.safetensors")
			require.NoError(t, SaveState(state, s))
			require.NoError(t, SaveCheckpoint(ckpt, Checkpoint{Optimizer: opt, Scheduler: s}))
			optSD := opt.StateDict()
			var want []float64
			for range rest {
				opt.Step()
				s.Step()
				want = append(want, s.LR(), opt.LR())
			}
			loaders := map[string]func(o Optimizer, s Scheduler) error{
				"SaveState": func(o Optimizer, s Scheduler) error {
					if err := LoadState(state, s); err != nil {
						return err
					}
					return o.LoadStateDict(optSD)
				},
				"Checkpoint": func(o Optimizer, s Scheduler) error {
					return LoadCheckpoint(ckpt, &Checkpoint{Optimizer: o, Scheduler: s})
				},
			}
			for name, load := range loaders {
				opt2 := newTestSGD()
				opt2.SetLR(0.5) // another base rate, replaced by the loaded state
				s2 := tc.make(opt2)
				require.NoError(t, load(opt2, s2), name)
				var got []float64
				for range rest {
					opt2.Step()
					s2.Step()
					got = append(got, s2.LR(), opt2.LR())
				}
				require.Equal(t, want, got, name)
			}
		})
	}
}

func TestMoreScheduleInvalidArguments(t *testing.T) {
	sgd := newTestSGD
	for name, f := range map[string]func(){
		"LambdaLR nil":              func() { LambdaLR(sgd(), nil) },
		"MultiplicativeLR nil":      func() { MultiplicativeLR(sgd(), nil) },
		"LinearLR start 0":          func() { LinearLR(sgd(), 0, 1, 5) },
		"LinearLR end above 1":      func() { LinearLR(sgd(), 0.5, 1.5, 5) },
		"LinearLR total 0":          func() { LinearLR(sgd(), 0.5, 1, 0) },
		"ConstantLR factor 0":       func() { ConstantLR(sgd(), 0, 5) },
		"ConstantLR total 0":        func() { ConstantLR(sgd(), 0.5, 0) },
		"LambdaLR negative rate":    func() { LambdaLR(sgd(), func(int) float64 { return -1 }) },
		"SequentialLR no schedules": func() { SequentialLR(sgd(), nil, nil) },
		"SequentialLR milestones": func() {
			o := sgd()
			SequentialLR(o, []Scheduler{ConstantLR(o, 0.5, 2), ExponentialLR(o, 0.9)}, []int{2, 4})
		},
		"SequentialLR decreasing": func() {
			o := sgd()
			SequentialLR(o, []Scheduler{ConstantLR(o, 0.5, 2), ExponentialLR(o, 0.9), StepLR(o, 1, 0.5)}, []int{4, 2})
		},
		"SequentialLR other optimizer": func() {
			o := sgd()
			SequentialLR(o, []Scheduler{ConstantLR(o, 0.5, 2), ExponentialLR(sgd(), 0.9)}, []int{2})
		},
		"SequentialLR twice": func() {
			o := sgd()
			c := ConstantLR(o, 0.5, 2)
			SequentialLR(o, []Scheduler{c, c}, []int{2})
		},
		"SequentialLR nested": func() {
			o := sgd()
			inner := SequentialLR(o, []Scheduler{ConstantLR(o, 0.5, 2)}, nil)
			SequentialLR(o, []Scheduler{inner}, nil)
		},
	} {
		t.Run(name, func(t *testing.T) {
			err := tensor.Catch(f)
			require.Error(t, err)
			require.ErrorIs(t, err, tensor.ErrArgument)
		})
	}
}

func TestSequentialLRLoadErrors(t *testing.T) {
	build := func() Scheduler {
		o := newTestSGD()
		return SequentialLR(o, []Scheduler{LinearLR(o, 0.1, 1, 3), CosineAnnealingLR(o, 6, 0)}, []int{3})
	}
	good := build().StateDict()
	mutate := func(f func(sc map[string]float64)) StateDict {
		sd := StateDict{Kind: good.Kind, Scalars: map[string]float64{}}
		for k, v := range good.Scalars {
			sd.Scalars[k] = v
		}
		f(sd.Scalars)
		return sd
	}
	cases := map[string]StateDict{
		"other kind":           StepLR(newTestSGD(), 3, 0.5).StateDict(),
		"missing milestone":    mutate(func(sc map[string]float64) { delete(sc, "milestones.0") }),
		"extra milestone":      mutate(func(sc map[string]float64) { sc["milestones.1"] = 9 }),
		"bad sub-schedule":     mutate(func(sc map[string]float64) { sc["schedulers.1.T_max"] = 0 }),
		"missing sub entry":    mutate(func(sc map[string]float64) { delete(sc, "schedulers.0.start_factor") }),
		"unknown schedule":     mutate(func(sc map[string]float64) { sc["schedulers.2.last_lr"] = 1 }),
		"fractional epoch":     mutate(func(sc map[string]float64) { sc["last_epoch"] = 0.5 }),
		"unexpected top entry": mutate(func(sc map[string]float64) { sc["gamma"] = 1 }),
	}
	for name, sd := range cases {
		t.Run(name, func(t *testing.T) {
			s := build()
			before := s.StateDict()
			err := s.LoadStateDict(sd)
			require.Error(t, err)
			require.True(t, errors.Is(err, ErrState), "%v", err)
			require.Equal(t, before, s.StateDict(), "a failed load leaves the schedule unchanged")
		})
	}
}

// TestSchedulesShareTheInitialRate: as in PyTorch, every schedule on an
// optimizer takes the rate the optimizer had when the first was attached
// as its base rate, even when an earlier schedule has changed the rate.
func TestSchedulesShareTheInitialRate(t *testing.T) {
	o := newTestSGD()
	LinearLR(o, 0.5, 1, 4) // sets the rate to 0.05
	require.InDelta(t, 0.05, o.LR(), 1e-15)
	c := CosineAnnealingLR(o, 10, 0)
	require.Equal(t, 0.1, c.StateDict().Scalars["base_lr"])
}
