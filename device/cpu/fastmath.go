package cpu

import (
	"math"

	"github.com/nabla-go/nabla/device"
)

// Float32 versions of the transcendental functions the activations need.
// The generic kernels compute in float64 through a function value; these
// work in float32 with the polynomial written into the loop, so the CPU
// overlaps many elements at once. Accuracy is a few ulp.

const (
	log2e = 1.4426950408889634
	// ln 2 split so that n*ln2Hi is exact for the n that occur here.
	ln2Hi = 0.693359375
	ln2Lo = -2.12194440e-4
	// Adding and subtracting 1.5·2^23 rounds a float32 of magnitude below
	// 2^22 to the nearest integer in one step.
	roundMagic = 12582912
	expMax     = 88.72284  // e^x overflows float32 above this
	expMin     = -103.9721 // e^x underflows to zero below this
)

// expBlock sets d[i] = e^s[i] with relative error below 3e-7.
func expBlock(d, s []float32) {
	s = s[:len(d)]
	for i, x := range s {
		d[i] = expf(x)
	}
}

// expf returns e^x: e^x = 2^n · e^r with n = round(x/ln2) and |r| <= ln2/2,
// e^r from its Taylor series to degree 7 (first omitted term below 5e-9)
// evaluated in Estrin's scheme, which keeps the dependency chain short.
func expf(x float32) float32 {
	if !(x >= expMin && x <= expMax) {
		switch {
		case x != x:
			return x
		case x > 0:
			return float32(math.Inf(1))
		default:
			return 0
		}
	}
	n := (x*log2e + roundMagic) - roundMagic
	r := x - n*ln2Hi - n*ln2Lo
	r2 := r * r
	r4 := r2 * r2
	lo := (1 + r) + r2*(0.5+r*(1.0/6))
	hi := (1.0/24 + r*(1.0/120)) + r2*(1.0/720+r*(1.0/5040))
	p := lo + r4*hi
	// Scale in two halves so subnormal results and n = 128 stay exact.
	ni := int32(n)
	h := ni >> 1
	return p * math.Float32frombits(uint32(h+127)<<23) * math.Float32frombits(uint32(ni-h+127)<<23)
}

// sigmoidf is 1/(1+e^-x); it never cancels, so it is accurate for all x.
func sigmoidf(x float32) float32 { return 1 / (1 + expf(-x)) }

// tanhf is tanh for float32: 1 - 2/(e^2x+1) away from zero, where the
// result is at least 0.55 so the subtraction loses nothing, and float64
// math near zero.
func tanhf(x float32) float32 {
	switch {
	case x > -0.625 && x < 0.625:
		return float32(math.Tanh(float64(x)))
	case x > 9.1:
		return 1 // tanh(9.1) rounds to 1 in float32
	case x < -9.1:
		return -1
	}
	return 1 - 2/(expf(2*x)+1)
}

// float32Unary returns specialised float32 kernels for the hottest ops, or
// nil to use the generic float64-based kernel.
func float32Unary(op device.UnaryOp) func(d, s []float32) {
	switch op {
	case device.Exp:
		return expF32
	case device.Sigmoid:
		return sigmoidBlock
	case device.Tanh:
		return tanhBlock
	}
	return nil
}

// sigmoidBlock sets d[i] = 1/(1+e^-s[i]), exponentiating a chunk at a time
// with the vector kernel.
func sigmoidBlock(d, s []float32) {
	s = s[:len(d)]
	var buf [256]float32
	for len(d) > 0 {
		k := min(len(d), len(buf))
		t := buf[:k]
		for i, x := range s[:k] {
			t[i] = -x
		}
		expF32(t, t)
		for i, e := range t {
			d[i] = 1 / (1 + e)
		}
		d, s = d[k:], s[k:]
	}
}

// tanhBlock sets d[i] = tanhf(s[i]), exponentiating a chunk at a time with
// the vector kernel.
func tanhBlock(d, s []float32) {
	s = s[:len(d)]
	var buf [256]float32
	for len(d) > 0 {
		k := min(len(d), len(buf))
		t := buf[:k]
		for i, x := range s[:k] {
			t[i] = 2 * x
		}
		expF32(t, t)
		for i, x := range s[:k] {
			switch {
			case x > -0.625 && x < 0.625:
				d[i] = float32(math.Tanh(float64(x)))
			case x > 9.1:
				d[i] = 1
			case x < -9.1:
				d[i] = -1
			default:
				d[i] = 1 - 2/(t[i]+1) // NaN falls through to here and stays NaN
			}
		}
		d, s = d[k:], s[k:]
	}
}

// sumBlock is how many float32 elements the vector kernels add in float32
// lanes before the partial sum is moved to float64.
const sumBlock = 4096

// simdLevel names one set of the float32 vector kernels (expF32, maxF32,
// expSumF32, scaleF32, logSoftmaxF32, sumF32). The wrappers run the widest
// set the CPU supports; their *At forms take the level so that tests
// can check every set the machine runs, not just the widest.
type simdLevel int

const (
	simdGo     simdLevel = iota // the portable Go code below
	simdAVX2                    // simd_avx2_amd64.s: AVX2 with FMA, 8 lanes
	simdAVX512                  // simd_amd64.s: AVX-512F and VL, 16 lanes
)

// Portable versions of the vector kernels (simd_amd64.s,
// simd_avx2_amd64.s); simd_other.go uses them, and simd_amd64.go when the
// CPU has neither AVX-512 nor AVX2 with FMA.

func maxF32Generic(s []float32) float32 {
	m := float32(math.Inf(-1))
	for _, v := range s {
		if v > m || v != v {
			m = v
		}
	}
	return m
}

func expSumF32Generic(d, s []float32, m float32) float64 {
	s = s[:len(d)]
	var sum float64
	for j, v := range s {
		e := expf(v - m)
		d[j] = e
		sum += float64(e)
	}
	return sum
}

func scaleF32Generic(d []float32, c float32) {
	for j := range d {
		d[j] *= c
	}
}

func logSoftmaxF32Generic(d, s []float32, m float32, ls float64) {
	s = s[:len(d)]
	for j, v := range s {
		d[j] = float32(float64(v-m) - ls) // v-m is exact for nearby values (Sterbenz)
	}
}

// sumF32Generic adds x in float64 with four accumulators (sum4), where
// there is no vector kernel.
func sumF32Generic(x []float32) float64 { return sum4(x) }

// sum4 adds x in float64 with four accumulators, which break the add
// dependency chain, combined as (s0+s1)+(s2+s3).
func sum4[T number](x []T) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += float64(x[i])
		s1 += float64(x[i+1])
		s2 += float64(x[i+2])
		s3 += float64(x[i+3])
	}
	for ; i < len(x); i++ {
		s0 += float64(x[i])
	}
	return (s0 + s1) + (s2 + s3)
}

// sumFloat64 returns the sum of x in float64: for float32 the vector
// kernel's (float32 lanes over blocks, float64 across them), for the
// other types sum4's.
func sumFloat64[T number](x []T) float64 {
	if f, ok := any(x).([]float32); ok {
		return sumF32(f)
	}
	return sum4(x)
}
