package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/backend"
)

// actView places row-major values into a fresh buffer of dtype dt under
// the layout stridedView makes for kind ("contiguous", "permuted" or
// "padded"; the last two need rank 2 or more).
func actView(t *testing.T, dt device.DType, vals []float64, shape []int, kind string) device.View {
	t.Helper()
	v, _ := stridedView(vals, shape, kind)
	if dt == device.Float64 {
		return v
	}
	b, err := cpuBackend.Alloc(dt, v.Buf.Len())
	require.NoError(t, err)
	out := device.View{Buf: b, Layout: v.Layout}
	require.NoError(t, cpuBackend.Copy(out, v))
	return out
}

// actRead reads a float view in row-major order as float64 values.
func actRead(v device.View) []float64 {
	out := make([]float64, 0, v.Numel())
	walkOffsets(v.Layout, func(off int) {
		switch d := Data(v.Buf).(type) {
		case []float32:
			out = append(out, float64(d[off]))
		case []float64:
			out = append(out, d[off])
		}
	})
	return out
}

// actBits reads a float view in row-major order as raw bits, so that -0,
// NaN and every rounding difference count.
func actBits(v device.View) []uint64 {
	out := make([]uint64, 0, v.Numel())
	walkOffsets(v.Layout, func(off int) {
		switch d := Data(v.Buf).(type) {
		case []float32:
			out = append(out, uint64(math.Float32bits(d[off])))
		case []float64:
			out = append(out, math.Float64bits(d[off]))
		}
	})
	return out
}

// actValues returns n random values: mostly normal, some wide, and with
// special set a sprinkling of NaN, ±Inf and ±0.
func actValues(r *rand.Rand, n int, special bool) []float64 {
	specials := []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 0}
	out := make([]float64, n)
	for i := range out {
		switch {
		case special && r.IntN(10) == 0:
			out[i] = specials[r.IntN(len(specials))]
		case r.IntN(4) == 0:
			out[i] = 30 * (2*r.Float64() - 1)
		default:
			out[i] = 2 * r.NormFloat64()
		}
	}
	return out
}

// dropoutMaskRef is the reference the fused op must equal bit for bit:
// src times the Bernoulli(1-p) mask of Random scaled by 1/(1-p), each
// product rounded to the dtype, which is how dropout was computed before
// the fused op existed.
func dropoutMaskRef(t *testing.T, dt device.DType, src []float64, shape []int, p float64, seed, offset uint64) []uint64 {
	t.Helper()
	mb, err := cpuBackend.Alloc(dt, len(src))
	require.NoError(t, err)
	mask := device.View{Buf: mb, Layout: device.Contiguous(shape...)}
	require.NoError(t, cpuBackend.Random(mask, device.Bernoulli, seed, offset, 1-p, 0))
	out := make([]uint64, len(src))
	scale := 1 / (1 - p)
	switch m := Data(mb).(type) {
	case []float32:
		for i, x := range src {
			out[i] = uint64(math.Float32bits(float32(x) * (m[i] * float32(scale))))
		}
	case []float64:
		for i, x := range src {
			out[i] = math.Float64bits(x * (m[i] * scale))
		}
	}
	return out
}

