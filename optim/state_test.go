package optim

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/tensor"
)

// plainConstructors builds an optimizer of each kind with default options;
// loading a state dict must bring back every hyperparameter.
var plainConstructors = map[string]func([]*autograd.Var) Optimizer{
	"SGD":     func(ps []*autograd.Var) Optimizer { return SGD(ps, 1) },
	"AdaGrad": func(ps []*autograd.Var) Optimizer { return AdaGrad(ps, 1) },
	"RMSProp": func(ps []*autograd.Var) Optimizer { return RMSProp(ps, 1) },
	"Adam":    func(ps []*autograd.Var) Optimizer { return Adam(ps, 1) },
	"AdamW":   func(ps []*autograd.Var) Optimizer { return AdamW(ps, 1) },
}

// TestStateRoundTripContinuesIdentically stops every reference case after
// two steps, saves the optimizer's state to a file, loads it into a fresh
// optimizer of the same kind built with default options over copies of
// the parameters, and checks that the third step is bit-identical.
func TestStateRoundTripContinuesIdentically(t *testing.T) {
	for _, tc := range refCases {
		t.Run(tc.name, func(t *testing.T) {
			ps, setGrads := refProblem()
			opt := tc.make(ps)
			for range 2 {
				setGrads()
				opt.Step()
			}
			path := filepath.Join(t.TempDir(), "opt.safetensors")
			require.NoError(t, SaveState(path, opt))

			ps2, setGrads2 := refProblem()
			for i := range ps {
				ps2[i].Detach().CopyFrom(ps[i].Detach())
			}
			kind := opt.StateDict().Kind
			opt2 := plainConstructors[kind](ps2)
			require.NoError(t, LoadState(path, opt2))
			require.Equal(t, opt.LR(), opt2.LR())
			require.Equal(t, opt.StateDict().Scalars, opt2.StateDict().Scalars)

			setGrads()
			opt.Step()
			setGrads2()
			opt2.Step()
			require.Equal(t, values(ps), values(ps2), "continued updates must be bit-identical")
			requireClose(t, tc.steps[2][:], values(ps2))
		})
	}
}

func TestStateDictNames(t *testing.T) {
	cases := []struct {
		make    func([]*autograd.Var) Optimizer
		tensors []string
		scalars map[string]float64
	}{
		{func(ps []*autograd.Var) Optimizer { return SGD(ps, 0.1, Momentum(0.9), Nesterov()) },
			[]string{"state.0.momentum_buffer", "state.1.momentum_buffer"},
			map[string]float64{"params": 3, "lr": 0.1, "momentum": 0.9, "dampening": 0, "weight_decay": 0, "nesterov": 1, "maximize": 0}},
		{func(ps []*autograd.Var) Optimizer { return SGD(ps, 0.1) },
			nil,
			map[string]float64{"params": 3, "lr": 0.1, "momentum": 0, "dampening": 0, "weight_decay": 0, "nesterov": 0, "maximize": 0}},
		{func(ps []*autograd.Var) Optimizer { return AdaGrad(ps, 0.1, LRDecay(0.01)) },
			[]string{"state.0.sum", "state.1.sum"},
			map[string]float64{"params": 3, "lr": 0.1, "lr_decay": 0.01, "weight_decay": 0, "initial_accumulator_value": 0, "eps": 1e-10,
				"maximize": 0, "state.0.step": 2, "state.1.step": 2}},
		{func(ps []*autograd.Var) Optimizer { return RMSProp(ps, 0.01, Centered(), Momentum(0.5)) },
			[]string{"state.0.grad_avg", "state.0.momentum_buffer", "state.0.square_avg", "state.1.grad_avg", "state.1.momentum_buffer", "state.1.square_avg"},
			map[string]float64{"params": 3, "lr": 0.01, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0, "momentum": 0.5, "centered": 1,
				"maximize": 0, "state.0.step": 2, "state.1.step": 2}},
		{func(ps []*autograd.Var) Optimizer { return Adam(ps, 0.001) },
			[]string{"state.0.exp_avg", "state.0.exp_avg_sq", "state.1.exp_avg", "state.1.exp_avg_sq"},
			map[string]float64{"params": 3, "lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0, "amsgrad": 0,
				"maximize": 0, "state.0.step": 2, "state.1.step": 2}},
		{func(ps []*autograd.Var) Optimizer { return AdamW(ps, 0.001, AMSGrad()) },
			[]string{"state.0.exp_avg", "state.0.exp_avg_sq", "state.0.max_exp_avg_sq", "state.1.exp_avg", "state.1.exp_avg_sq", "state.1.max_exp_avg_sq"},
			map[string]float64{"params": 3, "lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01, "amsgrad": 1,
				"maximize": 0, "state.0.step": 2, "state.1.step": 2}},
	}
	for _, tc := range cases {
		ps, setGrads := refProblem()
		opt := tc.make(ps)
		t.Run(opt.StateDict().Kind, func(t *testing.T) {
			for range 2 {
				setGrads()
				opt.Step()
			}
			sd := opt.StateDict()
			require.ElementsMatch(t, tc.tensors, sortedKeys(sd.Tensors))
			require.Equal(t, tc.scalars, sd.Scalars)
			for name, st := range sd.Tensors {
				require.Equal(t, ps[name[6]-'0'].Shape(), st.Shape(), name)
				require.Equal(t, tensor.Float64, st.DType(), name)
			}
		})
	}
}

