package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func expInputs(rng *rand.Rand, n int) []float32 {
	in := []float32{0, float32(math.Copysign(0, -1)), 1e-8, -1e-8, 0.3, -0.3, 1, -1, 20, -20, 87, 88.7, 88.72283, 88.72284,
		88.72285, 88.8, 89, 100, 1e30, -87.3, -100, -103.9, -103.97, -103.98, -104, -200, -1e30,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()),
		1e-40, -1e-40, 1.4e-45, -1.4e-45, math.SmallestNonzeroFloat32, math.MaxFloat32, -math.MaxFloat32}
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

// levelNames are the simdLevel names used for subtests.
var levelNames = map[simdLevel]string{simdGo: "go", simdAVX2: "avx2", simdAVX512: "avx512"}

// forEachLevel runs f as a subtest for every kernel set this machine runs,
// so the AVX2 kernels are checked on AVX-512 machines too.
func forEachLevel(t *testing.T, f func(t *testing.T, l simdLevel)) {
	t.Helper()
	for _, l := range simdLevels() {
		t.Run(levelNames[l], func(t *testing.T) { f(t, l) })
	}
}

// guarded returns dst, a slice of n elements at offset off in a buffer
// filled with the guard value -7, and check, which fails when anything
// outside dst changed.
func guarded(t *testing.T, n, off int) (dst []float32, check func()) {
	buf := make([]float32, n+off+16)
	for i := range buf {
		buf[i] = -7
	}
	return buf[off : off+n], func() {
		t.Helper()
		for i := range off {
			require.Equal(t, float32(-7), buf[i], "n=%d off=%d: wrote before the start", n, off)
		}
		for i := off + n; i < len(buf); i++ {
			require.Equal(t, float32(-7), buf[i], "n=%d off=%d: wrote past the end", n, off)
		}
	}
}

func TestExpF32Kernel(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	in := expInputs(rng, 100000)
	forEachLevel(t, func(t *testing.T, l simdLevel) {
		out := make([]float32, len(in))
		expF32At(l, out, in)
		checkExp(t, out, in)
		// Every short length at every alignment, with guards past the end.
		for n := 0; n <= 67; n++ {
			for off := 0; off < 4; off++ {
				src := in[off : off+n]
				dst, check := guarded(t, n, off)
				expF32At(l, dst, src)
				checkExp(t, dst, src)
				check()
			}
		}
		// In place.
		cp := append([]float32(nil), in[:1001]...)
		expF32At(l, cp, cp)
		checkExp(t, cp, in[:1001])
	})
	// The dispatching wrapper.
	out := make([]float32, 1001)
	expF32(out, in)
	checkExp(t, out, in[:1001])
}

