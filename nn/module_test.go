package nn_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
)

// bigModel is the model whose names and printout are compared with
// PyTorch's for
//
//	nn.Sequential(nn.Conv2d(1,2,3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(),
//	    nn.Linear(8,3), nn.BatchNorm1d(3), nn.PReLU(),
//	    nn.Sequential(nn.Linear(3,2), nn.Dropout(0.5)))
func bigModel() *nn.SequentialModule {
	return nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(),
		nn.Linear(8, 3), nn.BatchNorm1d(3), nn.PReLU(),
		nn.Sequential(nn.Linear(3, 2), nn.Dropout(0.5)))
}

func names(named []nn.NamedVar) []string {
	out := make([]string, len(named))
	for i, n := range named {
		out[i] = n.Name
	}
	return out
}

func TestNamesMatchPyTorch(t *testing.T) {
	m := bigModel()
	// [n for n, _ in m.named_parameters()]
	require.Equal(t, []string{"0.weight", "0.bias", "1.weight", "1.bias", "4.weight", "4.bias", "5.weight", "5.bias",
		"6.weight", "7.0.weight", "7.0.bias"}, names(m.NamedParameters()))
	// list(m.state_dict().keys())
	var keys []string
	for _, e := range nn.StateDict(m) {
		keys = append(keys, e.Name)
	}
	require.Equal(t, []string{"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked",
		"4.weight", "4.bias", "5.weight", "5.bias", "5.running_mean", "5.running_var", "5.num_batches_tracked", "6.weight",
		"7.0.weight", "7.0.bias"}, keys)
	require.Len(t, m.Parameters(), 11)
	require.Equal(t, 2*9+2+2+2+24+3+3+3+1+6+2, nn.NumParameters(m))
	// print(m)
	require.Equal(t, `Sequential(
  (0): Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1))
  (1): BatchNorm2d(2, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
  (2): ReLU()
  (3): Flatten(start_dim=1, end_dim=-1)
  (4): Linear(in_features=8, out_features=3, bias=True)
  (5): BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
  (6): PReLU(num_parameters=1)
  (7): Sequential(
    (0): Linear(in_features=3, out_features=2, bias=True)
    (1): Dropout(p=0.5, inplace=False)
  )
)`, m.String())
	require.Equal(t, "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)", fmt.Sprint(nn.MaxPool2d(2, 0)))
	require.Equal(t, "AvgPool2d(kernel_size=3, stride=1, padding=1)", fmt.Sprint(nn.AvgPool2d(3, 1, nn.Padding(1))))
	require.Equal(t, "Conv2d(3, 4, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), bias=False)",
		fmt.Sprint(nn.Conv2d(3, 4, 3, nn.Stride(2), nn.Padding(1), nn.NoBias())))
}

func TestForwardShapesAndTrainEval(t *testing.T) {
	tensor.ManualSeed(3)
	m := bigModel()
	x := autograd.Const(tensor.Randn(4, 1, 4, 4))
	y := m.Forward(x)
	require.Equal(t, []int{4, 2}, y.Shape())
	y.Sum().Backward()
	for _, p := range m.NamedParameters() {
		require.NotNil(t, p.Var.Grad(), p.Name)
	}
	nn.ZeroGrad(m)
	for _, p := range m.Parameters() {
		require.Nil(t, p.Grad())
	}

	// Eval reaches every level of nesting, Train switches back.
	var all func(mod nn.Module) []nn.Module
	all = func(mod nn.Module) []nn.Module {
		out := []nn.Module{mod}
		if s, ok := mod.(*nn.SequentialModule); ok {
			for _, l := range s.Layers() {
				out = append(out, all(l)...)
			}
		}
		return out
	}
	mods := all(m)
	require.Len(t, mods, 11)
	for _, mod := range mods {
		require.True(t, mod.Training())
	}
	m.Eval()
	for _, mod := range mods {
		require.False(t, mod.Training(), "%v", mod)
	}
	// In evaluation mode the model is deterministic (no dropout, running
	// statistics) and leaves the BatchNorm buffers alone.
	before := nn.StateDict(m)[4].Tensor.Clone().Float32s() // 1.running_mean
	y1 := m.Forward(x).Detach().Float32s()
	y2 := m.Forward(x).Detach().Float32s()
	require.Equal(t, y1, y2)
	require.Equal(t, before, nn.StateDict(m)[4].Tensor.Float32s())
	m.Train()
	for _, mod := range mods {
		require.True(t, mod.Training())
	}
}

