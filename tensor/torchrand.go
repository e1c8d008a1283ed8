package tensor

import (
	"math"
)

// The transformations PyTorch's CPU generator applies to the words of its
// Mersenne Twister (ATen's TransformationHelper.h, DistributionsHelper.h
// and cpu/DistributionTemplates.h, as built for the AVX2 CPU capability
// that x86-64 machines run), rewritten so that a seeded nabla generator
// gives PyTorch's numbers. Go may fuse x*y + z into one rounding on some
// architectures unless a product is converted explicitly, so every
// product that PyTorch rounds is written float32(x*y) or float64(x*y),
// and every fused one calls fma32 or math.FMA.

// fma32 returns a*b + c rounded once to float32. The product is exact in
// float64, so the float64 sum is the exact result rounded once; rounding
// that to float32 is the single rounding unless the sum landed exactly
// halfway between two float32s (or among the float32 subnormals). Then
// the sum's rounding error decides: an inexact sum is made odd in its
// last bit (rounding to odd), which keeps the second rounding correct.
func fma32(a, b, c float32) float32 {
	s := float64(a)*float64(b) + float64(c) // fused or not: the product is exact
	// A halfway point has the 29 bits below float32's precision 100...0;
	// below 2^-126 (exponent field 897) float32 has fewer bits.
	if bits := math.Float64bits(s); bits&(1<<29-1) == 1<<28 || bits&(0x7ff<<52) < 897<<52 {
		return fma32Halfway(a, b, c)
	}
	return float32(s)
}

// fma32Halfway is fma32 when the float64 sum is a float32 halfway point
// or tiny.
func fma32Halfway(a, b, c float32) float32 {
	p := float64(a) * float64(b)
	q := float64(c)
	s := p + q
	bits := math.Float64bits(s)
	v := s - p
	e := (p - (s - v)) + (q - v)
	if e != 0 && bits&1 == 0 {
		if (e > 0) == (s > 0) {
			bits++
		} else {
			bits--
		}
		s = math.Float64frombits(bits)
	}
	return float32(s)
}

// uniform32 is uniform_real_distribution<float>(from, to): the low 24
// bits of one word scaled to [0, 1), then x·(to-from) + from in float32
// with one rounding (the AVX2 build contracts it to a fused multiply-add).
func uniform32(m *mt19937, from, to float32) float32 {
	x := float32(m.uint32()&(1<<24-1)) * (1.0 / (1 << 24))
	return fma32(x, to-from, from)
}

// uniform64 is uniform_real_distribution<double>(from, to): the low 53
// bits of a 64-bit draw (two words) scaled to [0, 1), then x·(to-from) +
// from with one rounding.
func uniform64(m *mt19937, from, to float64) float64 {
	x := float64(m.uint64()&(1<<53-1)) * (1.0 / (1 << 53))
	return math.FMA(x, to-from, from)
}

// normalCache holds the second value of the last Box-Muller pair drawn
// one at a time (CPUGeneratorImpl's next_double_normal_sample and
// next_float_normal_sample), which the next single draw returns.
type normalCache struct {
	double      float64
	doubleValid bool
	float       float32
	floatValid  bool
}

// normalScalar is at::normal_distribution<double>(mean, std) drawn once,
// the path PyTorch takes for tensors of fewer than 16 elements: the
// cached value when there is one; otherwise a Box-Muller pair from two
// doubles, returning one value and caching the other. Either is scaled
// as v·std + mean with one rounding.
func normalScalar(m *mt19937, c *normalCache, mean, std float64) float64 {
	if c.doubleValid {
		c.doubleValid = false
		return math.FMA(c.double, std, mean)
	}
	u1 := uniform64(m, 0, 1)
	u2 := uniform64(m, 0, 1)
	r := math.Sqrt(-2.0 * math.Log(1.0-u2))
	theta := float64(2.0*math.Pi) * u1
	c.double, c.doubleValid = float64(r*math.Sin(theta)), true
	return math.FMA(float64(r*math.Cos(theta)), std, mean)
}

// normalFill is PyTorch's normal_fill for a tensor of 16 or more
// elements: every element first gets a uniform value in [0, 1) from
// uniform; then each block of 16 is turned into normals by block (Box-
// Muller, the first 8 values paired with the last 8); when the length is
// not a multiple of 16 the last 16 elements are drawn afresh and
// transformed again.
func normalFill[T float32 | float64](m *mt19937, data []T, uniform func(*mt19937, T, T) T, block func(d []T)) {
	for i := range data {
		data[i] = uniform(m, 0, 1)
	}
	n := len(data)
	for i := 0; i+16 <= n; i += 16 {
		block(data[i : i+16])
	}
	if n%16 != 0 {
		tail := data[n-16:]
		for i := range tail {
			tail[i] = uniform(m, 0, 1)
		}
		block(tail)
	}
}

// normalFill64 is normalFill for Float64, with Go's math functions in
// float64 as PyTorch's scalar path.
func normalFill64(m *mt19937, data []float64, mean, std float64) {
	normalFill(m, data, uniform64, func(d []float64) { normal16x64(d, mean, std) })
}

func normal16x64(d []float64, mean, std float64) {
	for j := range 8 {
		u1 := 1 - d[j]
		u2 := d[j+8]
		radius := math.Sqrt(-2 * math.Log(u1))
		theta := float64(2.0*math.Pi) * u2
		d[j] = math.FMA(float64(radius*math.Cos(theta)), std, mean)
		d[j+8] = math.FMA(float64(radius*math.Sin(theta)), std, mean)
	}
}

// normalFill32 is normalFill for Float32 on an AVX2 machine
// (normal_fill_AVX2): the blocks go through Box-Muller with the float32
// polynomial logarithm and sine-cosine of avx_mathfun.h.
func normalFill32(m *mt19937, data []float32, mean, std float32) {
	normalFill(m, data, uniform32, func(d []float32) { normal16x32(d, mean, std) })
}

var twoPi32 = float32(float64(2 * math.Pi))

func normal16x32(d []float32, mean, std float32) {
	for j := range 8 {
		u1 := 1 - d[j]
		u2 := d[j+8]
		radius := float32(math.Sqrt(float64(float32(-2 * cephesLog32(u1)))))
		s, c := cephesSinCos32(float32(twoPi32 * u2))
		d[j] = fma32(float32(radius*c), std, mean)
		d[j+8] = fma32(float32(radius*s), std, mean)
	}
}
