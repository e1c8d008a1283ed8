package ptxvm

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// TestFMA32Exact compares fma32 with a 200-bit big.Float reference on random
// operands, including products cancelled by c.
func TestFMA32Exact(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200000; i++ {
		a := math.Float32frombits(r.Uint32())
		b := math.Float32frombits(r.Uint32())
		c := math.Float32frombits(r.Uint32())
		if i%3 == 0 {
			a = float32(r.NormFloat64())
			b = float32(r.NormFloat64())
			c = -a*b + float32(r.NormFloat64())*1e-7
		}
		if a != a || b != b || c != c || math.IsInf(float64(a), 0) || math.IsInf(float64(b), 0) || math.IsInf(float64(c), 0) {
			continue
		}
		x := new(big.Float).SetPrec(200).SetFloat64(float64(a))
		x.Mul(x, new(big.Float).SetPrec(200).SetFloat64(float64(b)))
		x.Add(x, new(big.Float).SetPrec(200).SetFloat64(float64(c)))
		want, _ := x.Float32()
		got := fma32(a, b, c, rnd)
		if got != want && !(math.IsInf(float64(want), 0) && math.IsInf(float64(got), 0)) && !(want == 0 && got == 0) {
			t.Fatalf("%v %v %v: %v want %v", a, b, c, got, want)
		}
	}
}
