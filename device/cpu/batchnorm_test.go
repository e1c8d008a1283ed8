package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
)

// bnLayout returns a layout of the [N, C, L] shape: "contiguous",
// "channels-last" (strides [C·L, 1, C], a transposed BatchNorm1d input)
// or "padded" (an offset, and gaps after every row and batch item).
func bnLayout(shape []int, kind string) device.Layout {
	c, l := shape[1], shape[2]
	switch kind {
	case "channels-last":
		return device.Layout{Shape: shape, Strides: []int{c * l, 1, c}}
	case "padded":
		return device.Layout{Shape: shape, Strides: []int{c*(l+3) + 2, l + 3, 1}, Offset: 7}
	}
	return device.Contiguous(shape...)
}

// bnMake returns a view of dtype dt and the given layout kind holding
// vals in row-major order; the rest of the buffer is garbage that must
// never be read.
func bnMake(dt device.DType, vals []float64, shape []int, kind string) device.View {
	l := bnLayout(shape, kind)
	n := l.Offset + l.Span() + 3
	buf := make([]float64, n)
	for i := range buf {
		buf[i] = 1e30
	}
	bnWalk(l, func(k, off int) { buf[off] = vals[k] })
	var b device.Buffer
	if dt == device.Float32 {
		f := make([]float32, n)
		for i, v := range buf {
			f[i] = float32(v)
		}
		b, _ = Wrap(f)
	} else {
		b, _ = Wrap(buf)
	}
	return device.View{Buf: b, Layout: l}
}

// bnVecView returns a contiguous [C] view of vals (or a strided one with
// stride 2 when strided is set).
func bnVecView(dt device.DType, vals []float64, strided bool) device.View {
	shape := []int{len(vals)}
	l := device.Contiguous(shape...)
	if strided {
		l = device.Layout{Shape: shape, Strides: []int{2}, Offset: 1}
	}
	n := l.Offset + l.Span() + 1
	buf := make([]float64, n)
	bnWalk(l, func(k, off int) { buf[off] = vals[k] })
	var b device.Buffer
	if dt == device.Float32 {
		f := make([]float32, n)
		for i, v := range buf {
			f[i] = float32(v)
		}
		b, _ = Wrap(f)
	} else {
		b, _ = Wrap(buf)
	}
	return device.View{Buf: b, Layout: l}
}

// bnWalk calls fn with the row-major index and buffer offset of every
// element of l.
func bnWalk(l device.Layout, fn func(k, off int)) {
	idx := make([]int, len(l.Shape))
	for k := range l.Numel() {
		off := l.Offset
		for d, i := range idx {
			off += i * l.Strides[d]
		}
		fn(k, off)
		for d := len(idx) - 1; d >= 0; d-- {
			if idx[d]++; idx[d] < l.Shape[d] {
				break
			}
			idx[d] = 0
		}
	}
}

// bnRead reads a float view back in row-major order as float64.
func bnRead(v device.View) []float64 {
	out := make([]float64, v.Numel())
	switch d := Data(v.Buf).(type) {
	case []float32:
		bnWalk(v.Layout, func(k, off int) { out[k] = float64(d[off]) })
	case []float64:
		bnWalk(v.Layout, func(k, off int) { out[k] = d[off] })
	}
	return out
}

// bnRound rounds vals to dt, so references see exactly the inputs.
func bnRound(dt device.DType, vals []float64) []float64 {
	out := make([]float64, len(vals))
	for i, v := range vals {
		if dt == device.Float32 {
			v = float64(float32(v))
		}
		out[i] = v
	}
	return out
}

func bnRandom(rng *rand.Rand, n int, center, spread float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = center + spread*(2*rng.Float64()-1)
	}
	return out
}

