package tensor

import "math"

// The float32 logarithm and sine-cosine that PyTorch's AVX2 normal_fill
// uses (avx_mathfun.h, after Julien Pommier's sse_mathfun: Cephes
// polynomials), lane by lane. PyTorch's x86-64 build compiles them with
// fused multiply-add enabled, so the compiler fuses each product that
// feeds only an addition; the fused steps below are where it does.

// c32 rounds a double constant to float as C's float initialisers do
// (through double, never straight from the decimal).
func c32(x float64) float32 { return float32(x) }

var (
	cephesSQRTHF = c32(0.707106781186547524)
	cephesLogP   = [9]float32{
		c32(7.0376836292e-2), c32(-1.1514610310e-1), c32(1.1676998740e-1),
		c32(-1.2420140846e-1), c32(+1.4249322787e-1), c32(-1.6668057665e-1),
		c32(+2.0000714765e-1), c32(-2.4999993993e-1), c32(+3.3333331174e-1),
	}
	cephesLogQ1 = c32(-2.12194440e-4)
	cephesLogQ2 = c32(0.693359375)

	cephesDP1  = c32(-0.78515625)
	cephesDP2  = c32(-2.4187564849853515625e-4)
	cephesDP3  = c32(-3.77489497744594108e-8)
	sincofP0   = c32(-1.9515295891e-4)
	sincofP1   = c32(8.3321608736e-3)
	sincofP2   = c32(-1.6666654611e-1)
	coscofP0   = c32(2.443315711809948e-005)
	coscofP1   = c32(-1.388731625493765e-003)
	coscofP2   = c32(4.166664568298827e-002)
	cephesFOPI = c32(1.27323954473516)
)

// cephesLog32 is log256_ps for one lane; x > 0.
func cephesLog32(x float32) float32 {
	if x <= 0 {
		return float32(math.NaN())
	}
	x = max(x, math.Float32frombits(0x00800000))
	bits := math.Float32bits(x)
	e := float32(int32(bits>>23) - 0x7f)
	x = math.Float32frombits(bits&^0x7f800000 | math.Float32bits(0.5))
	e += 1
	var tmp float32
	small := x < cephesSQRTHF
	if small {
		tmp = x
	}
	x -= 1
	if small {
		e -= 1
	}
	x += tmp

	z := float32(x * x)
	y := cephesLogP[0]
	for _, p := range cephesLogP[1:] {
		y = fma32(y, x, p)
	}
	y = float32(y * x)
	// y*z + e*q1: the product y*z comes first and is the one fused.
	y = fma32(y, z, float32(e*cephesLogQ1))
	y -= float32(z * 0.5) // exact product
	x += y
	x += float32(e * cephesLogQ2) // exact product
	return x
}

// cephesSinCos32 is sincos256_ps for one lane.
func cephesSinCos32(x float32) (sin, cos float32) {
	signSin := math.Float32bits(x) & 0x80000000
	x = math.Float32frombits(math.Float32bits(x) &^ 0x80000000)
	y := float32(x * cephesFOPI)
	j := int32(y) // truncates, as cvttps
	j = (j + 1) &^ 1
	y = float32(j)
	swapSin := uint32(j&4) << 29
	polySin := j&2 == 0
	signCos := uint32(^(j-2)&4) << 29
	signSin ^= swapSin

	x = fma32(y, cephesDP1, x)
	x = fma32(y, cephesDP2, x)
	x = fma32(y, cephesDP3, x)

	z := float32(x * x)
	yc := fma32(coscofP0, z, coscofP1)
	yc = fma32(yc, z, coscofP2)
	yc = float32(yc * z)
	yc = fma32(yc, z, -float32(z*0.5)) // yc*z - z/2, the first product fused
	yc += 1

	ys := fma32(sincofP0, z, sincofP1)
	ys = fma32(ys, z, sincofP2)
	ys = float32(ys * z)
	ys = fma32(ys, x, x)

	if polySin {
		sin, cos = ys, yc
	} else {
		sin, cos = yc, ys
	}
	sin = math.Float32frombits(math.Float32bits(sin) ^ signSin)
	cos = math.Float32frombits(math.Float32bits(cos) ^ signCos)
	return sin, cos
}
