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
	cases := map[string]func([]*autograd.Var) Optimizer{
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
	everySubset(cases, "AdaGrad", func(ps []*autograd.Var, o ...Option) Optimizer { return AdaGrad(ps, 0.05, o...) },
		[]namedOptions{{"lr_decay", []Option{LRDecay(0.05)}}, {"wd", []Option{WeightDecay(0.1)}},
			{"max", []Option{Maximize()}}, {"init eps", []Option{InitialAccumulator(0.3), Eps(1e-3)}}})
	everySubset(cases, "RMSProp", func(ps []*autograd.Var, o ...Option) Optimizer { return RMSProp(ps, 0.01, o...) },
		[]namedOptions{{"momentum", []Option{Momentum(0.7)}}, {"centered", []Option{Centered()}},
			{"wd", []Option{WeightDecay(0.1)}}, {"max", []Option{Maximize()}}, {"alpha eps", []Option{Alpha(0.8), Eps(1e-4)}}})
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

// namedOptions is one switch of a test optimizer: its label and options.
type namedOptions struct {
	name string
	opts []Option
}

// everySubset adds to cases one optimizer made by newOpt for each subset
// of the switches, named name followed by the switches' labels.
func everySubset(cases map[string]func([]*autograd.Var) Optimizer, name string,
	newOpt func([]*autograd.Var, ...Option) Optimizer, switches []namedOptions) {
	for bits := range 1 << len(switches) {
		label, opts := name, []Option(nil)
		for i, sw := range switches {
			if bits&(1<<i) != 0 {
				label += " " + sw.name
				opts = append(opts, sw.opts...)
			}
		}
		cases[label] = func(ps []*autograd.Var) Optimizer { return newOpt(ps, opts...) }
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