func TestToAndCast(t *testing.T) {
	m := bigModel()
	var mod nn.Module = nn.Sequential(nn.Linear(2, 3), nn.ReLU()).To(device.CPU())
	require.Equal(t, device.CPU(), mod.Parameters()[0].Device())
	w := m.Parameters()[0]
	data := w.Detach()
	require.Same(t, m, m.To(device.CPU()))
	require.Same(t, data, w.Detach(), "moving to the current device must not copy")

	nn.Cast(m, tensor.Float64)
	for _, e := range nn.StateDict(m) {
		if strings.HasSuffix(e.Name, "num_batches_tracked") {
			require.Equal(t, tensor.Int64, e.Tensor.DType(), e.Name)
			continue
		}
		require.Equal(t, tensor.Float64, e.Tensor.DType(), e.Name)
	}
	require.Same(t, w, m.Parameters()[0], "Cast keeps the parameter Vars (optimizers hold them)")
	y := m.Forward(autograd.Const(tensor.Of(tensor.Float64).Randn(2, 1, 4, 4)))
	require.Equal(t, tensor.Float64, y.DType())
	require.ErrorIs(t, tensor.Catch(func() { nn.Cast(m, tensor.Int64) }), tensor.ErrDType)
}

func TestDefaultInitMatchesPyTorchBounds(t *testing.T) {
	tensor.ManualSeed(42)
	l := nn.Linear(300, 200)
	c := nn.Conv2d(6, 40, 5)
	cases := []struct {
		name  string
		w, b  *autograd.Var
		fanIn int
	}{
		{"linear", l.Weight, l.Bias, 300},
		{"conv", c.Weight, c.Bias, 6 * 5 * 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// kaiming_uniform_(w, a=√5) and the bias init both give U(-1/√fanIn, 1/√fanIn).
			bound := 1 / math.Sqrt(float64(tc.fanIn))
			for _, v := range []*autograd.Var{tc.w, tc.b} {
				vals := v.Detach().Float32s()
				lo, hi, sum, sq := math.Inf(1), math.Inf(-1), 0.0, 0.0
				for _, x := range vals {
					f := float64(x)
					lo, hi = min(lo, f), max(hi, f)
					sum += f
					sq += f * f
				}
				n := float64(len(vals))
				require.GreaterOrEqual(t, lo, -bound)
				require.Less(t, hi, bound)
				if len(vals) > 1000 {
					// U(-b, b) has mean 0, standard deviation b/√3, and fills the range.
					require.InDelta(t, 0, sum/n, 0.02*bound)
					require.InDelta(t, bound/math.Sqrt(3), math.Sqrt(sq/n), 0.02*bound)
					require.Less(t, lo, -0.99*bound)
					require.Greater(t, hi, 0.99*bound)
				}
			}
		})
	}
	require.Nil(t, nn.Linear(2, 3, nn.NoBias()).Bias)
	require.Len(t, nn.Conv2d(2, 3, 3, nn.NoBias()).Parameters(), 1)
}

