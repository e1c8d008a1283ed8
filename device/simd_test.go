package device

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func expInputs(rng *rand.Rand, n int) []float32 {
	in := []float32{0, float32(math.Copysign(0, -1)), 1e-8, -1e-8, 0.3, -0.3, 1, -1, 20, -20, 87, 88.7, 88.72283, 88.72284,
		88.72285, 88.8, 89, 100, 1e30, -87.3, -100, -103.9, -103.97, -103.98, -104, -200, -1e30,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}
	for len(in) < n {
		in = append(in, float32(rng.NormFloat64()*30))
	}
	return in
}

func checkExp(t *testing.T, got, src []float32) {
	t.Helper()
	for i, x := range src {
		want := float64(float32(math.Exp(float64(x))))
		if x != x {
			require.True(t, got[i] != got[i], "exp(NaN) = %v", got[i])
			continue
		}
		if math.Abs(want) < 1.2e-38 {
			require.InDelta(t, want, float64(got[i]), 1.2e-38, "x=%v", x)
			continue
		}
		require.LessOrEqual(t, relErr(got[i], want), 3e-7, "exp(%v) = %v, want %v", x, got[i], want)
	}
}

func TestExpF32Kernel(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	in := expInputs(rng, 100000)
	out := make([]float32, len(in))
	expF32(out, in)
	checkExp(t, out, in)
	// Every short length at every alignment, with guards past the end.
	for n := 0; n <= 67; n++ {
		for off := 0; off < 4; off++ {
			src := in[off : off+n]
			buf := make([]float32, n+off+16)
			for i := range buf {
				buf[i] = -7
			}
			dst := buf[off : off+n]
			expF32(dst, src)
			checkExp(t, dst, src)
			for i := range off {
				require.Equal(t, float32(-7), buf[i])
			}
			for i := off + n; i < len(buf); i++ {
				require.Equal(t, float32(-7), buf[i], "n=%d off=%d: wrote past the end", n, off)
			}
		}
	}
	// In place.
	cp := append([]float32(nil), in[:1001]...)
	expF32(cp, cp)
	checkExp(t, cp, in[:1001])
}

func TestSigmoidTanhBlocks(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	in := expInputs(rng, 3000)
	in = append(in, 0.624, 0.626, 9.09, 9.2, -9.2, -0.624, -0.626)
	out := make([]float32, len(in))
	tanhBlock(out, in)
	for i, x := range in {
		if x != x {
			require.True(t, out[i] != out[i])
			continue
		}
		want := float64(float32(math.Tanh(float64(x))))
		require.LessOrEqual(t, relErr(out[i], want), 5e-7, "tanh(%v) = %v, want %v", x, out[i], want)
	}
	sigmoidBlock(out, in)
	for i, x := range in {
		if x != x {
			require.True(t, out[i] != out[i])
			continue
		}
		want := float64(float32(sigmoid(float64(x))))
		if math.Abs(want) < 1.2e-38 {
			require.InDelta(t, want, float64(out[i]), 1.2e-38, "x=%v", x)
			continue
		}
		require.LessOrEqual(t, relErr(out[i], want), 5e-7, "sigmoid(%v) = %v, want %v", x, out[i], want)
	}
}

func TestSoftmaxF32Kernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{1, 2, 7, 15, 16, 17, 31, 33, 63, 64, 65, 100, 511, 512, 513, 1024, 5000, 9000} {
		s := make([]float32, n+1)
		for i := range s {
			s[i] = float32(rng.NormFloat64() * 5)
		}
		s = s[1:] // unaligned
		m := maxF32(s)
		require.Equal(t, maxF32Generic(s), m, "n=%d", n)
		for _, log := range []bool{false, true} {
			d := make([]float32, n)
			softmaxRowF32(d, s, log)
			want := make([]float64, n)
			softmaxRow(want, toF64(s), log)
			for i := range d {
				if log {
					require.InDelta(t, want[i], float64(d[i]), 1e-6*max(1, math.Abs(want[i])), "n=%d i=%d", n, i)
				} else {
					// s-m is rounded to float32 (as the pure-Go kernel does), an
					// absolute error up to 2e-6 in the exponent for these rows.
					require.LessOrEqual(t, relErr(d[i], want[i]), 4e-6, "n=%d i=%d", n, i)
				}
			}
			// In place.
			c := append([]float32(nil), s...)
			softmaxRowF32(c, c, log)
			require.Equal(t, d, c)
		}
	}
	// NaN and infinities anywhere in the row go to the float64 path.
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
		for _, pos := range []int{0, 5, 16, 39} {
			s := make([]float32, 40)
			for i := range s {
				s[i] = float32(i) / 10
			}
			s[pos] = bad
			for _, log := range []bool{false, true} {
				d := make([]float32, len(s))
				softmaxRowF32(d, s, log)
				want := make([]float32, len(s))
				softmaxRow(want, s, log)
				for i := range d {
					if want[i] != want[i] {
						require.True(t, d[i] != d[i], "bad=%v pos=%d i=%d", bad, pos, i)
					} else {
						require.InDelta(t, want[i], d[i], 1e-6, "bad=%v pos=%d i=%d", bad, pos, i)
					}
				}
			}
		}
	}
	// Empty rows and max of an empty slice.
	require.True(t, math.IsInf(float64(maxF32(nil)), -1))
	require.Equal(t, 0.0, expSumF32(nil, nil, 0))
	scaleF32(nil, 2)
	logSoftmaxF32(nil, nil, 0, 0)
	d := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}
	scaleF32(d[1:18], 2)
	require.Equal(t, []float32{1, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 19}, d)
}

func toF64(s []float32) []float64 {
	d := make([]float64, len(s))
	for i, v := range s {
		d[i] = float64(v)
	}
	return d
}

func TestSumF32Kernel(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	x := make([]float32, 1<<24)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	ref := func(x []float32) float64 {
		var s float64
		for _, v := range x {
			s += float64(v)
		}
		return s
	}
	for n := 0; n <= 200; n++ {
		for off := 0; off < 3; off++ {
			require.InDelta(t, ref(x[off:off+n]), sumF32(x[off:off+n]), 1e-5, "n=%d off=%d", n, off)
		}
	}
	want := ref(x)
	got := sumF32(x)
	require.LessOrEqual(t, math.Abs(got-want)/math.Abs(want), 1e-6, "sum %v, want %v", got, want)
	// Relative to the sum of magnitudes too, which does not depend on cancellation.
	var abs float64
	for _, v := range x {
		abs += math.Abs(float64(v))
	}
	require.LessOrEqual(t, math.Abs(got-want)/abs, 1e-8)
}