// bnNear fails the test unless |want-got| <= bound; it is require.InDelta
// without the cost of a testify call per element.
func bnNear(t *testing.T, want, got, bound float64, format string, args ...any) {
	if !(math.Abs(want-got) <= bound) {
		t.Helper()
		require.Failf(t, "not near", "%s: want %v, got %v (error %.3g > bound %.3g)",
			fmt.Sprintf(format, args...), want, got, math.Abs(want-got), bound)
	}
}

// bnStatsRef is the two-pass definition of the statistics in float64.
func bnStatsRef(x []float64, n, c, l int) (mean, variance []float64) {
	mean, variance = make([]float64, c), make([]float64, c)
	m := float64(n * l)
	for ch := range c {
		s := 0.0
		for i := range n {
			for j := range l {
				s += x[(i*c+ch)*l+j]
			}
		}
		mean[ch] = s / m
		q := 0.0
		for i := range n {
			for j := range l {
				d := x[(i*c+ch)*l+j] - mean[ch]
				q += d * d
			}
		}
		variance[ch] = q / m
	}
	return mean, variance
}

// bnShapes are [N, C, L] shapes that reach every tiling case: one
// position per channel (BatchNorm1d), rows longer than a tile, more
// channels than a tile, many small tiles dealt to several splits.
var bnShapes = [][]int{
	{1, 1, 2}, {2, 3, 5}, {64, 17, 1}, {3, 2, 5000}, {1, 3, 9000}, {3, 4100, 1}, {200, 3, 31}, {5, 7, 33},
}

func TestBatchNormStats(t *testing.T) {
	be := newCPU()
	rng := rand.New(rand.NewPCG(5, 6))
	for _, dt := range []device.DType{device.Float32, device.Float64} {
		for _, shape := range bnShapes {
			for _, kind := range []string{"contiguous", "channels-last", "padded"} {
				t.Run(fmt.Sprintf("%v/%v/%s", dt, shape, kind), func(t *testing.T) {
					n, c, l := shape[0], shape[1], shape[2]
					// A mean far from 0 next to a unit spread: summing
					// squares naively in float32 would lose the variance.
					x := bnRound(dt, bnRandom(rng, n*c*l, 1e4, 1.5))
					xv := bnMake(dt, x, shape, kind)
					mean := bnVecView(dt, make([]float64, c), kind == "padded")
					variance := bnVecView(dt, make([]float64, c), false)
					require.NoError(t, be.BatchNormStats(mean, variance, xv))
					wm, wv := bnStatsRef(x, n, c, l)
					// float64: the reference's own rounding (its deviations
					// from a mean of 1e4 carry errors of about 1e-12);
					// float32: the final rounding. A naive sum of squares
					// would be off by orders of magnitude more.
					tol := 1e-11
					if dt == device.Float32 {
						tol = 1e-7
					}
					gm, gv := bnRead(mean), bnRead(variance)
					for ch := range c {
						bnNear(t, wm[ch], gm[ch], tol*math.Abs(wm[ch]), "mean of channel %d", ch)
						bnNear(t, wv[ch], gv[ch], tol*wv[ch]+1e-300, "variance of channel %d", ch)
					}
				})
			}
		}
	}
}

func TestBatchNormStatsEdges(t *testing.T) {
	be := newCPU()
	// One element per channel: variance 0 exactly.
	x := bnMake(device.Float64, []float64{3, -2}, []int{1, 2, 1}, "contiguous")
	mean, variance := bnVecView(device.Float64, []float64{9, 9}, false), bnVecView(device.Float64, []float64{9, 9}, false)
	require.NoError(t, be.BatchNormStats(mean, variance, x))
	require.Equal(t, []float64{3, -2}, bnRead(mean))
	require.Equal(t, []float64{0, 0}, bnRead(variance))
	// An empty batch has no statistics: NaN, as the mean of nothing.
	empty := bnMake(device.Float32, nil, []int{0, 2, 3}, "contiguous")
	m32, v32 := bnVecView(device.Float32, []float64{9, 9}, false), bnVecView(device.Float32, []float64{9, 9}, false)
	require.NoError(t, be.BatchNormStats(m32, v32, empty))
	for _, v := range append(bnRead(m32), bnRead(v32)...) {
		require.True(t, math.IsNaN(v))
	}
	// No channels: nothing to do.
	none := bnMake(device.Float32, nil, []int{4, 0, 3}, "contiguous")
	require.NoError(t, be.BatchNormStats(bnVecView(device.Float32, nil, false), bnVecView(device.Float32, nil, false), none))
}