func TestDropoutMatchesBernoulliMask(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		shape []int
		kinds []string
	}{
		{[]int{1}, []string{"contiguous"}},
		{[]int{7}, []string{"contiguous"}},
		{[]int{4097}, []string{"contiguous"}},
		{[]int{33, 7}, []string{"contiguous", "permuted", "padded"}},
		{[]int{3, 1, 129}, []string{"contiguous", "permuted", "padded"}},
		{[]int{2, 5, 3, 11}, []string{"permuted", "padded"}},
		{[]int{70, 1000}, []string{"contiguous", "permuted"}}, // several goroutines
	}
	for _, dt := range []device.DType{device.Float32, device.Float64} {
		for _, p := range []float64{0.1, 0.5, 0.9, 0.25} {
			for _, c := range cases {
				for _, srcKind := range c.kinds {
					for _, dstKind := range c.kinds {
						name := fmt.Sprintf("%v/p=%v/%v/src=%s/dst=%s", dt, p, c.shape, srcKind, dstKind)
						t.Run(name, func(t *testing.T) {
							n := device.Numel(c.shape)
							vals := actValues(r, n, true)
							seed, offset := r.Uint64(), r.Uint64()>>1
							src := actView(t, dt, vals, c.shape, srcKind)
							dst := actView(t, dt, make([]float64, n), c.shape, dstKind)
							require.NoError(t, cpuBackend.Dropout(dst, src, p, seed, offset))
							if dt == device.Float32 {
								for i, v := range vals {
									vals[i] = float64(float32(v))
								}
							}
							require.Equal(t, dropoutMaskRef(t, dt, vals, c.shape, p, seed, offset), actBits(dst))
						})
					}
				}
			}
		}
	}
}

// TestDropoutBackwardReusesMask checks that applying the op to a gradient
// with the forward's seed and offset drops exactly the forward's
// elements and scales the others alike: the backward pass of dropout.
func TestDropoutBackwardReusesMask(t *testing.T) {
	const n, p = 5000, 0.3
	r := rand.New(rand.NewPCG(3, 4))
	for _, dt := range []device.DType{device.Float32, device.Float64} {
		x := actView(t, dt, actValues(r, n, false), []int{n}, "contiguous")
		g := actView(t, dt, actValues(r, n, false), []int{n}, "contiguous")
		y := actView(t, dt, make([]float64, n), []int{n}, "contiguous")
		gx := actView(t, dt, make([]float64, n), []int{n}, "contiguous")
		require.NoError(t, cpuBackend.Dropout(y, x, p, 11, 1234))
		require.NoError(t, cpuBackend.Dropout(gx, g, p, 11, 1234))
		xs, ys, gs, gxs := actRead(x), actRead(y), actRead(g), actRead(gx)
		for i := range xs {
			require.Equal(t, ys[i] == 0, gxs[i] == 0, "%v: element %d dropped in one pass only", dt, i)
			if ys[i] != 0 {
				require.InDelta(t, ys[i]/xs[i], gxs[i]/gs[i], 1e-6, "%v: element %d scaled differently", dt, i)
			}
		}
	}
}

func TestDropoutKeepFraction(t *testing.T) {
	const n = 1 << 16
	ones := make([]float64, n)
	for i := range ones {
		ones[i] = 1
	}
	for _, p := range []float64{0.1, 0.5, 0.8} {
		for _, dt := range []device.DType{device.Float32, device.Float64} {
			src := actView(t, dt, ones, []int{n}, "contiguous")
			dst := actView(t, dt, make([]float64, n), []int{n}, "contiguous")
			require.NoError(t, cpuBackend.Dropout(dst, src, p, 99, 0))
			kept := 0
			for _, v := range actRead(dst) {
				if v != 0 {
					kept++
					require.InDelta(t, 1/(1-p), v, 1e-6)
				}
			}
			// Four standard deviations of a binomial count.
			sd := math.Sqrt(n * p * (1 - p))
			require.InDelta(t, n*(1-p), float64(kept), 4*sd, "p=%v %v: kept %d of %d", p, dt, kept, n)
		}
	}
}

func TestDropoutEdgeProbabilities(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	vals := actValues(r, 1000, false)
	for _, dt := range []device.DType{device.Float32, device.Float64} {
		src := actView(t, dt, vals, []int{1000}, "contiguous")
		dst := actView(t, dt, make([]float64, 1000), []int{1000}, "contiguous")
		// p = 0 keeps everything and scales by exactly 1.
		require.NoError(t, cpuBackend.Dropout(dst, src, 0, 1, 2))
		require.Equal(t, actBits(src), actBits(dst))
		// p = 1 drops everything (the scale, +Inf, is never used).
		require.NoError(t, cpuBackend.Dropout(dst, src, 1, 1, 2))
		for i, v := range actRead(dst) {
			require.Zero(t, v, "element %d", i)
		}
	}
	thr, scale := backend.DropoutMask(0)
	require.Equal(t, uint64(1)<<53, thr)
	require.Equal(t, 1.0, scale)
	thr, _ = backend.DropoutMask(1)
	require.Zero(t, thr)
}

