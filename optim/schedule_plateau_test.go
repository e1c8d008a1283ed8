package optim

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/internal/pytest"
	"github.com/nabla-go/nabla/tensor"
)

// plateauStep is the state after one ReduceLROnPlateau step: the rate,
// the best metric, the bad-epoch count and the cooldown counter.
type plateauStep struct {
	lr, best          float64
	bad, cooldownLeft int
}

// plateauCases: from PyTorch 1.13.1,
//
//	opt = torch.optim.SGD([p], lr=0.1); s = ReduceLROnPlateau(opt, **kw)
//	for m in metrics: opt.step(); s.step(m)
//	    record (lr, s.best, s.num_bad_epochs, s.cooldown_counter)
var plateauCases = []struct {
	name    string
	opts    []PlateauOption
	metrics []float64
	want    []plateauStep
}{
	{"min patience 2", []PlateauOption{Patience(2), Factor(0.5)},
		[]float64{1.0, 0.9, 0.9, 0.91, 0.9, 0.95, 0.8, 0.85, 0.85, 0.85, 0.85},
		[]plateauStep{{0.1, 1.0, 0, 0}, {0.1, 0.9, 0, 0}, {0.1, 0.9, 1, 0}, {0.1, 0.9, 2, 0}, {0.05, 0.9, 0, 0}, {0.05, 0.9, 1, 0},
			{0.05, 0.8, 0, 0}, {0.05, 0.8, 1, 0}, {0.05, 0.8, 2, 0}, {0.025, 0.8, 0, 0}, {0.025, 0.8, 1, 0}}},
	{"max abs cooldown min_lr", []PlateauOption{Mode("max"), ThresholdMode("abs"), Threshold(0.01), Patience(1), Cooldown(2), Factor(0.1), MinLR(0.002)},
		[]float64{0.5, 0.505, 0.52, 0.52, 0.52, 0.52, 0.52, 0.52, 0.53, 0.6, 0.6, 0.6, 0.6},
		[]plateauStep{{0.1, 0.5, 0, 0}, {0.1, 0.5, 1, 0}, {0.1, 0.52, 0, 0}, {0.1, 0.52, 1, 0}, {0.010000000000000002, 0.52, 0, 2},
			{0.010000000000000002, 0.52, 0, 1}, {0.010000000000000002, 0.52, 0, 0}, {0.010000000000000002, 0.52, 1, 0}, {0.002, 0.52, 0, 2},
			{0.002, 0.6, 0, 1}, {0.002, 0.6, 0, 0}, {0.002, 0.6, 1, 0}, {0.002, 0.6, 0, 2}}},
	{"eps skips small reductions", []PlateauOption{Patience(0), Factor(0.5), MinDecay(0.05)},
		[]float64{1, 1, 1, 1},
		[]plateauStep{{0.1, 1.0, 0, 0}, {0.1, 1.0, 0, 0}, {0.1, 1.0, 0, 0}, {0.1, 1.0, 0, 0}}},
	{"NaN never improves", []PlateauOption{Patience(1)},
		[]float64{1, math.NaN(), math.NaN(), 0.5, math.NaN(), math.NaN(), math.NaN()},
		[]plateauStep{{0.1, 1.0, 0, 0}, {0.1, 1.0, 1, 0}, {0.010000000000000002, 1.0, 0, 0}, {0.010000000000000002, 0.5, 0, 0},
			{0.010000000000000002, 0.5, 1, 0}, {0.0010000000000000002, 0.5, 0, 0}, {0.0010000000000000002, 0.5, 1, 0}}},
	{"negative metric rel", []PlateauOption{Patience(0), Threshold(0.1)},
		[]float64{-1.0, -1.05, -1.2, -1.0},
		[]plateauStep{{0.1, -1.0, 0, 0}, {0.1, -1.05, 0, 0}, {0.1, -1.2, 0, 0}, {0.010000000000000002, -1.2, 0, 0}}},
}

func plateauRun(t *testing.T, s *PlateauScheduler, opt Optimizer, metrics []float64) []plateauStep {
	var out []plateauStep
	for _, m := range metrics {
		opt.Step()
		s.Step(m)
		require.Equal(t, s.cooldownCount > 0, s.InCooldown())
		out = append(out, plateauStep{opt.LR(), s.Best(), s.NumBadEpochs(), s.cooldownCount})
	}
	return out
}