// TestBatchNormDeterministic checks that the reductions do not depend on
// the number of goroutines: the split of the work is fixed by the shape.
func TestBatchNormDeterministic(t *testing.T) {
	be := newCPU()
	rng := rand.New(rand.NewPCG(7, 8))
	shape := []int{16, 3, 3000}
	x := bnMake(device.Float32, bnRandom(rng, 16*3*3000, 2, 1), shape, "contiguous")
	g := bnMake(device.Float32, bnRandom(rng, 16*3*3000, 0, 1), shape, "contiguous")
	run := func(procs int) []float64 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		mean, variance := bnVecView(device.Float32, make([]float64, 3), false), bnVecView(device.Float32, make([]float64, 3), false)
		dw, db := bnVecView(device.Float32, make([]float64, 3), false), bnVecView(device.Float32, make([]float64, 3), false)
		require.NoError(t, be.BatchNormStats(mean, variance, x))
		require.NoError(t, be.BatchNormBackward(device.View{}, dw, db, g, x, variance, device.View{}, true))
		return append(append(append(bnRead(mean), bnRead(variance)...), bnRead(dw)...), bnRead(db)...)
	}
	require.Equal(t, run(1), run(7))
}

func TestBatchNormForward(t *testing.T) {
	be := newCPU()
	rng := rand.New(rand.NewPCG(9, 10))
	for _, dt := range []device.DType{device.Float32, device.Float64} {
		for _, shape := range bnShapes {
			for _, kind := range []string{"contiguous", "channels-last", "padded"} {
				for _, variant := range []string{"affine", "plain", "no-xhat", "in-place"} {
					t.Run(fmt.Sprintf("%v/%v/%s/%s", dt, shape, kind, variant), func(t *testing.T) {
						n, c, l := shape[0], shape[1], shape[2]
						x := bnRound(dt, bnRandom(rng, n*c*l, 0.5, 3))
						mean := bnRound(dt, bnRandom(rng, c, 0.5, 1))
						istd := bnRound(dt, bnRandom(rng, c, 1.5, 1))
						w := bnRound(dt, bnRandom(rng, c, 0, 2))
						b := bnRound(dt, bnRandom(rng, c, 0, 2))
						xv := bnMake(dt, x, shape, kind)
						yv := bnMake(dt, make([]float64, len(x)), shape, "padded")
						hv := bnMake(dt, make([]float64, len(x)), shape, kind)
						wv, bv := bnVecView(dt, w, true), bnVecView(dt, b, false)
						switch variant {
						case "plain":
							wv, bv = device.View{}, device.View{}
							for i := range w {
								w[i], b[i] = 1, 0
							}
						case "no-xhat":
							hv = device.View{}
						case "in-place":
							yv, hv = xv, device.View{}
						}
						require.NoError(t, be.BatchNormForward(yv, hv, xv, bnVecView(dt, mean, false), bnVecView(dt, istd, true), wv, bv))
						tol := 1e-14
						if dt == device.Float32 {
							tol = 1e-6
						}
						gy := bnRead(yv)
						var gh []float64
						if hv.Buf != nil {
							gh = bnRead(hv)
						}
						for i, v := range x {
							ch := i / l % c
							xh := (v - mean[ch]) * istd[ch]
							y := xh*w[ch] + b[ch]
							bnNear(t, y, gy[i], tol*(math.Abs(xh*w[ch])+math.Abs(b[ch])), "y[%d]", i)
							if gh != nil {
								bnNear(t, xh, gh[i], tol*math.Abs(xh), "xhat[%d]", i)
							}
						}
					})
				}
			}
		}
	}
}

