package cuda

// Emulation of kernels/optim.cu in Go (float64), run without a GPU, on
// the optArgs the host packs, compared with the CPU backend bit for bit.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/device/cpu"
	"github.com/nabla-go/nabla/internal/backend"
)

func emuOptim(op device.OptimOp, p, g []float64, s [3][]float64, a *optArgs) {
	for i := range p {
		gi := g[i]
		if a.Maximize != 0 {
			gi = -gi
		}
		if a.UseWD != 0 {
			gi = gi + float64(p[i]*a.WD)
		}
		if op == device.SGDStep {
			if a.UseMom != 0 {
				b := gi
				if a.First == 0 {
					b = float64(s[0][i]*a.Mom) + float64(gi*a.Damp1)
				}
				s[0][i] = b
				if a.Nesterov != 0 {
					gi = gi + float64(b*a.Mom)
				} else {
					gi = b
				}
			}
			p[i] = p[i] + float64(gi*a.NLR)
			continue
		}
		if op == device.AdagradStep {
			si := s[0][i] + float64(gi*gi)
			s[0][i] = si
			std := math.Sqrt(si) + a.Eps
			p[i] = p[i] + float64(gi*a.NLR)/std
			continue
		}
		if op == device.RMSPropStep {
			vi := float64(s[0][i]*a.Alpha) + float64(float64(gi*a.CAlpha)*gi)
			s[0][i] = vi
			var avg float64
			if a.Centered != 0 {
				ga := float64(s[2][i]*a.Alpha) + float64(gi*a.CAlpha)
				s[2][i] = ga
				avg = math.Sqrt(vi - float64(ga*ga))
			} else {
				avg = math.Sqrt(vi)
			}
			avg = avg + a.Eps
			if a.UseMom != 0 {
				b := float64(s[1][i]*a.Mom) + gi/avg
				s[1][i] = b
				p[i] = p[i] + float64(b*a.NLR)
			} else {
				p[i] = p[i] + float64(gi*a.NLR)/avg
			}
			continue
		}
		pi := p[i]
		if a.UseShrink != 0 {
			pi = pi * a.Shrink
		}
		mi := float64(s[0][i]*a.B1) + float64(gi*a.C1)
		vi := float64(s[1][i]*a.B2) + float64(float64(gi*a.C2)*gi)
		s[0][i], s[1][i] = mi, vi
		if a.AMSGrad != 0 {
			vi = max(s[2][i], vi)
			s[2][i] = vi
		}
		denom := float64(math.Sqrt(vi)/a.BC2) + a.Eps
		p[i] = pi + float64(mi*a.NStep)/denom
	}
}

func TestOptimKernelEmulationMatchesCPU(t *testing.T) {
	ref, err := device.Get(device.CPU())
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(9, 10))
	hs := []struct {
		op device.OptimOp
		h  device.OptimHyper
	}{
		{device.SGDStep, device.OptimHyper{LR: 0.1}},
		{device.SGDStep, device.OptimHyper{LR: 0.1, WeightDecay: 0.01, Momentum: 0.9, Dampening: 0.1, FirstStep: true}},
		{device.SGDStep, device.OptimHyper{LR: 0.1, Momentum: 0.9, Nesterov: true, Maximize: true}},
		{device.AdamStep, device.OptimHyper{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, StepSize: 0.01 / 0.19, BC2Sqrt: math.Sqrt(0.001999), Shrink: 1}},
		{device.AdamStep, device.OptimHyper{Beta1: 0.8, Beta2: 0.99, Eps: 1e-6, StepSize: 0.03, BC2Sqrt: 0.2, Shrink: 0.998, AMSGrad: true, Maximize: true}},
		{device.AdamStep, device.OptimHyper{Beta1: 0.8, Beta2: 0.99, Eps: 1e-6, StepSize: 0.03, BC2Sqrt: 0.2, Shrink: 1, WeightDecay: 0.1}},
		{device.AdagradStep, device.OptimHyper{LR: 0.05, Eps: 1e-10}},
		{device.AdagradStep, device.OptimHyper{LR: 0.04, Eps: 1e-3, WeightDecay: 0.1, Maximize: true}},
		{device.RMSPropStep, device.OptimHyper{LR: 0.01, Alpha: 0.99, Eps: 1e-8}},
		{device.RMSPropStep, device.OptimHyper{LR: 0.01, Alpha: 0.9, Eps: 1e-6, Momentum: 0.5, WeightDecay: 0.1, Maximize: true}},
		{device.RMSPropStep, device.OptimHyper{LR: 0.02, Alpha: 0.8, Eps: 1e-4, Centered: true}},
		{device.RMSPropStep, device.OptimHyper{LR: 0.02, Alpha: 0.9, Eps: 1e-8, Centered: true, Momentum: 0.7, WeightDecay: 0.01}},
	}
	const n = 300
	rnd := func() []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = r.NormFloat64()
		}
		return v
	}
	abs := func(v []float64) []float64 {
		for i := range v {
			v[i] = math.Abs(v[i])
		}
		return v
	}
	for ci, c := range hs {
		t.Run(fmt.Sprintf("%d/%v", ci, c.op), func(t *testing.T) {
			p, g := rnd(), rnd()
			s := [3][]float64{rnd(), abs(rnd()), abs(rnd())}
			if c.op == device.AdagradStep { // sum >= 0
				s[0] = abs(s[0])
			}
			if c.op == device.RMSPropStep { // square_avg >= grad_avg², as a run keeps them
				s = [3][]float64{abs(rnd()), rnd(), rnd()}
				for i := range s[0] {
					s[0][i] += s[2][i] * s[2][i]
				}
			}
			var views [3]device.View
			var emuS [3][]float64
			for i := range s {
				b, _ := cpu.Wrap(append([]float64(nil), s[i]...))
				views[i] = device.View{Buf: b, Layout: device.Contiguous(n)}
				emuS[i] = append([]float64(nil), s[i]...)
			}
			pb, _ := cpu.Wrap(append([]float64(nil), p...))
			gb, _ := cpu.Wrap(g)
			require.NoError(t, ref.OptimStep(c.op, device.View{Buf: pb, Layout: device.Contiguous(n)}, device.View{Buf: gb, Layout: device.Contiguous(n)}, views, c.h))
			a := newOptArgs(n, c.h)
			emuOptim(c.op, p, g, emuS, &a)
			require.Equal(t, cpu.Data(pb), p)
			for i, need := range backend.OptimStates(c.op, c.h) {
				if need {
					require.Equal(t, cpu.Data(views[i].Buf), emuS[i], "state %d", i)
				}
			}
		})
	}
}
