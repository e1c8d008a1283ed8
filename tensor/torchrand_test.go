package tensor

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// TestFMA32 checks fma32 against big.Float on random and halfway cases.
func TestFMA32(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	ref := func(a, b, c float32) float32 {
		x := new(big.Float).SetPrec(200).SetFloat64(float64(a))
		x.Mul(x, new(big.Float).SetPrec(200).SetFloat64(float64(b)))
		x.Add(x, new(big.Float).SetPrec(200).SetFloat64(float64(c)))
		f, _ := x.Float32()
		return f
	}
	// a*b is halfway between two float32s; c tips it one way or the
	// other by far less than float64 can hold next to 1.
	a := float32(1 + 0x1p-12)
	for _, c := range []float32{0x1p-60, -0x1p-60, 0, 0x1p-40, -0x1p-40} {
		for _, sign := range []float32{1, -1} {
			if got, want := fma32(sign*a, a, sign*c), ref(sign*a, a, sign*c); got != want {
				t.Fatalf("fma32(%g, %g, %g) = %.10g, want %.10g", sign*a, a, sign*c, got, want)
			}
		}
	}
	if fma32(a, a, 0x1p-60) == float32(float64(a)*float64(a)+0x1p-60) {
		t.Fatal("the halfway case is not exercised")
	}
	for i := range 300000 {
		a := math.Float32frombits(r.Uint32())
		b := math.Float32frombits(r.Uint32())
		c := math.Float32frombits(r.Uint32())
		if i%3 == 0 { // nearby magnitudes
			a, b, c = float32(r.NormFloat64()), float32(r.NormFloat64()), float32(r.NormFloat64())
		}
		if i%3 == 1 { // halfway sums: c = -(a*b rounded) + tiny
			a, b = float32(r.NormFloat64()), float32(r.NormFloat64())
			c = float32(r.NormFloat64()) * 1e-9
		}
		if math.IsNaN(float64(a)) || math.IsNaN(float64(b)) || math.IsNaN(float64(c)) ||
			math.IsInf(float64(a*b), 0) || math.IsInf(float64(a), 0) || math.IsInf(float64(b), 0) || math.IsInf(float64(c), 0) {
			continue
		}
		p := float64(a) * float64(b)
		if math.IsInf(p, 0) || math.Abs(p) > 1e300 || (p != 0 && math.Abs(p) < 1e-300) {
			continue
		}
		if got, want := fma32(a, b, c), ref(a, b, c); math.Float32bits(got) != math.Float32bits(want) && !(got == 0 && want == 0) {
			t.Fatalf("fma32(%g, %g, %g) = %g, want %g", a, b, c, got, want)
		}
	}
}