// TestStateDictIsSnapshot checks that a state dict does not change when
// the optimizer steps on, and that a loaded dict is not shared.
func TestStateDictIsSnapshot(t *testing.T) {
	ps, setGrads := refProblem()
	opt := Adam(ps, 0.1)
	setGrads()
	opt.Step()
	sd := opt.StateDict()
	before := sd.Tensors["state.0.exp_avg"].Float64s()
	setGrads()
	opt.Step()
	require.Equal(t, before, sd.Tensors["state.0.exp_avg"].Float64s())
	require.Equal(t, 1.0, sd.Scalars["state.0.step"])

	ps2, _ := refProblem()
	opt2 := Adam(ps2, 0.1)
	require.NoError(t, opt2.LoadStateDict(sd))
	sd.Tensors["state.0.exp_avg"].CopyFrom(tensor.Of(tensor.Float64).Zeros(2, 2))
	require.Equal(t, before, opt2.StateDict().Tensors["state.0.exp_avg"].Float64s())
}

// TestLoadStateDictConvertsDType loads float64 state into float32
// parameters: PyTorch casts state to the parameter's dtype and device.
func TestLoadStateDictConvertsDType(t *testing.T) {
	ps, setGrads := refProblem()
	opt := Adam(ps, 0.1)
	setGrads()
	opt.Step()
	ps32 := []*autograd.Var{
		autograd.Param(ps[0].Detach().As(tensor.Float32)),
		autograd.Param(ps[1].Detach().As(tensor.Float32)),
		autograd.Param(ps[2].Detach().As(tensor.Float32)),
	}
	opt32 := Adam(ps32, 0.1)
	require.NoError(t, opt32.LoadStateDict(opt.StateDict()))
	for _, st := range opt32.StateDict().Tensors {
		require.Equal(t, tensor.Float32, st.DType())
	}
	ps32[0].SetGrad(ps[0].Detach().As(tensor.Float32))
	opt32.Step()

	// A parameter moved to another dtype after the state was made: the
	// state follows it.
	ps[0].SetData(ps[0].Detach().As(tensor.Float32))
	ps[0].SetGrad(tensor.Ones(2, 2))
	opt.Step()
	require.Equal(t, tensor.Float32, opt.StateDict().Tensors["state.0.exp_avg"].DType())
}

