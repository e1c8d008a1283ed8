package conformance

import (
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/optim"
	"github.com/nabla-go/nabla/tensor"
)

// optimCase is one optimizer configuration.
type optimCase struct {
	name string
	make func(params []*autograd.Var) optim.Optimizer
}

func optimCases() []optimCase {
	return []optimCase{
		{"SGD", func(p []*autograd.Var) optim.Optimizer { return optim.SGD(p, 0.1) }},
		{"SGD/momentum weight decay", func(p []*autograd.Var) optim.Optimizer {
			return optim.SGD(p, 0.05, optim.Momentum(0.9), optim.Dampening(0.1), optim.WeightDecay(1e-2))
		}},
		{"SGD/nesterov maximize", func(p []*autograd.Var) optim.Optimizer {
			return optim.SGD(p, 0.05, optim.Momentum(0.8), optim.Nesterov(), optim.Maximize())
		}},
		{"AdaGrad", func(p []*autograd.Var) optim.Optimizer {
			return optim.AdaGrad(p, 0.1, optim.LRDecay(0.01), optim.InitialAccumulator(0.1), optim.WeightDecay(1e-3))
		}},
		{"RMSProp", func(p []*autograd.Var) optim.Optimizer { return optim.RMSProp(p, 0.01) }},
		{"RMSProp/centered momentum", func(p []*autograd.Var) optim.Optimizer {
			return optim.RMSProp(p, 0.01, optim.Alpha(0.9), optim.Centered(), optim.Momentum(0.5), optim.WeightDecay(1e-2))
		}},
		{"Adam", func(p []*autograd.Var) optim.Optimizer { return optim.Adam(p, 1e-2) }},
		{"Adam/amsgrad weight decay", func(p []*autograd.Var) optim.Optimizer {
			return optim.Adam(p, 1e-2, optim.AMSGrad(), optim.WeightDecay(1e-2), optim.Betas(0.8, 0.99))
		}},
		{"AdamW", func(p []*autograd.Var) optim.Optimizer { return optim.AdamW(p, 1e-2, optim.WeightDecay(0.1)) }},
	}
}

// optimRun trains a small network for three steps on dev with c and
// returns its final state and the optimizer's state dict.
func optimRun(c optimCase, dt tensor.DType, dev device.Device, clip bool) ([]nn.NamedTensor, optim.StateDict) {
	tensor.ManualSeed(31)
	m := nn.Cast(nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3)), dt).To(dev)
	x := autograd.Const(tensor.Randn(17, 5).As(dt).To(dev))
	y := autograd.Const(tensor.Randn(17, 3).As(dt).To(dev))
	opt := c.make(m.Parameters())
	for range 3 {
		opt.ZeroGrad()
		nn.MSELoss()(m.Forward(x), y).Backward()
		if clip {
			optim.ClipGradNorm(m.Parameters(), 0.5)
		}
		opt.Step()
	}
	return nn.StateDict(m), opt.StateDict()
}

// TestOptimizers runs three steps of every optimizer on each device and
// compares the parameters and the optimizer state with the CPU's.
func TestOptimizers(t *testing.T) {
	forEachDevice(t, func(t *testing.T, dev device.Device) {
		for _, c := range optimCases() {
			for _, dt := range dtypes {
				for _, clip := range []bool{false, true} {
					t.Run(name(c.name, "/", dt, "/clip=", clip), func(t *testing.T) {
						wantP, wantS := optimRun(c, dt, device.CPU(), clip)
						gotP, gotS := optimRun(c, dt, dev, clip)
						tol := tolerance(dt, 1e-4)
						for i, p := range wantP {
							require.Equal(t, dev, gotP[i].Tensor.Device())
							requireClose(t, p.Name, p.Tensor, gotP[i].Tensor, tol)
						}
						require.Equal(t, wantS.Kind, gotS.Kind)
						require.Equal(t, wantS.Scalars, gotS.Scalars)
						keys := slices.Sorted(maps.Keys(wantS.Tensors))
						require.Len(t, gotS.Tensors, len(keys))
						for _, k := range keys {
							requireClose(t, "state "+k, wantS.Tensors[k], gotS.Tensors[k], tol)
						}
					})
				}
			}
		}
	})
}
