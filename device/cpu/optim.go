package cpu

import (
	"math"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/backend"
)

// OptimStep implements device.Backend.OptimStep: one pass over the elements,
// split into chunks over goroutines. Every operation is rounded on its
// own (the explicit conversions stop the compiler from fusing a multiply
// and an add), so the result equals the chain of tensor ops in package
// optim bit for bit.
func (c *host) OptimStep(op device.OptimOp, p, g device.View, state [3]device.View, h device.OptimHyper) error {
	if err := backend.CheckOptim("device: cpu: optim step", op, p, g, state, h); err != nil {
		return err
	}
	switch p.Buf.DType() {
	case device.Float32:
		return runOptimStep[float32](op, p, g, state, h)
	case device.Float64:
		return runOptimStep[float64](op, p, g, state, h)
	}
	return unsupported("optim step", p.Buf.DType())
}

// optimSlice returns the contiguous elements of v, or nil for a zero View.
func optimSlice[T float](v device.View) ([]T, error) {
	if v.Buf == nil {
		return nil, nil
	}
	s, err := slice[T]("optim step", v)
	if err != nil {
		return nil, err
	}
	return s[v.Offset : v.Offset+v.Numel()], nil
}

// optimGrad returns the gradient g of the element p after h.Maximize
// and the L2 term h.WeightDecay (wd, rounded to T), the first lines of
// every update.
func optimGrad[T float](g, p, wd T, h *device.OptimHyper) T {
	if h.Maximize {
		g = -g
	}
	if h.WeightDecay != 0 {
		g = g + T(p*wd)
	}
	return g
}

func runOptimStep[T float](op device.OptimOp, pv, gv device.View, state [3]device.View, h device.OptimHyper) error {
	p, err := optimSlice[T](pv)
	if err != nil {
		return err
	}
	g, err := optimSlice[T](gv)
	if err != nil {
		return err
	}
	need := backend.OptimStates(op, h)
	var s [3][]T
	for i := range s {
		if need[i] {
			if s[i], err = optimSlice[T](state[i]); err != nil {
				return err
			}
		}
	}
	n := len(p)
	switch op {
	case device.SGDStep:
		wd, mom, damp, nlr := T(h.WeightDecay), T(h.Momentum), T(1-h.Dampening), T(-h.LR)
		buf := s[0]
		parallelFor(n, grainElems, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				gi := optimGrad(g[i], p[i], wd, &h)
				if h.Momentum != 0 {
					b := gi
					if !h.FirstStep {
						b = T(buf[i]*mom) + T(gi*damp)
					}
					buf[i] = b
					if h.Nesterov {
						gi = gi + T(b*mom)
					} else {
						gi = b
					}
				}
				p[i] = p[i] + T(gi*nlr)
			}
		})
	case device.AdamStep:
		wd, shrink := T(h.WeightDecay), T(h.Shrink)
		b1, c1, b2, c2 := T(h.Beta1), T(1-h.Beta1), T(h.Beta2), T(1-h.Beta2)
		nstep, bc2, eps := T(-h.StepSize), T(h.BC2Sqrt), T(h.Eps)
		doShrink := h.Shrink != 1
		m, v, vmax := s[0], s[1], s[2]
		parallelFor(n, grainElems, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				pi := p[i]
				gi := optimGrad(g[i], pi, wd, &h)
				if doShrink {
					pi = T(pi * shrink)
				}
				mi := T(m[i]*b1) + T(gi*c1)
				vi := T(v[i]*b2) + T(T(gi*c2)*gi)
				m[i], v[i] = mi, vi
				if h.AMSGrad {
					vi = max(vmax[i], vi)
					vmax[i] = vi
				}
				denom := T(T(math.Sqrt(float64(vi)))/bc2) + eps
				p[i] = pi + T(T(mi*nstep)/denom)
			}
		})
	case device.AdagradStep:
		wd, nlr, eps := T(h.WeightDecay), T(-h.LR), T(h.Eps)
		sum := s[0]
		parallelFor(n, grainElems, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				gi := optimGrad(g[i], p[i], wd, &h)
				si := sum[i] + T(gi*gi)
				sum[i] = si
				std := T(math.Sqrt(float64(si))) + eps
				p[i] = p[i] + T(T(gi*nlr)/std)
			}
		})
	case device.RMSPropStep:
		wd, nlr, eps := T(h.WeightDecay), T(-h.LR), T(h.Eps)
		alpha, calpha, mom := T(h.Alpha), T(1-h.Alpha), T(h.Momentum)
		sq, buf, gavg := s[0], s[1], s[2]
		parallelFor(n, grainElems, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				gi := optimGrad(g[i], p[i], wd, &h)
				vi := T(sq[i]*alpha) + T(T(gi*calpha)*gi)
				sq[i] = vi
				var avg T
				if h.Centered {
					ga := T(gavg[i]*alpha) + T(gi*calpha)
					gavg[i] = ga
					avg = T(math.Sqrt(float64(vi - T(ga*ga))))
				} else {
					avg = T(math.Sqrt(float64(vi)))
				}
				avg = avg + eps
				if h.Momentum != 0 {
					b := T(buf[i]*mom) + T(gi/avg)
					buf[i] = b
					p[i] = p[i] + T(b*nlr)
				} else {
					p[i] = p[i] + T(T(gi*nlr)/avg)
				}
			}
		})
	}
	return nil
}