func TestLoadStateDictErrors(t *testing.T) {
	ps, setGrads := refProblem()
	src := Adam(ps, 0.1, AMSGrad())
	setGrads()
	src.Step()
	good := src.StateDict()
	edit := func(f func(sd *StateDict)) StateDict {
		sd := StateDict{Kind: good.Kind, Tensors: map[string]*tensor.Tensor{}, Scalars: map[string]float64{}}
		for k, v := range good.Tensors {
			sd.Tensors[k] = v
		}
		for k, v := range good.Scalars {
			sd.Scalars[k] = v
		}
		f(&sd)
		return sd
	}
	f64 := tensor.Of(tensor.Float64)
	cases := map[string]StateDict{
		"other kind":              edit(func(sd *StateDict) { sd.Kind = "AdamW" }),
		"no kind":                 edit(func(sd *StateDict) { sd.Kind = "" }),
		"other parameter count":   edit(func(sd *StateDict) { sd.Scalars["params"] = 2 }),
		"no parameter count":      edit(func(sd *StateDict) { delete(sd.Scalars, "params") }),
		"missing hyperparameter":  edit(func(sd *StateDict) { delete(sd.Scalars, "beta2") }),
		"invalid hyperparameter":  edit(func(sd *StateDict) { sd.Scalars["beta1"] = 1 }),
		"negative lr":             edit(func(sd *StateDict) { sd.Scalars["lr"] = -0.1 }),
		"NaN lr":                  edit(func(sd *StateDict) { sd.Scalars["lr"] = math.NaN() }),
		"flag not 0 or 1":         edit(func(sd *StateDict) { sd.Scalars["amsgrad"] = 0.5 }),
		"unknown scalar":          edit(func(sd *StateDict) { sd.Scalars["momentum"] = 0.9 }),
		"fractional step":         edit(func(sd *StateDict) { sd.Scalars["state.0.step"] = 1.5 }),
		"zero step":               edit(func(sd *StateDict) { sd.Scalars["state.0.step"] = 0 }),
		"step out of range":       edit(func(sd *StateDict) { sd.Scalars["state.3.step"] = 1 }),
		"step without state":      edit(func(sd *StateDict) { sd.Scalars["state.2.step"] = 1 }),
		"state without step":      edit(func(sd *StateDict) { delete(sd.Scalars, "state.0.step") }),
		"missing slot":            edit(func(sd *StateDict) { delete(sd.Tensors, "state.0.max_exp_avg_sq") }),
		"slot of another setting": edit(func(sd *StateDict) { sd.Scalars["amsgrad"] = 0 }),
		"unknown slot":            edit(func(sd *StateDict) { sd.Tensors["state.0.momentum_buffer"] = f64.Zeros(2, 2) }),
		"index with leading zero": edit(func(sd *StateDict) { sd.Tensors["state.00.exp_avg"] = f64.Zeros(2, 2) }),
		"index out of range":      edit(func(sd *StateDict) { sd.Tensors["state.7.exp_avg"] = f64.Zeros(2, 2) }),
		"name without index":      edit(func(sd *StateDict) { sd.Tensors["exp_avg"] = f64.Zeros(2, 2) }),
		"wrong shape":             edit(func(sd *StateDict) { sd.Tensors["state.0.exp_avg"] = f64.Zeros(4) }),
		"integer tensor":          edit(func(sd *StateDict) { sd.Tensors["state.0.exp_avg"] = tensor.Of(tensor.Int64).Zeros(2, 2) }),
		"nil tensor":              edit(func(sd *StateDict) { sd.Tensors["state.0.exp_avg"] = nil }),
	}
	for name, sd := range cases {
		t.Run(name, func(t *testing.T) {
			ps2, setGrads2 := refProblem()
			opt := Adam(ps2, 0.5)
			setGrads2()
			opt.Step()
			before := opt.StateDict()
			err := opt.LoadStateDict(sd)
			require.Error(t, err)
			require.True(t, errors.Is(err, ErrState), "%v", err)
			after := opt.StateDict()
			require.Equal(t, before.Scalars, after.Scalars, "a failed load leaves the optimizer unchanged")
			for k, v := range before.Tensors {
				require.Same(t, v, after.Tensors[k])
			}
		})
	}
	require.NoError(t, Adam(ps, 0.5).LoadStateDict(good))
}

func TestInvalidOptimizerArguments(t *testing.T) {
	ps, _ := refProblem()
	nonLeaf := ps[0].Mul(2)
	for name, f := range map[string]func(){
		"Nesterov without momentum":   func() { SGD(ps, 0.1, Nesterov()) },
		"Nesterov with dampening":     func() { SGD(ps, 0.1, Momentum(0.9), Dampening(0.1), Nesterov()) },
		"negative lr":                 func() { SGD(ps, -0.1) },
		"NaN lr":                      func() { Adam(ps, math.NaN()) },
		"negative momentum":           func() { SGD(ps, 0.1, Momentum(-0.5)) },
		"negative weight decay":       func() { AdamW(ps, 0.1, WeightDecay(-1)) },
		"beta1 of 1":                  func() { Adam(ps, 0.1, Betas(1, 0.999)) },
		"negative beta2":              func() { Adam(ps, 0.1, Betas(0.9, -0.1)) },
		"negative eps":                func() { RMSProp(ps, 0.1, Eps(-1)) },
		"negative alpha":              func() { RMSProp(ps, 0.1, Alpha(-1)) },
		"negative lr decay":           func() { AdaGrad(ps, 0.1, LRDecay(-1)) },
		"negative initial acc":        func() { AdaGrad(ps, 0.1, InitialAccumulator(-1)) },
		"option Nesterov for Adam":    func() { Adam(ps, 0.1, Nesterov()) },
		"option Momentum for AdaGrad": func() { AdaGrad(ps, 0.1, Momentum(0.9)) },
		"option Betas for SGD":        func() { SGD(ps, 0.1, Betas(0.9, 0.99)) },
		"zero option":                 func() { SGD(ps, 0.1, Option{}) },
		"no parameters":               func() { SGD(nil, 0.1) },
		"nil parameter":               func() { SGD([]*autograd.Var{nil}, 0.1) },
		"duplicate parameter":         func() { SGD([]*autograd.Var{ps[0], ps[1], ps[0]}, 0.1) },
		"non-leaf parameter":          func() { SGD([]*autograd.Var{nonLeaf}, 0.1) },
		"integer parameter":           func() { SGD([]*autograd.Var{autograd.Const(tensor.Of(tensor.Int64).Zeros(2))}, 0.1) },
		"SetLR negative":              func() { SGD(ps, 0.1).SetLR(-1) },
		"SetLR infinite":              func() { SGD(ps, 0.1).SetLR(math.Inf(1)) },
	} {
		t.Run(name, func(t *testing.T) {
			err := tensor.Catch(f)
			require.Error(t, err)
			require.ErrorIs(t, err, tensor.ErrArgument)
		})
	}
	err := tensor.Catch(func() { SGD(ps, 0.1, Nesterov()) })
	require.ErrorContains(t, err, "Nesterov momentum requires a momentum > 0 and zero dampening")
	err = tensor.Catch(func() { Adam(ps, 0.1, Momentum(0.9)) })
	require.ErrorContains(t, err, "the option Momentum does not apply to Adam (it takes Betas, Eps, WeightDecay, AMSGrad, Maximize)")
}

