package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// relErr is |got-want|/|want| (absolute error for tiny want).
func relErr(got float32, want float64) float64 {
	if math.IsInf(want, 0) || math.IsNaN(want) {
		if float64(got) == want || (math.IsNaN(want) && got != got) {
			return 0
		}
		return math.Inf(1)
	}
	return math.Abs(float64(got)-want) / max(math.Abs(want), 1e-30)
}

func TestFastMathMatchesFloat64(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	inputs := []float32{0, -0, 1e-8, -1e-8, 0.3, -0.3, 0.624, 0.626, 1, -1, 9.09, 9.2, -9.2,
		20, -20, 87, 88.7, 88.8, -87.3, -100, -104, -200, float32(math.Inf(1)), float32(math.Inf(-1))}
	for range 100000 {
		inputs = append(inputs, float32(rng.NormFloat64()*30))
	}
	cases := []struct {
		name string
		f    func(float32) float32
		ref  func(float64) float64
		tol  float64
	}{
		{"expf", expf, math.Exp, 3e-7},
		{"sigmoidf", sigmoidf, sigmoid, 5e-7},
		{"tanhf", tanhf, math.Tanh, 5e-7},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, x := range inputs {
				want := float64(float32(tc.ref(float64(x)))) // overflow to ±Inf as float32 does
				got := tc.f(x)
				if math.Abs(want) < 1.2e-38 {
					// below float32's normal range only absolute error is meaningful
					require.InDelta(t, want, float64(got), 1.2e-38, "x=%v", x)
					continue
				}
				require.LessOrEqual(t, relErr(got, want), tc.tol, "%s(%v) = %v, want %v", tc.name, x, got, want)
			}
			require.True(t, math.IsNaN(float64(tc.f(float32(math.NaN())))))
		})
	}
}