func TestPlateauMatchesPyTorch(t *testing.T) {
	for _, tc := range plateauCases {
		t.Run(tc.name, func(t *testing.T) {
			opt := newTestSGD()
			s := ReduceLROnPlateau(opt, tc.opts...)
			require.Equal(t, 0.1, s.LR())
			got := plateauRun(t, s, opt, tc.metrics)
			require.Equal(t, tc.want, got)
			require.Equal(t, len(tc.metrics), s.LastEpoch())
			require.Equal(t, opt.LR(), s.LR())
		})
	}
}

// TestPlateauStateRoundTrip stops each case half way, saves the schedule
// in a checkpoint with the optimizer, loads both into fresh ones (with
// other hyperparameters) and requires the same remaining steps.
func TestPlateauStateRoundTrip(t *testing.T) {
	for _, tc := range plateauCases {
		t.Run(tc.name, func(t *testing.T) {
			opt := newTestSGD()
			s := ReduceLROnPlateau(opt, tc.opts...)
			half := len(tc.metrics) / 2
			plateauRun(t, s, opt, tc.metrics[:half])
			path := filepath.Join(t.TempDir(), "ckpt.safetensors")
			require.NoError(t, SaveCheckpoint(path, Checkpoint{Epoch: half, Optimizer: opt, Scheduler: s}))

			opt2 := newTestSGD()
			s2 := ReduceLROnPlateau(opt2, Mode("max"), Patience(7), Cooldown(3), MinLR(0.5))
			ck := Checkpoint{Optimizer: opt2, Scheduler: s2}
			require.NoError(t, LoadCheckpoint(path, &ck))
			require.Equal(t, half, ck.Epoch)
			require.Equal(t, s.StateDict(), s2.StateDict())
			require.Equal(t, s.String(), s2.String())
			require.Equal(t, tc.want[half:], plateauRun(t, s2, opt2, tc.metrics[half:]))
		})
	}
}

func TestPlateauInvalid(t *testing.T) {
	for name, f := range map[string]func(){
		"factor 1":         func() { ReduceLROnPlateau(newTestSGD(), Factor(1)) },
		"negative factor":  func() { ReduceLROnPlateau(newTestSGD(), Factor(-0.5)) },
		"negative patient": func() { ReduceLROnPlateau(newTestSGD(), Patience(-1)) },
		"negative cool":    func() { ReduceLROnPlateau(newTestSGD(), Cooldown(-1)) },
		"NaN threshold":    func() { ReduceLROnPlateau(newTestSGD(), Threshold(math.NaN())) },
		"negative min_lr":  func() { ReduceLROnPlateau(newTestSGD(), MinLR(-1)) },
		"mode":             func() { Mode("maximum") },
		"threshold mode":   func() { ThresholdMode("relative") },
		"nil optimizer":    func() { ReduceLROnPlateau(nil) },
		"nil option":       func() { ReduceLROnPlateau(newTestSGD(), nil) },
	} {
		t.Run(name, func(t *testing.T) {
			err := tensor.Catch(f)
			require.Error(t, err)
			require.ErrorIs(t, err, tensor.ErrArgument)
		})
	}
	good := ReduceLROnPlateau(newTestSGD()).StateDict()
	// mutate returns good with entry k set to v, or removed when v is nil.
	mutate := func(k string, v *float64) StateDict {
		sd := StateDict{Kind: good.Kind, Scalars: map[string]float64{}}
		for key, val := range good.Scalars {
			sd.Scalars[key] = val
		}
		if v == nil {
			delete(sd.Scalars, k)
		} else {
			sd.Scalars[k] = *v
		}
		return sd
	}
	val := func(v float64) *float64 { return &v }
	for name, sd := range map[string]StateDict{
		"other kind":      StepLR(newTestSGD(), 1, 0.5).StateDict(),
		"missing best":    mutate("best", nil),
		"mode 2":          mutate("mode", val(2)),
		"factor 1":        mutate("factor", val(1)),
		"NaN best":        mutate("best", val(math.NaN())),
		"fractional bad":  mutate("num_bad_epochs", val(0.5)),
		"unexpected":      mutate("gamma", val(0.5)),
		"negative epochs": mutate("last_epoch", val(-1)),
	} {
		t.Run(name, func(t *testing.T) {
			s := ReduceLROnPlateau(newTestSGD())
			err := s.LoadStateDict(sd)
			require.Error(t, err)
			require.True(t, errors.Is(err, ErrState), "%v", err)
			require.Equal(t, good, s.StateDict(), "a failed load leaves the schedule unchanged")
		})
	}
}