func TestBatchNormBackward(t *testing.T) {
	be := newCPU()
	rng := rand.New(rand.NewPCG(11, 12))
	for _, dt := range []device.DType{device.Float32, device.Float64} {
		for _, shape := range bnShapes {
			for _, kind := range []string{"contiguous", "channels-last", "padded"} {
				for _, variant := range []string{"train", "train-no-weight", "train-dx-only", "train-in-place", "eval", "eval-params-only"} {
					t.Run(fmt.Sprintf("%v/%v/%s/%s", dt, shape, kind, variant), func(t *testing.T) {
						n, c, l := shape[0], shape[1], shape[2]
						m := float64(n * l)
						g := bnRound(dt, bnRandom(rng, n*c*l, 0.3, 2))
						xh := bnRound(dt, bnRandom(rng, n*c*l, 0, 2))
						istd := bnRound(dt, bnRandom(rng, c, 1.5, 1))
						w := bnRound(dt, bnRandom(rng, c, 0, 2))
						gv := bnMake(dt, g, shape, kind)
						hv := bnMake(dt, xh, shape, "contiguous")
						dxv := bnMake(dt, make([]float64, len(g)), shape, "padded")
						dwv := bnVecView(dt, make([]float64, c), true)
						dbv := bnVecView(dt, make([]float64, c), false)
						wv := bnVecView(dt, w, false)
						training := strings.HasPrefix(variant, "train")
						switch variant {
						case "train-no-weight":
							wv = device.View{}
							for i := range w {
								w[i] = 1
							}
						case "train-dx-only":
							dwv, dbv = device.View{}, device.View{}
						case "train-in-place":
							dxv = gv
						case "eval-params-only":
							dxv = device.View{}
						}
						require.NoError(t, be.BatchNormBackward(dxv, dwv, dbv, gv, hv, bnVecView(dt, istd, true), wv, training))

						// The sums, and the sums of magnitudes that bound their
						// rounding errors.
						sg, sgx := make([]float64, c), make([]float64, c)
						ag, agx := make([]float64, c), make([]float64, c)
						for i := range g {
							ch := i / l % c
							sg[ch] += g[i]
							sgx[ch] += g[i] * xh[i]
							ag[ch] += math.Abs(g[i])
							agx[ch] += math.Abs(g[i] * xh[i])
						}
						tol := 1e-13
						if dt == device.Float32 {
							tol = 2e-6
						}
						if dwv.Buf != nil {
							gw, gb := bnRead(dwv), bnRead(dbv)
							for ch := range c {
								bnNear(t, sgx[ch], gw[ch], tol*agx[ch], "dweight[%d]", ch)
								bnNear(t, sg[ch], gb[ch], tol*ag[ch], "dbias[%d]", ch)
							}
						}
						if dxv.Buf == nil {
							return
						}
						gdx := bnRead(dxv)
						for i := range g {
							ch := i / l % c
							a := istd[ch] * w[ch]
							want, scale := a*g[i], math.Abs(a*g[i])
							if training {
								want = a * (g[i] - (sg[ch]+xh[i]*sgx[ch])/m)
								scale += math.Abs(a) * (ag[ch] + math.Abs(xh[i])*agx[ch]) / m
							}
							bnNear(t, want, gdx[i], 4*tol*scale, "dx[%d]", i)
						}
					})
				}
			}
		}
	}
}