// TestDropoutMaskThreshold checks the integer comparison of DropoutMask
// against Bernoulli's float comparison at and around the threshold, for
// probabilities that are not round numbers.
func TestDropoutMaskThreshold(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	ps := []float64{0, 1, 0.5, 0.1, 0.3, 1.0 / 3, math.Nextafter(1, 0), math.Nextafter(0, 1), 1e-300}
	for range 1000 {
		ps = append(ps, r.Float64())
	}
	for _, p := range ps {
		thr, _ := backend.DropoutMask(p)
		keep := 1 - p
		for _, u := range []uint64{0, 1, thr - 2, thr - 1, thr, thr + 1, 1<<53 - 1} {
			if u >= 1<<53 { // thr - k wrapped, or past the 53 bits
				continue
			}
			require.Equal(t, float64(u)/(1<<53) < keep, u < thr, "p=%v u=%d threshold %d", p, u, thr)
		}
	}
}

func TestDropoutInPlace(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	vals := actValues(r, 33*7, true)
	for _, dt := range []device.DType{device.Float32, device.Float64} {
		for _, kind := range []string{"contiguous", "permuted", "padded"} {
			x := actView(t, dt, vals, []int{33, 7}, kind)
			want := actView(t, dt, make([]float64, 33*7), []int{33, 7}, "contiguous")
			require.NoError(t, cpuBackend.Dropout(want, x, 0.4, 5, 77))
			require.NoError(t, cpuBackend.Dropout(x, x, 0.4, 5, 77))
			require.Equal(t, actBits(want), actBits(x), "%v %s", dt, kind)
		}
	}
}

func TestDropoutErrors(t *testing.T) {
	f32 := actView(t, device.Float32, []float64{1, 2, 3}, []int{3}, "contiguous")
	f64 := actView(t, device.Float64, []float64{1, 2, 3}, []int{3}, "contiguous")
	other := actView(t, device.Float32, []float64{1, 2}, []int{2}, "contiguous")
	ib, err := cpuBackend.Alloc(device.Int64, 3)
	require.NoError(t, err)
	i64 := device.View{Buf: ib, Layout: device.Contiguous(3)}
	for _, c := range []struct {
		name     string
		dst, src device.View
		p        float64
		want     string
	}{
		{"negative p", f32, f32, -0.1, "probability -0.1 is outside [0, 1]"},
		{"p above 1", f32, f32, 1.5, "outside [0, 1]"},
		{"NaN p", f32, f32, math.NaN(), "outside [0, 1]"},
		{"int64", i64, i64, 0.5, "dropout is not implemented for int64"},
		{"mixed dtypes", f32, f64, 0.5, "dtypes float32 and float64 differ"},
		{"shapes", f32, other, 0.5, "source shape [2] differs from the destination shape [3]"},
		{"missing source", f32, device.View{}, 0.5, "views are required"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := cpuBackend.Dropout(c.dst, c.src, c.p, 1, 0)
			require.ErrorContains(t, err, c.want)
			require.ErrorContains(t, err, "device: cpu: dropout")
		})
	}
}

// BenchmarkDropout times the fused op on a [64, 4096] float32 batch.
func BenchmarkDropout(b *testing.B) {
	const n = 64 * 4096
	src, _ := cpuBackend.Alloc(device.Float32, n)
	dst, _ := cpuBackend.Alloc(device.Float32, n)
	l := device.Contiguous(64, 4096)
	b.SetBytes(n * 4)
	for b.Loop() {
		if err := cpuBackend.Dropout(device.View{Buf: dst, Layout: l}, device.View{Buf: src, Layout: l}, 0.5, 1, 0); err != nil {
			b.Fatal(err)
		}
	}
}
