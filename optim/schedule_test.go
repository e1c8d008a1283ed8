package optim

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/tensor"
)

// scheduleCases: the learning rate after construction and after each
// Step, from PyTorch 1.13.1:
//
//	opt = torch.optim.SGD([p], lr=0.1); s = Scheduler(opt, ...)
//	lrs = [s.get_last_lr()[0]]
//	for _ in range(n): opt.step(); s.step(); lrs.append(s.get_last_lr()[0])
var scheduleCases = []struct {
	name string
	make func(Optimizer) Scheduler
	lrs  []float64
}{
	// StepLR(opt, 3, 0.5)
	{"StepLR", func(o Optimizer) Scheduler { return StepLR(o, 3, 0.5) },
		[]float64{0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125, 0.0125}},
	// ExponentialLR(opt, 0.9)
	{"ExponentialLR", func(o Optimizer) Scheduler { return ExponentialLR(o, 0.9) },
		[]float64{0.1, 0.09000000000000001, 0.08100000000000002, 0.07290000000000002, 0.06561000000000002, 0.05904900000000002,
			0.05314410000000002, 0.04782969000000002, 0.043046721000000024, 0.03874204890000002, 0.03486784401000002}},
	// CosineAnnealingLR(opt, 5, 0.001), past T_max into the climb back
	{"CosineAnnealingLR", func(o Optimizer) Scheduler { return CosineAnnealingLR(o, 5, 0.001) },
		[]float64{0.1, 0.0905463412215599, 0.06579634122155989, 0.035203658778440096, 0.010453658778440105, 0.001,
			0.010453658778440102, 0.03520365877844012, 0.06579634122155993, 0.09054634122155995, 0.10000000000000005,
			0.09054634122155998, 0.06579634122155995, 0.03520365877844014, 0.010453658778440116, 0.001, 0.010453658778440102}},
	// CosineAnnealingLR(opt, 4, 0)
	{"CosineAnnealingLR eta_min 0", func(o Optimizer) Scheduler { return CosineAnnealingLR(o, 4, 0) },
		[]float64{0.1, 0.08535533905932738, 0.05, 0.014644660940672627, 0.0, 0.014644660940672622, 0.05000000000000001,
			0.0853553390593274, 0.10000000000000003, 0.0853553390593274, 0.05000000000000003}},
}

func newTestSGD() Optimizer {
	return SGD([]*autograd.Var{autograd.Param(tensor.Zeros(1))}, 0.1)
}

func TestSchedulesMatchPyTorch(t *testing.T) {
	for _, tc := range scheduleCases {
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
			require.Equal(t, len(tc.lrs)-1, s.LastEpoch())
		})
	}
}

// TestScheduleStateRoundTrip stops a schedule half way, saves its state
// and the optimizer's, restores both into fresh ones and checks that the
// rest of the sequence is identical.
func TestScheduleStateRoundTrip(t *testing.T) {
	for _, tc := range scheduleCases {
		t.Run(tc.name, func(t *testing.T) {
			opt := newTestSGD()
			s := tc.make(opt)
			half := len(tc.lrs) / 2
			for range half {
				s.Step()
			}
			path := t.TempDir() + "/sched.safetensors"
			require.NoError(t, SaveState(path, s))
			optSD := opt.StateDict()

			opt2 := newTestSGD()
			opt2.SetLR(0.5) // overwritten by the optimizer's state
			s2 := tc.make(opt2)
			require.NoError(t, LoadState(path, s2))
			require.NoError(t, opt2.LoadStateDict(optSD))
			require.Equal(t, s.LastEpoch(), s2.LastEpoch())
			require.Equal(t, s.LR(), s2.LR())
			for range len(tc.lrs) - 1 - half {
				s.Step()
				s2.Step()
				require.Equal(t, s.LR(), s2.LR())
				require.Equal(t, opt.LR(), opt2.LR())
			}
		})
	}
}

func TestScheduleLoadErrors(t *testing.T) {
	good := StepLR(newTestSGD(), 3, 0.5).StateDict()
	mutate := func(f func(sd *StateDict)) StateDict {
		sd := StateDict{Kind: good.Kind, Scalars: map[string]float64{}}
		for k, v := range good.Scalars {
			sd.Scalars[k] = v
		}
		f(&sd)
		return sd
	}
	cases := map[string]StateDict{
		"other kind":       ExponentialLR(newTestSGD(), 0.9).StateDict(),
		"missing entry":    mutate(func(sd *StateDict) { delete(sd.Scalars, "gamma") }),
		"unexpected entry": mutate(func(sd *StateDict) { sd.Scalars["T_max"] = 3 }),
		"bad step size":    mutate(func(sd *StateDict) { sd.Scalars["step_size"] = 0 }),
		"fractional epoch": mutate(func(sd *StateDict) { sd.Scalars["last_epoch"] = 1.5 }),
		"negative last lr": mutate(func(sd *StateDict) { sd.Scalars["last_lr"] = -1 }),
		"has tensors":      mutate(func(sd *StateDict) { sd.Tensors = map[string]*tensor.Tensor{"x": tensor.Zeros(1)} }),
	}
	for name, sd := range cases {
		t.Run(name, func(t *testing.T) {
			s := StepLR(newTestSGD(), 3, 0.5)
			before := s.StateDict()
			err := s.LoadStateDict(sd)
			require.Error(t, err)
			require.True(t, errors.Is(err, ErrState), "%v", err)
			require.Equal(t, before, s.StateDict(), "a failed load leaves the schedule unchanged")
		})
	}
}

func TestScheduleInvalidArguments(t *testing.T) {
	for name, f := range map[string]func(){
		"StepLR step 0":           func() { StepLR(newTestSGD(), 0, 0.1) },
		"StepLR negative gamma":   func() { StepLR(newTestSGD(), 1, -0.1) },
		"ExponentialLR NaN gamma": func() { ExponentialLR(newTestSGD(), nan()) },
		"Cosine T_max 0":          func() { CosineAnnealingLR(newTestSGD(), 0, 0) },
		"Cosine negative eta_min": func() { CosineAnnealingLR(newTestSGD(), 10, -1) },
		"nil optimizer":           func() { StepLR(nil, 1, 0.1) },
	} {
		t.Run(name, func(t *testing.T) {
			err := tensor.Catch(f)
			require.Error(t, err)
			require.ErrorIs(t, err, tensor.ErrArgument)
		})
	}
}