func TestBatchNormErrors(t *testing.T) {
	be := newCPU()
	x := bnMake(device.Float32, make([]float64, 24), []int{2, 3, 4}, "contiguous")
	v3 := bnVecView(device.Float32, make([]float64, 3), false)
	v4 := bnVecView(device.Float32, make([]float64, 4), false)
	v64 := bnVecView(device.Float64, make([]float64, 3), false)
	x64 := bnMake(device.Float64, make([]float64, 24), []int{2, 3, 4}, "contiguous")
	x2 := bnMake(device.Float32, make([]float64, 24), []int{2, 3, 4}, "contiguous")
	flat := device.View{Buf: x.Buf, Layout: device.Contiguous(6, 4)}
	ints, _ := be.Alloc(device.Int64, 24)
	xi := device.View{Buf: ints, Layout: device.Contiguous(2, 3, 4)}
	other := device.View{Buf: x2.Buf, Layout: device.Contiguous(2, 4, 3)}
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"rank", be.BatchNormStats(v3, v3, flat), "must be an [N, C, L] view"},
		{"dtype", be.BatchNormStats(v3, v3, xi), "not implemented for int64"},
		{"stat shape", be.BatchNormStats(v4, v3, x), "mean has shape [4]"},
		{"stat dtype", be.BatchNormStats(v3, v64, x), "variance is float64 but x is float32"},
		{"missing mean", be.BatchNormStats(device.View{}, v3, x), "the mean operand is missing"},
		{"y shape", be.BatchNormForward(other, device.View{}, x, v3, v3, device.View{}, device.View{}), "y has shape [2 4 3]"},
		{"xhat dtype", be.BatchNormForward(x2, x64, x, v3, v3, device.View{}, device.View{}), "xhat is float64"},
		{"weight shape", be.BatchNormForward(x2, device.View{}, x, v3, v3, v4, device.View{}), "weight has shape [4]"},
		{"missing invstd", be.BatchNormForward(x2, device.View{}, x, v3, device.View{}, device.View{}, device.View{}), "the invstd operand is missing"},
		{"missing g", be.BatchNormBackward(x2, v3, v3, device.View{}, x, v3, device.View{}, true), "the g operand is missing"},
		{"missing xhat", be.BatchNormBackward(x2, v3, v3, x, device.View{}, v3, device.View{}, true), "the xhat operand is missing"},
		{"dx shape", be.BatchNormBackward(other, v3, v3, x, x2, v3, device.View{}, true), "dx has shape"},
		{"dbias shape", be.BatchNormBackward(device.View{}, v3, v4, x, x2, v3, device.View{}, true), "dbias has shape [4]"},
		{"dweight dtype", be.BatchNormBackward(device.View{}, v64, device.View{}, x, x2, v3, device.View{}, false), "dweight is float64"},
	} {
		t.Run(c.name, func(t *testing.T) {
			require.Error(t, c.err)
			require.ErrorContains(t, c.err, c.want)
			require.ErrorContains(t, c.err, "device: cpu: batch norm")
		})
	}
}

// TestBNGridCoversEveryElement checks that the reduction tiles cover each
// element of the [N, C, L] operand exactly once.
func TestBNGridCoversEveryElement(t *testing.T) {
	for _, shape := range append(bnShapes, []int{1, 1, 1}, []int{0, 3, 4}, []int{7, 1, 10000}, []int{4097, 2, 1}) {
		n, c, l := shape[0], shape[1], shape[2]
		g := newBNGrid(n, c, l)
		require.GreaterOrEqual(t, g.splits, 1, "%v", shape)
		seen := make([]int32, n*c*l)
		var bad atomic.Int32 // require must not run off the test's goroutine
		g.run(func() bnTileFn {
			return func(s, c0, c1, n0, n1, l0, l1 int) {
				if s >= g.splits || (c1-c0)*(n1-n0)*(l1-l0) > bnTile {
					bad.Add(1)
				}
				for i := n0; i < n1; i++ {
					for ch := c0; ch < c1; ch++ {
						for j := l0; j < l1; j++ {
							atomic.AddInt32(&seen[(i*c+ch)*l+j], 1)
						}
					}
				}
			}
		})
		require.Zero(t, bad.Load(), "%v: a tile is too large or in an unknown split", shape)
		for k, v := range seen {
			require.Equal(t, int32(1), v, "%v: element %d visited %d times", shape, k, v)
		}
	}
}
