package tensor_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/prim"
	"github.com/nabla-go/nabla/tensor"
)

// bnFlat returns a CPU tensor's values as [N, C, L] (row-major float64)
// and N, C, L.
func bnFlat(x *tensor.Tensor) (v []float64, n, c, l int) {
	s := x.Shape()
	n, c, l = s[0], s[1], 1
	for _, d := range s[2:] {
		l *= d
	}
	return x.Contiguous().As(tensor.Float64).Float64s(), n, c, l
}

// bnRun runs f on the operands on the CPU and on the device and returns
// both sets of results, the device's copied to the CPU.
func (c *conf) bnRun(label string, f func(xs ...*tensor.Tensor) []*tensor.Tensor, ops ...confOperand) (want, got []*tensor.Tensor) {
	c.t.Helper()
	cpuArgs := make([]*tensor.Tensor, len(ops))
	devArgs := make([]*tensor.Tensor, len(ops))
	for i, o := range ops {
		cpuArgs[i] = o.on(device.CPU())
		devArgs[i] = o.on(c.dev)
	}
	want = f(cpuArgs...)
	for i, g := range f(devArgs...) {
		if g == nil {
			require.Nil(c.t, want[i], "%s: result %d", label, i)
			got = append(got, nil)
			continue
		}
		require.Equal(c.t, c.dev, g.Device(), "%s: result %d is on the wrong device", label, i)
		got = append(got, g.CPU())
	}
	return want, got
}

