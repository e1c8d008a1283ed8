package tensor_test

import (
	"errors"
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

	require.True(t, tensorOps.CanFuseOptim(p, g, nil, m))
	require.False(t, tensorOps.CanFuseOptim(p, tensor.Zeros(3)))                    // dtype
	require.False(t, tensorOps.CanFuseOptim(p, tensor.Of(tensor.Float64).Zeros(4))) // shape
	x := tensor.Of(tensor.Float64).Zeros(2, 2)
	require.False(t, tensorOps.CanFuseOptim(x, x.T()))

	for name, f := range map[string]func(){
		"missing state":  func() { tensorOps.FusedSGDStep(p, g, nil, device.OptimHyper{LR: 0.1, Momentum: 0.9}) },
		"non-contiguous": func() { tensorOps.FusedSGDStep(x, x.T(), nil, device.OptimHyper{LR: 0.1}) },
		"adam states":    func() { tensorOps.FusedAdamStep(p, g, m, nil, nil, device.OptimHyper{}) },
	} {
		err := tensor.Catch(f)
		require.Error(t, err, name)
		require.True(t, errors.Is(err, tensor.ErrArgument), "%s: %v", name, err)
	}
}