func TestInitialisers(t *testing.T) {
	stats := func(v *autograd.Var) (mean, std, lo, hi float64) {
		vals := v.Detach().As(tensor.Float64).Float64s()
		lo, hi = math.Inf(1), math.Inf(-1)
		for _, x := range vals {
			mean += x
			lo, hi = min(lo, x), max(hi, x)
		}
		mean /= float64(len(vals))
		for _, x := range vals {
			std += (x - mean) * (x - mean)
		}
		return mean, math.Sqrt(std / float64(len(vals))), lo, hi
	}
	in, out := nn.Fans([]int{64, 16, 3, 3})
	require.Equal(t, [2]int{144, 576}, [2]int{in, out})
	in, out = nn.Fans([]int{10, 20})
	require.Equal(t, [2]int{20, 10}, [2]int{in, out})
	require.ErrorIs(t, tensor.Catch(func() { nn.Fans([]int{5}) }), tensor.ErrShape)

	v := autograd.Param(tensor.Empty(256, 128))
	cases := []struct {
		name      string
		init      func()
		mean, std float64
		bound     float64 // 0: unbounded
	}{
		// nn.init.uniform_(v, -2, 3)
		{"uniform", func() { nn.InitUniform(v, -2, 3) }, 0.5, 5 / math.Sqrt(12), 3},
		// nn.init.normal_(v, 1, 0.5)
		{"normal", func() { nn.InitNormal(v, 1, 0.5) }, 1, 0.5, 0},
		// xavier_uniform_: a = √(6/(128+256))
		{"xavier uniform", func() { nn.XavierUniform(v, 1) }, 0, math.Sqrt(6.0/384) / math.Sqrt(3), math.Sqrt(6.0 / 384)},
		// xavier_normal_ with gain 2: std = 2·√(2/384)
		{"xavier normal", func() { nn.XavierNormal(v, 2) }, 0, 2 * math.Sqrt(2.0/384), 0},
		// kaiming_uniform_(a=0, fan_in): bound √2·√(3/128)
		{"kaiming uniform", func() { nn.KaimingUniform(v, 0, nn.FanIn) }, 0, math.Sqrt2 / math.Sqrt(128), math.Sqrt2 * math.Sqrt(3.0/128)},
		// kaiming_normal_(a=0, fan_out): std √2/√256
		{"kaiming normal fan out", func() { nn.KaimingNormal(v, 0, nn.FanOut) }, 0, math.Sqrt2 / 16, 0},
		{"zeros", func() { nn.InitZeros(v) }, 0, 0, 0},
		{"ones", func() { nn.InitOnes(v) }, 1, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := v.Detach()
			c.init()
			require.Same(t, data, v.Detach(), "initialisers work in place")
			mean, std, lo, hi := stats(v)
			tol := 0.03*c.std + 1e-12
			require.InDelta(t, c.mean, mean, tol)
			require.InDelta(t, c.std, std, tol)
			if c.bound != 0 {
				require.LessOrEqual(t, hi, c.bound)
				require.GreaterOrEqual(t, lo, c.mean-(c.bound-c.mean))
			}
		})
	}
	require.InDelta(t, 5.0/3, nn.Gain("tanh", 0), 1e-15)
	require.InDelta(t, math.Sqrt(2/(1+0.04)), nn.Gain("leaky_relu", 0.2), 1e-15)

	// Reproducible from the default generator.
	a, b := autograd.Param(tensor.Empty(5)), autograd.Param(tensor.Empty(5))
	tensor.ManualSeed(9)
	nn.InitNormal(a, 0, 1)
	tensor.ManualSeed(9)
	nn.InitNormal(b, 0, 1)
	require.Equal(t, a.Detach().Float32s(), b.Detach().Float32s())
}

func TestLayersAreReproducibleWithManualSeed(t *testing.T) {
	build := func() []float32 {
		tensor.ManualSeed(777)
		m := nn.Sequential(nn.Linear(2, 10), nn.Sigmoid(), nn.Conv2d(1, 1, 2))
		var out []float32
		for _, p := range m.Parameters() {
			out = append(out, p.Detach().Float32s()...)
		}
		return out
	}
	require.Equal(t, build(), build())
}

func TestDropoutModule(t *testing.T) {
	x := autograd.Const(tensor.Ones(100, 100))
	d := nn.Dropout(0.25)
	tensor.ManualSeed(5)
	a := d.Forward(x).Detach().Float32s()
	tensor.ManualSeed(5)
	b := d.Forward(x).Detach().Float32s()
	require.Equal(t, a, b, "ManualSeed makes the masks reproducible")
	c := d.Forward(x).Detach().Float32s()
	require.NotEqual(t, a, c, "the next mask differs")
	kept := 0
	for _, v := range a {
		switch v {
		case 0:
		case float32(1 / 0.75):
			kept++
		default:
			t.Fatalf("dropout output %v is neither 0 nor 1/(1-p)", v)
		}
	}
	require.InDelta(t, 0.75, float64(kept)/1e4, 0.02)
	d.Eval()
	require.Same(t, x, d.Forward(x), "Dropout is the identity in evaluation mode")
	require.ErrorIs(t, tensor.Catch(func() { nn.Dropout(-0.1) }), tensor.ErrArgument)
}