// TestPlateauRandomAgainstPyTorch runs 200 random configurations on random
// metric sequences (with ties, plateaus and NaNs) through nabla and
// PyTorch 1.13 and requires the same rate, best value and counters after
// every step. Skipped without python3-torch.
func TestPlateauRandomAgainstPyTorch(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 34))
	type run struct {
		kw      string
		opts    []PlateauOption
		metrics []float64
	}
	var runs []run
	for range 200 {
		var r run
		mode, tmode := []string{"min", "max"}[rng.IntN(2)], []string{"rel", "abs"}[rng.IntN(2)]
		factor := []float64{0, 0.1, 0.5, 0.9}[rng.IntN(4)]
		patience, cooldown := rng.IntN(4), rng.IntN(3)
		threshold := []float64{0, 1e-4, 0.01, 0.1}[rng.IntN(4)]
		minLR := []float64{0, 1e-3, 0.02}[rng.IntN(3)]
		eps := []float64{1e-8, 0, 0.01}[rng.IntN(3)]
		r.kw = fmt.Sprintf("mode=%q, threshold_mode=%q, factor=%v, patience=%d, cooldown=%d, threshold=%v, min_lr=%v, eps=%v",
			mode, tmode, factor, patience, cooldown, threshold, minLR, eps)
		r.opts = []PlateauOption{Mode(mode), ThresholdMode(tmode), Factor(factor), Patience(patience), Cooldown(cooldown),
			Threshold(threshold), MinLR(minLR), MinDecay(eps)}
		level := rng.NormFloat64()
		for range 25 {
			switch rng.IntN(6) {
			case 0:
				r.metrics = append(r.metrics, math.NaN())
			case 1, 2:
				r.metrics = append(r.metrics, level) // a plateau
			default:
				level += rng.NormFloat64() * 0.1
				r.metrics = append(r.metrics, level)
			}
		}
		runs = append(runs, r)
	}
	var script strings.Builder
	script.WriteString("import warnings\nwarnings.filterwarnings('ignore')\nnan = float('nan')\n")
	script.WriteString("from torch.optim.lr_scheduler import ReduceLROnPlateau\n")
	for _, r := range runs {
		ms := make([]string, len(r.metrics))
		for i, m := range r.metrics {
			ms[i] = strconv.FormatFloat(m, 'g', -1, 64)
			if math.IsNaN(m) {
				ms[i] = "nan"
			}
		}
		fmt.Fprintf(&script, "p = torch.zeros(1, requires_grad=True); o = torch.optim.SGD([p], lr=0.1); s = ReduceLROnPlateau(o, %s)\n", r.kw)
		fmt.Fprintf(&script, "for m in [%s]:\n    o.step(); s.step(m); print(repr(o.param_groups[0]['lr']), repr(float(s.best)), s.num_bad_epochs, s.cooldown_counter)\n",
			strings.Join(ms, ", "))
	}
	out := strings.Fields(pytest.Run(t, "torch", script.String()))
	at := 0
	for i, r := range runs {
		opt := newTestSGD()
		s := ReduceLROnPlateau(opt, r.opts...)
		for step, m := range r.metrics {
			opt.Step()
			s.Step(m)
			require.Less(t, at+3, len(out), "PyTorch printed too little")
			lr, _ := strconv.ParseFloat(out[at], 64)
			best, _ := strconv.ParseFloat(out[at+1], 64)
			got := fmt.Sprintf("%v %v %d %d", opt.LR(), s.Best(), s.NumBadEpochs(), s.cooldownCount)
			want := fmt.Sprintf("%v %v %s %s", lr, best, out[at+2], out[at+3])
			require.Equal(t, want, got, "run %d (%s), step %d, metrics %v", i, r.kw, step, r.metrics[:step+1])
			at += 4
		}
	}
	require.Len(t, out, at)
}