// batchNorm compares the three batch-norm primitives with the CPU: the
// statistics, and the forward and backward passes given the CPU's
// statistics, so that each is checked on its own. Reductions accumulate
// in float64 on every backend but in different orders, and the GPU splits
// long channels into parts, so every bound is relative to the magnitude
// of the terms that make up the result (Σ|x|, |x̂·w| + |b|, ...), not to
// the result, which may be a small difference of large terms.
func (c *conf) batchNorm(t *testing.T) {
	c.t = t
	const rel = 1e-5
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		inputs := []confOperand{
			confPlain(c.base(dt, kWide, 7, 33)),                                  // BatchNorm1d, odd sizes
			confPlain(c.base(dt, kWide, 1000, 33)),                               // a long batch: lanes on channels, split
			{"transposed[64 40]", c.base(dt, kWide, 40, 64), (*tensor.Tensor).T}, // batch items adjacent
			confPlain(c.base(dt, kWide, 5, 3, 7)),                                // BatchNorm1d on [N, C, L]
			confPlain(c.base(dt, kWide, 4, 3, 9, 11)),                            // BatchNorm2d
			confPlain(c.base(dt, kWide, 8, 3, 33, 33)),                           // few long channels: split
			{"channels-last[2 5 9 11]", c.base(dt, kWide, 2, 9, 11, 5), func(x *tensor.Tensor) *tensor.Tensor { return x.Permute(0, 3, 1, 2) }},
			{"sliced[3 4 7 9]", c.base(dt, kWide, 3, 8, 7, 18), func(x *tensor.Tensor) *tensor.Tensor { return x.Slice(1, 0, 8, 2).Slice(3, 1, 18, 2) }},
			{"permuted[6 2 4 5]", c.base(dt, kWide, 5, 6, 4, 2), func(x *tensor.Tensor) *tensor.Tensor { return x.Permute(1, 3, 2, 0) }}, // not a view as [N, C, L]: copied
		}
		for _, in := range inputs {
			xc := in.on(device.CPU())
			shape := xc.Shape()
			x, n, nc, l := bnFlat(xc)
			m := float64(n * l)
			label := fmt.Sprintf("%v/%s", dt, in.desc)

			// Statistics, bounded by the mean magnitude and the variance.
			st, sd := c.bnRun(label, func(v ...*tensor.Tensor) []*tensor.Tensor {
				mean, variance := tensorOps.BatchNormStats(v[0])
				return []*tensor.Tensor{mean, variance}
			}, in)
			absMean := make([]float64, nc)
			for i, v := range x {
				absMean[i/l%nc] += math.Abs(v) / m
			}
			confCompare(t, label+": BatchNormStats mean", st[0], sd[0], confTol{rel, 1e-30}, absMean)
			confCompare(t, label+": BatchNormStats variance", st[1], sd[1], confTol{rel, 1e-30}, nil)

			// Forward with the CPU's statistics, with and without the
			// affine map and x̂.
			mean := st[0]
			invstd := st[1].Add(1e-5).Rsqrt()
			w, b := c.base(dt, kAny, nc), c.base(dt, kAny, nc)
			ms, is, ws, bs := mean.As(tensor.Float64).Float64s(), invstd.As(tensor.Float64).Float64s(), w.As(tensor.Float64).Float64s(), b.As(tensor.Float64).Float64s()
			yScale, hScale := make([]float64, len(x)), make([]float64, len(x))
			for i, v := range x {
				ch := i / l % nc
				xh := (v - ms[ch]) * is[ch]
				yScale[i] = math.Abs(xh*ws[ch]) + math.Abs(bs[ch])
				hScale[i] = (math.Abs(v) + math.Abs(ms[ch])) * is[ch]
			}
			for _, affine := range []bool{true, false} {
				fl := fmt.Sprintf("%s: BatchNormForward(affine %v)", label, affine)
				fw, fd := c.bnRun(fl, func(v ...*tensor.Tensor) []*tensor.Tensor {
					if affine {
						y, xh := tensorOps.BatchNormForward(v[0], v[1], v[2], v[3], v[4], true)
						return []*tensor.Tensor{y, xh}
					}
					y, xh := tensorOps.BatchNormForward(v[0], v[1], v[2], nil, nil, false)
					return []*tensor.Tensor{y, xh}
				}, in, confPlain(mean), confPlain(invstd), confPlain(w), confPlain(b))
				require.Equal(t, shape, fd[0].Shape(), fl)
				if affine {
					confCompare(t, fl+" y", fw[0], fd[0], confTol{rel, 1e-30}, yScale)
					confCompare(t, fl+" xhat", fw[1], fd[1], confTol{rel, 1e-30}, hScale)
				} else {
					require.Nil(t, fd[1], fl)
					confCompare(t, fl+" y", fw[0], fd[0], confTol{rel, 1e-30}, hScale)
				}
			}

			// Backward from a fresh gradient and the CPU's x̂.
			g := c.base(dt, kAny, shape...)
			xhat := c.base(dt, kAny, shape...)
			gs, hs := g.As(tensor.Float64).Float64s(), xhat.As(tensor.Float64).Float64s()
			absG, absGX := make([]float64, nc), make([]float64, nc)
			for i := range gs {
				ch := i / l % nc
				absG[ch] += math.Abs(gs[i])
				absGX[ch] += math.Abs(gs[i] * hs[i])
			}
			for _, training := range []bool{true, false} {
				for _, weighted := range []bool{true, false} {
					bl := fmt.Sprintf("%s: BatchNormBackward(training %v, weight %v)", label, training, weighted)
					bw, bd := c.bnRun(bl, func(v ...*tensor.Tensor) []*tensor.Tensor {
						wt := v[3]
						if !weighted {
							wt = nil
						}
						dx, dw, db := tensorOps.BatchNormBackward(v[0], v[1], v[2], wt, training, prim.BatchNormGrads{X: true, Weight: true, Bias: true})
						return []*tensor.Tensor{dx, dw, db}
					}, confPlain(g), confPlain(xhat), confPlain(invstd), confPlain(w))
					dxScale := make([]float64, len(gs))
					for i := range gs {
						ch := i / l % nc
						a := is[ch]
						if weighted {
							a *= math.Abs(ws[ch])
						}
						dxScale[i] = a * math.Abs(gs[i])
						if training {
							dxScale[i] += a * (absG[ch] + math.Abs(hs[i])*absGX[ch]) / m
						}
					}
					confCompare(t, bl+" dx", bw[0], bd[0], confTol{rel, 1e-30}, dxScale)
					confCompare(t, bl+" dweight", bw[1], bd[1], confTol{rel, 1e-30}, absGX)
					confCompare(t, bl+" dbias", bw[2], bd[2], confTol{rel, 1e-30}, absG)
				}
			}
		}
		// Only the gradients asked for, computed in place of none.
		g, xhat := confPlain(c.base(dt, kAny, 6, 5, 3)), confPlain(c.base(dt, kAny, 6, 5, 3))
		invstd := confPlain(c.base(dt, kPositive, 5))
		for _, want := range []prim.BatchNormGrads{{X: true}, {Weight: true}, {Bias: true}, {Weight: true, Bias: true}} {
			c.check(fmt.Sprintf("BatchNormBackward%+v", want), confTol{rel, 1}, func(v ...*tensor.Tensor) *tensor.Tensor {
				dx, dw, db := tensorOps.BatchNormBackward(v[0], v[1], v[2], nil, true, want)
				var parts []*tensor.Tensor
				for _, p := range []*tensor.Tensor{dx, dw, db} {
					if p != nil {
						parts = append(parts, p.Reshape(-1))
					}
				}
				return tensor.Cat(parts, 0)
			}, g, xhat, invstd)
		}
		// Empty batches give NaN statistics; no channels, nothing.
		c.check("BatchNormStats/empty", confExact, func(v ...*tensor.Tensor) *tensor.Tensor {
			mean, variance := tensorOps.BatchNormStats(v[0])
			return tensor.Stack([]*tensor.Tensor{mean, variance}, 0)
		}, confPlain(c.base(dt, kAny, 0, 3, 4)))
		c.check("BatchNormStats/nochannels", confExact, func(v ...*tensor.Tensor) *tensor.Tensor {
			mean, _ := tensorOps.BatchNormStats(v[0])
			return mean
		}, confPlain(c.base(dt, kAny, 4, 0)))
		// Misuse fails on both devices.
		c.check("BatchNormForward/badvector", confExact, func(v ...*tensor.Tensor) *tensor.Tensor {
			y, _ := tensorOps.BatchNormForward(v[0], v[1], v[1], nil, nil, false)
			return y
		}, confPlain(c.base(dt, kAny, 4, 3)), confPlain(c.base(dt, kAny, 4)))
	}
}
