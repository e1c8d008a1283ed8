package optim

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/tensor"
)

// TestFusedMatchesUnfused runs every fused configuration beside the
// tensor-op update (the algorithm with fused removed) and requires the
// parameters and states to agree bit for bit, in float32 and float64.
func TestFusedMatchesUnfused(t *testing.T) {
	type mk func([]*autograd.Var) Optimizer
	cases := map[string]mk{
		"SGD":        func(ps []*autograd.Var) Optimizer { return SGD(ps, 0.1) },
		"SGD wd max": func(ps []*autograd.Var) Optimizer { return SGD(ps, 0.1, WeightDecay(0.03), Maximize()) },
		"SGD momentum": func(ps []*autograd.Var) Optimizer {
			return SGD(ps, 0.1, Momentum(0.9), Dampening(0.2), WeightDecay(0.01))
		},
		"SGD nesterov": func(ps []*autograd.Var) Optimizer { return SGD(ps, 0.07, Momentum(0.8), Nesterov()) },
		"Adam":         func(ps []*autograd.Var) Optimizer { return Adam(ps, 0.01) },
		"Adam wd ams": func(ps []*autograd.Var) Optimizer {
			return Adam(ps, 0.02, WeightDecay(0.1), AMSGrad(), Betas(0.8, 0.95))
		},
		"Adam maximize": func(ps []*autograd.Var) Optimizer { return Adam(ps, 0.02, Maximize(), Eps(1e-6)) },
		"AdamW":         func(ps []*autograd.Var) Optimizer { return AdamW(ps, 0.01) },
		"AdamW ams max": func(ps []*autograd.Var) Optimizer { return AdamW(ps, 0.03, WeightDecay(0.2), AMSGrad(), Maximize()) },
	}
	// AdaGrad and RMSProp in every combination of their options.
	for bits := range 16 {
		on := func(i int) bool { return bits&(1<<i) != 0 }
		var opts []Option
		name := "AdaGrad"
		if on(0) {
			opts, name = append(opts, LRDecay(0.05)), name+" lr_decay"
		}
		if on(1) {
			opts, name = append(opts, WeightDecay(0.1)), name+" wd"
		}
		if on(2) {
			opts, name = append(opts, Maximize()), name+" max"
		}
		if on(3) {
			opts, name = append(opts, InitialAccumulator(0.3), Eps(1e-3)), name+" init eps"
		}
		cases[name] = func(ps []*autograd.Var) Optimizer { return AdaGrad(ps, 0.05, opts...) }
	}
	for bits := range 32 {
		on := func(i int) bool { return bits&(1<<i) != 0 }
		var opts []Option
		name := "RMSProp"
		if on(0) {
			opts, name = append(opts, Momentum(0.7)), name+" momentum"
		}
		if on(1) {
			opts, name = append(opts, Centered()), name+" centered"
		}
		if on(2) {
			opts, name = append(opts, WeightDecay(0.1)), name+" wd"
		}
		if on(3) {
			opts, name = append(opts, Maximize()), name+" max"
		}
		if on(4) {
			opts, name = append(opts, Alpha(0.8), Eps(1e-4)), name+" alpha eps"
		}
		cases[name] = func(ps []*autograd.Var) Optimizer { return RMSProp(ps, 0.01, opts...) }
	}
	for name, newOpt := range cases {
		for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
			t.Run(fmt.Sprintf("%s/%v", name, dt), func(t *testing.T) {
				r := rand.New(rand.NewPCG(5, 6))
				vals := make1(r, 257)
				p1 := autograd.Param(tensor.FromSlice(vals, 257).As(dt))
				p2 := autograd.Param(tensor.FromSlice(vals, 257).As(dt))
				fused, plain := newOpt([]*autograd.Var{p1}), newOpt([]*autograd.Var{p2})
				alg := *plain.(*optimizer).algo
				require.NotNil(t, alg.fused)
				alg.fused = nil
				plain.(*optimizer).algo = &alg
				for step := range 4 {
					g := tensor.FromSlice(make1(r, 257), 257).As(dt)
					p1.SetGrad(g)
					p2.SetGrad(g.Clone())
					fused.Step()
					plain.Step()
					require.Equal(t, p2.Detach().As(tensor.Float64).Float64s(), p1.Detach().As(tensor.Float64).Float64s(), "step %d", step)
					sf, sp := fused.StateDict(), plain.StateDict()
					require.Equal(t, len(sp.Tensors), len(sf.Tensors))
					for k, v := range sp.Tensors {
						require.Equal(t, v.As(tensor.Float64).Float64s(), sf.Tensors[k].As(tensor.Float64).Float64s(), "step %d %s", step, k)
					}
				}
			})
		}
	}
}

func make1(r *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = r.NormFloat64()
	}
	return v
}

// TestFusedFallsBack checks that a non-contiguous gradient takes the
// tensor-op path with the same result.
func TestFusedFallsBack(t *testing.T) {
	p1 := autograd.Param(tensor.FromSlice([]float64{1, 2, 3, 4}, 2, 2))
	p2 := autograd.Param(tensor.FromSlice([]float64{1, 2, 3, 4}, 2, 2))
	g := tensor.FromSlice([]float64{0.5, -1, 2, 0.25}, 2, 2)
	p1.SetGrad(g.T().Contiguous().T()) // a transposed view: not contiguous
	p2.SetGrad(g)
	require.False(t, p1.Grad().IsContiguous())
	o1, o2 := Adam([]*autograd.Var{p1}, 0.1), Adam([]*autograd.Var{p2}, 0.1)
	o1.Step()
	o2.Step()
	require.Equal(t, p2.Detach().Float64s(), p1.Detach().Float64s())
}
