package device

import "math"

// Float32 versions of the transcendental functions the activations need.
// math.Exp works in float64 and is called through a function value in the
// generic kernels; these are inlinable float32 routines accurate to a few
// ulp, several times faster on the hot paths (Exp, Sigmoid, Tanh).

// expf returns e^x for float32 x with relative error below 2e-7.
func expf(x float32) float32 {
	const (
		log2e = 1.4426950408889634
		// ln 2 split so that n*ln2Hi is exact for |n| < 2^11.
		ln2Hi = 0.693359375
		ln2Lo = -2.12194440e-4
	)
	switch {
	case x != x:
		return x
	case x > 88.72284:
		return float32(math.Inf(1))
	case x < -103.97208:
		return 0
	}
	// e^x = 2^n · e^r with n = round(x/ln2), |r| <= ln2/2.
	n := float32(math.Floor(float64(x*log2e) + 0.5))
	r := x - n*ln2Hi - n*ln2Lo
	// Taylor series of e^r to degree 7: the first omitted term is below
	// (ln2/2)^8/8! ≈ 5e-9.
	p := float32(1.0 / 5040)
	p = p*r + 1.0/720
	p = p*r + 1.0/120
	p = p*r + 1.0/24
	p = p*r + 1.0/6
	p = p*r + 0.5
	p = p*r + 1
	p = p*r + 1
	// Scale in two steps so that results in the subnormal range and 2^128
	// boundary cases stay finite and exact.
	ni := int32(n)
	h := ni / 2
	return p * math.Float32frombits(uint32(h+127)<<23) * math.Float32frombits(uint32(ni-h+127)<<23)
}

// sigmoidf is 1/(1+e^-x); it never cancels, so it is accurate for all x.
func sigmoidf(x float32) float32 { return 1 / (1 + expf(-x)) }

// tanhf is tanh for float32: 1 - 2/(e^2x+1) away from zero, where the
// result is at least 0.55 so the subtraction loses nothing, and float64
// math near zero.
func tanhf(x float32) float32 {
	if x > -0.625 && x < 0.625 {
		return float32(math.Tanh(float64(x)))
	}
	if x > 9.1 {
		return 1 // tanh(9.1) rounds to 1 in float32
	}
	if x < -9.1 {
		return -1
	}
	return 1 - 2/(expf(2*x)+1)
}

// float32Unary returns specialised float32 kernels for the hottest ops, or
// nil to use the generic float64-based kernel.
func float32Unary(op UnaryOp) func(d, s []float32) {
	switch op {
	case Exp:
		return func(d, s []float32) {
			s = s[:len(d)]
			for i, x := range s {
				d[i] = expf(x)
			}
		}
	case Sigmoid:
		return func(d, s []float32) {
			s = s[:len(d)]
			for i, x := range s {
				d[i] = sigmoidf(x)
			}
		}
	case Tanh:
		return func(d, s []float32) {
			s = s[:len(d)]
			for i, x := range s {
				d[i] = tanhf(x)
			}
		}
	}
	return nil
}
