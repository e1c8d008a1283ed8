package tensor_test

import (
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/tensor"
)

func TestFusedOptimSteps(t *testing.T) {
	p := tensor.FromSlice([]float64{1, -2, 3}, 3)
	g := tensor.FromSlice([]float64{0.5, 0.5, -1}, 3)
	buf := tensor.FromSlice([]float64{1, 1, 1}, 3)
	// buf = 0.9*buf + g; p = p - 0.1*buf
	tensorOps.FusedSGDStep(p, g, buf, device.OptimHyper{LR: 0.1, Momentum: 0.9})
	require.InDeltaSlice(t, []float64{1.4, 1.4, -0.1}, buf.Float64s(), 1e-15)
	require.InDeltaSlice(t, []float64{0.86, -2.14, 3.01}, p.Float64s(), 1e-15)

	// First Adam step: m = 0.1 g, v = 0.001 g², p -= lr * sign(g) (roughly).
	p = tensor.FromSlice([]float64{1, -2, 3}, 3)
	m, v := tensor.Of(tensor.Float64).Zeros(3), tensor.Of(tensor.Float64).Zeros(3)
	tensorOps.FusedAdamStep(p, g, m, v, nil, device.OptimHyper{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, StepSize: 0.01 / 0.1, BC2Sqrt: 0.0316227766016838, Shrink: 1})
	require.InDeltaSlice(t, []float64{0.99, -2.01, 3.01}, p.Float64s(), 1e-6)
	require.InDeltaSlice(t, []float64{0.05, 0.05, -0.1}, m.Float64s(), 1e-15)

	// AdaGrad: sum = 1 + g², p -= 0.1 g / (sqrt(sum) + eps).
	p = tensor.FromSlice([]float64{1, -2, 3}, 3)
	sum := tensor.FromSlice([]float64{1, 1, 1}, 3)
	tensorOps.FusedAdagradStep(p, g, sum, device.OptimHyper{LR: 0.1, Eps: 1e-10})
	require.InDeltaSlice(t, []float64{1.25, 1.25, 2}, sum.Float64s(), 1e-15)
	require.InDeltaSlice(t, []float64{1 - 0.05/math.Sqrt(1.25), -2 - 0.05/math.Sqrt(1.25), 3 + 0.1/math.Sqrt(2)}, p.Float64s(), 1e-9)

	// RMSprop with momentum: sq = 0.1 g², buf = g / (sqrt(sq) + eps), p -= 0.01 buf.
	p = tensor.FromSlice([]float64{1, -2, 3}, 3)
	sq, mb := tensor.Of(tensor.Float64).Zeros(3), tensor.Of(tensor.Float64).Zeros(3)
	tensorOps.FusedRMSPropStep(p, g, sq, mb, nil, device.OptimHyper{LR: 0.01, Alpha: 0.9, Eps: 1e-8, Momentum: 0.5})
	require.InDeltaSlice(t, []float64{0.025, 0.025, 0.1}, sq.Float64s(), 1e-15)
	require.InDeltaSlice(t, []float64{math.Sqrt(10), math.Sqrt(10), -math.Sqrt(10)}, mb.Float64s(), 1e-6)
	require.InDeltaSlice(t, []float64{1 - 0.01*math.Sqrt(10), -2 - 0.01*math.Sqrt(10), 3 + 0.01*math.Sqrt(10)}, p.Float64s(), 1e-7)

	require.True(t, tensorOps.CanFuseOptim(p, g, nil, m))
	require.False(t, tensorOps.CanFuseOptim(p, tensor.Zeros(3)))                    // dtype
	require.False(t, tensorOps.CanFuseOptim(p, tensor.Of(tensor.Float64).Zeros(4))) // shape
	x := tensor.Of(tensor.Float64).Zeros(2, 2)
	require.False(t, tensorOps.CanFuseOptim(x, x.T()))

	for name, f := range map[string]func(){
		"missing state":  func() { tensorOps.FusedSGDStep(p, g, nil, device.OptimHyper{LR: 0.1, Momentum: 0.9}) },
		"non-contiguous": func() { tensorOps.FusedSGDStep(x, x.T(), nil, device.OptimHyper{LR: 0.1}) },
		"adam states":    func() { tensorOps.FusedAdamStep(p, g, m, nil, nil, device.OptimHyper{}) },
		"adagrad sum":    func() { tensorOps.FusedAdagradStep(p, g, nil, device.OptimHyper{LR: 0.1}) },
		"rmsprop centered": func() {
			tensorOps.FusedRMSPropStep(p, g, sq, nil, nil, device.OptimHyper{LR: 0.1, Alpha: 0.9, Centered: true})
		},
	} {
		err := tensor.Catch(f)
		require.Error(t, err, name)
		require.True(t, errors.Is(err, tensor.ErrArgument), "%s: %v", name, err)
	}
}