func TestActivationModules(t *testing.T) {
	x := autograd.Const(tensor.FromSlice([]float64{-2, -0.5, 0, 0.5, 2}, 1, 5))
	cases := []struct {
		m    nn.Module
		want []float64
	}{
		{nn.Threshold(0.1, 20), []float64{20, 20, 20, 0.5, 2}},
		{nn.ReLU(), []float64{0, 0, 0, 0.5, 2}},
		{nn.LeakyReLU(0.1), []float64{-0.2, -0.05, 0, 0.5, 2}},
		{nn.ELU(1), []float64{math.Exp(-2) - 1, math.Exp(-0.5) - 1, 0, 0.5, 2}},
		{nn.Sigmoid(), []float64{1 / (1 + math.Exp(2)), 1 / (1 + math.Exp(0.5)), 0.5, 1 / (1 + math.Exp(-0.5)), 1 / (1 + math.Exp(-2))}},
		{nn.Tanh(), []float64{math.Tanh(-2), math.Tanh(-0.5), 0, math.Tanh(0.5), math.Tanh(2)}},
		{nn.PReLU(), []float64{-0.5, -0.125, 0, 0.5, 2}},
		{nn.Step(), []float64{0, 0, 0, 1, 1}},
		{nn.Identity(), []float64{-2, -0.5, 0, 0.5, 2}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.m), func(t *testing.T) {
			nn.Cast(c.m, tensor.Float64)
			require.InDeltaSlice(t, c.want, c.m.Forward(x).Detach().Float64s(), 1e-12)
		})
	}
	sm := nn.Softmax(1).Forward(x).Detach().Float64s()
	smin := nn.Softmin(1).Forward(x).Detach().Float64s()
	lsm := nn.LogSoftmax(1).Forward(x).Detach().Float64s()
	total := 0.0
	for i := range sm {
		total += sm[i]
		require.InDelta(t, math.Log(sm[i]), lsm[i], 1e-12)
		require.InDelta(t, sm[i], smin[len(sm)-1-i], 1e-12, "softmin(x) = softmax(-x)")
	}
	require.InDelta(t, 1, total, 1e-12)
}

func TestStepHasNoGradient(t *testing.T) {
	m := nn.Sequential(nn.Linear(2, 1), nn.Step())
	y := m.Forward(autograd.Const(tensor.FromSlice([]float32{1, 1}, 1, 2)))
	err := tensor.Catch(func() { y.Sum().Backward() })
	require.Error(t, err)
	require.ErrorContains(t, err, "step function has no gradient")
}

func TestGradCheckModules(t *testing.T) {
	gen := tensor.NewGenerator(21)
	rnd := func(shape ...int) *tensor.Tensor { return tensor.Of(tensor.Float64).WithGenerator(gen).Randn(shape...) }
	cases := []struct {
		m     nn.Module
		shape []int
	}{
		{nn.Threshold(0.1, 20), []int{3, 4}},
		{nn.Sigmoid(), []int{3, 4}},
		{nn.Tanh(), []int{3, 4}},
		{nn.ReLU(), []int{3, 4}},
		{nn.LeakyReLU(0.2), []int{3, 4}},
		{nn.PReLU(), []int{3, 4}},
		{nn.PReLUChannels(3), []int{2, 3, 2}},
		{nn.ELU(0.7), []int{3, 4}},
		{nn.GELU(), []int{3, 4}},
		{nn.Softplus(), []int{3, 4}},
		{nn.Softmax(1), []int{3, 4}},
		{nn.Softmin(0), []int{3, 4}},
		{nn.LogSoftmax(-1), []int{3, 4}},
		{nn.Linear(4, 3), []int{5, 4}},
		{nn.Conv2d(2, 3, 3, nn.Stride(2), nn.Padding(1)), []int{2, 2, 5, 5}},
		{nn.Conv2d(2, 2, 2, nn.Dilation(2), nn.NoBias()), []int{1, 2, 5, 4}},
		{nn.MaxPool2d(2, 1), []int{2, 2, 3, 4}},
		{nn.AvgPool2d(2, 0), []int{2, 2, 4, 4}},
		{nn.BatchNorm1d(3), []int{4, 3}},
		{nn.BatchNorm2d(2), []int{3, 2, 2, 2}},
		{nn.Flatten(), []int{2, 3, 2}},
		{nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)), []int{5, 3}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.m), func(t *testing.T) {
			nn.Cast(c.m, tensor.Float64)
			// Every module is checked in training mode (BatchNorm with batch
			// statistics); its parameters' gradients are checked by the
			// functional tests of package autograd.
			require.True(t, c.m.Training())
			require.NoError(t, autograd.GradCheck(func(xs []*autograd.Var) *autograd.Var { return c.m.Forward(xs[0]) }, rnd(c.shape...)))
		})
	}
}