func TestOptimizerBasics(t *testing.T) {
	ps, setGrads := refProblem()
	opt := SGD(ps, 0.1, Momentum(0.9))
	require.Equal(t, 0.1, opt.LR())
	opt.SetLR(0.05)
	require.Equal(t, 0.05, opt.LR())
	require.Equal(t, ps, opt.Params())
	got := opt.Params()
	got[0] = nil
	require.NotNil(t, opt.Params()[0], "Params returns a copy")
	require.Equal(t, "SGD(lr=0.05, momentum=0.9, dampening=0, weight_decay=0, nesterov=false, maximize=false, params=3)",
		fmtString(opt), "String")

	setGrads()
	require.NotNil(t, ps[0].Grad())
	opt.ZeroGrad()
	for _, p := range ps {
		require.Nil(t, p.Grad())
	}
	opt.Step() // no gradients: nothing moves, no state
	require.Equal(t, refP0, ps[0].Detach().Float64s())
	require.Empty(t, opt.StateDict().Tensors)
}

// TestStepOnNonContiguousParameter updates a parameter whose tensor is a
// transposed view of a buffer: the update lands in that buffer.
func TestStepOnNonContiguousParameter(t *testing.T) {
	base := tensor.FromSlice([]float64{1, 2, 3, 4, 5, 6}, 2, 3)
	p := autograd.Param(base.T())
	p.SetGrad(tensor.Of(tensor.Float64).Ones(3, 2))
	SGD([]*autograd.Var{p}, 0.5).Step()
	require.Equal(t, []float64{0.5, 1.5, 2.5, 3.5, 4.5, 5.5}, base.Float64s())
}

func TestSaveStateErrors(t *testing.T) {
	dir := t.TempDir()
	ps, setGrads := refProblem()
	opt := Adam(ps, 0.1)
	setGrads()
	opt.Step()
	path := filepath.Join(dir, "opt.safetensors")
	require.NoError(t, SaveState(path, opt))

	// Loading into another kind, or into a schedule, fails cleanly.
	require.ErrorIs(t, LoadState(path, SGD(ps, 0.1)), ErrState)
	require.ErrorIs(t, LoadState(path, StepLR(SGD(ps, 0.1), 1, 0.1)), ErrState)
	// A missing file is an I/O error, not a corrupt one.
	err := LoadState(filepath.Join(dir, "missing.safetensors"), opt)
	require.Error(t, err)
	require.ErrorIs(t, err, os.ErrNotExist)

	// A checkpoint is not a state file.
	ckpt := filepath.Join(dir, "ckpt.safetensors")
	require.NoError(t, SaveCheckpoint(ckpt, Checkpoint{Optimizer: opt}))
	require.ErrorIs(t, LoadState(ckpt, opt), ErrCorrupt)

	// Every truncation is an error.
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	bad := filepath.Join(dir, "bad.safetensors")
	for n := 0; n < len(data); n += 7 {
		require.NoError(t, os.WriteFile(bad, data[:n], 0o644))
		require.ErrorIs(t, LoadState(bad, opt), ErrCorrupt, "truncated to %d bytes", n)
	}
}