// TestSoftmaxKernelsByLevel checks each softmax kernel of every kernel set
// against the Go reference, at every short length and alignment.
func TestSoftmaxKernelsByLevel(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	special := []float32{float32(math.Inf(1)), float32(math.Inf(-1)), 1e-40, -1e-40, 1e30, -1e30, 0}
	lengths := []int{100, 1000, 4099}
	for n := 0; n <= 67; n++ {
		lengths = append(lengths, n)
	}
	rows := map[string]func(n int) []float32{
		"normal": func(n int) []float32 {
			s := make([]float32, n)
			for i := range s {
				s[i] = float32(rng.NormFloat64() * 5)
			}
			return s
		},
		// All negative, so a max that counted masked-off lanes as 0 fails.
		"negative": func(n int) []float32 {
			s := make([]float32, n)
			for i := range s {
				s[i] = -1 - float32(rng.Float64()*100)
			}
			return s
		},
		// Around the AVX2 kernel's shortcut bound: x = s - max near -87.
		"bound": func(n int) []float32 {
			s := make([]float32, n)
			for i := range s {
				s[i] = -86 - float32(rng.Float64()*2)
			}
			if n > 0 {
				s[rng.IntN(n)] = 0
			}
			return s
		},
		"special": func(n int) []float32 {
			s := make([]float32, n)
			for i := range s {
				s[i] = float32(rng.NormFloat64() * 5)
				if rng.IntN(4) == 0 {
					s[i] = special[rng.IntN(len(special))]
				}
			}
			return s
		},
	}
	forEachLevel(t, func(t *testing.T, l simdLevel) {
		for name, gen := range rows {
			for _, n := range lengths {
				for off := range 3 {
					s := gen(n + off)[off:]
					msg := fmt.Sprintf("%s n=%d off=%d", name, n, off)
					m := maxF32At(l, s)
					require.Equal(t, maxF32Generic(s), m, msg)
					if n == 0 {
						m = 0
					}

					// expSum: each element as checkExp wants, the sum to float32 precision.
					d, check := guarded(t, n, off)
					sum := expSumF32At(l, d, s, m)
					check()
					x := make([]float32, n)
					for i, v := range s {
						x[i] = v - m
					}
					checkExp(t, d, x)
					// Bitwise the level's own exponential: the AVX2 kernel's
					// shortcut for x >= -87 must not change a bit.
					wantExp := make([]float32, n)
					expF32At(l, wantExp, x)
					requireSameFloats(t, wantExp, d, msg)
					want := expSumF32Generic(make([]float32, n), s, m)
					if math.IsInf(want, 0) || want != want {
						require.Equal(t, math.IsInf(want, 1), math.IsInf(sum, 1), msg)
						require.Equal(t, want != want, sum != sum, msg)
					} else {
						require.InDelta(t, want, sum, 1e-6*max(1, want), msg)
					}

					// logSoftmax and scale round exactly as the Go code does.
					ls := math.Log(max(want, 1))
					d, check = guarded(t, n, off)
					logSoftmaxF32At(l, d, s, m, ls)
					check()
					wantLS := make([]float32, n)
					logSoftmaxF32Generic(wantLS, s, m, ls)
					requireSameFloats(t, wantLS, d, msg)

					d, check = guarded(t, n, off)
					copy(d, s)
					scaleF32At(l, d, 0.37)
					check()
					wantSc := append([]float32(nil), s...)
					scaleF32Generic(wantSc, 0.37)
					requireSameFloats(t, wantSc, d, msg)
				}
			}
		}
		require.True(t, math.IsInf(float64(maxF32At(l, nil)), -1))
		require.Equal(t, 0.0, expSumF32At(l, nil, nil, 0))
	})
}

// requireSameFloats requires got to equal want element by element, with
// NaN equal to NaN.
func requireSameFloats(t *testing.T, want, got []float32, msg string) {
	t.Helper()
	require.Len(t, got, len(want), msg)
	for i := range want {
		if want[i] != want[i] {
			require.True(t, got[i] != got[i], "%s i=%d: got %v, want NaN", msg, i, got[i])
			continue
		}
		require.Equal(t, want[i], got[i], "%s i=%d", msg, i)
	}
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
	var abs float64
	for _, v := range x {
		abs += math.Abs(float64(v))
	}
	want := ref(x)
	forEachLevel(t, func(t *testing.T, l simdLevel) {
		for n := 0; n <= 200; n++ {
			for off := 0; off < 3; off++ {
				require.InDelta(t, ref(x[off:off+n]), sumF32At(l, x[off:off+n]), 1e-5, "n=%d off=%d", n, off)
			}
		}
		got := sumF32At(l, x)
		require.LessOrEqual(t, math.Abs(got-want)/math.Abs(want), 1e-6, "sum %v, want %v", got, want)
		// Relative to the sum of magnitudes too, which does not depend on cancellation.
		require.LessOrEqual(t, math.Abs(got-want)/abs, 1e-8)

		// Special values in a tail lane, a full vector and a later block.
		for _, tc := range []struct {
			name string
			v    float32
			want float64
		}{
			{"+Inf", float32(math.Inf(1)), math.Inf(1)},
			{"-Inf", float32(math.Inf(-1)), math.Inf(-1)},
			{"NaN", float32(math.NaN()), math.NaN()},
		} {
			for _, pos := range []int{0, 7, 36, 5000} {
				y := append([]float32(nil), x[:5003]...)
				y[pos] = tc.v
				got := sumF32At(l, y)
				if tc.want != tc.want {
					require.True(t, got != got, "%s at %d: %v", tc.name, pos, got)
				} else {
					require.Equal(t, tc.want, got, "%s at %d", tc.name, pos)
				}
			}
		}
		// Denormals add like any other small number.
		den := []float32{1e-40, 1e-40, -3e-40, 1.4e-45, 2e-39, 1e-40, 1e-40, 1e-40, 1e-40}
		require.InDelta(t, ref(den), sumF32At(l, den), 1e-45)
	})
}