func TestLayerMisuse(t *testing.T) {
	cases := []struct {
		name string
		f    func()
		kind error
		msg  string
	}{
		{"linear option", func() { nn.Linear(2, 3, nn.Stride(2)) }, tensor.ErrArgument, "option Stride does not apply"},
		{"pool option", func() { nn.MaxPool2d(2, 2, nn.NoBias()) }, tensor.ErrArgument, "option NoBias does not apply"},
		{"conv stride", func() { nn.Conv2d(1, 1, 3, nn.Stride(0)) }, tensor.ErrArgument, "stride [0 0] must be at least 1"},
		{"conv padding", func() { nn.Conv2d(1, 1, 3, nn.Padding(-1)) }, tensor.ErrArgument, "padding"},
		{"linear size", func() { nn.Linear(0, 3) }, tensor.ErrArgument, "in must be at least 1"},
		{"bn2d rank", func() { nn.BatchNorm2d(3).Forward(autograd.Const(tensor.Zeros(4, 3))) }, tensor.ErrShape, "[N, C, H, W]"},
		{"bn1d rank", func() { nn.BatchNorm1d(3).Forward(autograd.Const(tensor.Zeros(4, 3, 2, 2))) }, tensor.ErrShape, "[N, C] or [N, C, L]"},
		{"linear input", func() { nn.Linear(3, 2).Forward(autograd.Const(tensor.Zeros(4, 5))) }, tensor.ErrShape, "input features"},
		{"reduction", func() { nn.MSELoss(nn.Sum, nn.Mean) }, tensor.ErrArgument, "at most one reduction"},
		{"register dot", func() { var b nn.Base; b.RegisterModule("a.b", nn.ReLU()) }, tensor.ErrArgument, "contain no '.'"},
		{"register twice", func() {
			var b nn.Base
			b.RegisterParameter("w", autograd.Param(tensor.Zeros(1)))
			b.RegisterBuffer("w", autograd.Const(tensor.Zeros(1)))
		}, tensor.ErrArgument, "already has an entry"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := tensor.Catch(c.f)
			require.Error(t, err)
			require.True(t, errors.Is(err, c.kind), "%v", err)
			require.ErrorContains(t, err, c.msg)
		})
	}
}

// mlp is a user-defined module built on nn.Base.
type mlp struct {
	nn.Base
	fc1, fc2 *nn.LinearModule
	bn       *nn.BatchNormModule
	scale    *autograd.Var
}

func newMLP() *mlp {
	m := &mlp{fc1: nn.Linear(4, 8), bn: nn.BatchNorm1d(8), fc2: nn.Linear(8, 2)}
	m.scale = m.RegisterParameter("scale", autograd.Param(tensor.Ones(1)))
	m.RegisterModule("fc1", m.fc1)
	m.RegisterModule("bn", m.bn)
	m.RegisterModule("fc2", m.fc2)
	return m
}

func (m *mlp) Forward(x *autograd.Var) *autograd.Var {
	return m.fc2.Forward(m.bn.Forward(m.fc1.Forward(x)).Relu()).Mul(m.scale)
}

func (m *mlp) To(dev device.Device) nn.Module { m.MoveTo(dev); return m }

func TestCustomModuleOnBase(t *testing.T) {
	m := newMLP()
	require.Equal(t, []string{"scale", "fc1.weight", "fc1.bias", "bn.weight", "bn.bias", "fc2.weight", "fc2.bias"}, names(m.NamedParameters()))
	require.Equal(t, []string{"bn.running_mean", "bn.running_var", "bn.num_batches_tracked"}, names(m.NamedBuffers()))
	m.Eval()
	require.False(t, m.bn.Training())
	require.Len(t, m.Children(), 3)
	y := m.To(device.CPU()).Forward(autograd.Const(tensor.Randn(3, 4)))
	require.Equal(t, []int{3, 2}, y.Shape())
}
