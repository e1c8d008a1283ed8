//go:build amd64 && !purego

package device

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// The float32 vector kernels of simd_amd64.s (AVX-512F with VL for the
// 256-bit masked forms). Each wrapper falls back to the portable code in
// fastmath.go when the CPU lacks them.

var hasSIMD512 = hasAVX512 && cpu.X86.HasAVX512VL

//go:noescape
func expF32AVX512(dst, src *float32, n int)

//go:noescape
func expSumF32AVX512(dst, src *float32, n int, m float32) float64

//go:noescape
func maxF32AVX512(src *float32, n int) float32

//go:noescape
func scaleF32AVX512(dst *float32, n int, c float32)

//go:noescape
func logSoftmaxF32AVX512(dst, src *float32, n int, m float32, ls float64)

//go:noescape
func sumF32AVX512(src *float32, n int) float32

// expF32 sets d[i] = e^s[i] for i < len(d); s must be at least as long.
func expF32(d, s []float32) {
	if !hasSIMD512 {
		expBlock(d, s)
		return
	}
	if len(d) == 0 {
		return
	}
	s = s[:len(d)]
	expF32AVX512(unsafe.SliceData(d), unsafe.SliceData(s), len(d))
}

// maxF32 returns the largest element of s (-Inf for an empty s). Its result
// is unspecified when s holds a NaN; callers check for NaN themselves.
func maxF32(s []float32) float32 {
	if !hasSIMD512 {
		return maxF32Generic(s)
	}
	if len(s) == 0 {
		return maxF32Generic(s)
	}
	return maxF32AVX512(unsafe.SliceData(s), len(s))
}

// expSumF32 sets d[i] = e^(s[i]-m) and returns their sum, accumulated in
// float64.
func expSumF32(d, s []float32, m float32) float64 {
	if !hasSIMD512 {
		return expSumF32Generic(d, s, m)
	}
	if len(d) == 0 {
		return 0
	}
	s = s[:len(d)]
	return expSumF32AVX512(unsafe.SliceData(d), unsafe.SliceData(s), len(d), m)
}

// scaleF32 multiplies every element of d by c.
func scaleF32(d []float32, c float32) {
	if !hasSIMD512 {
		scaleF32Generic(d, c)
		return
	}
	if len(d) == 0 {
		return
	}
	scaleF32AVX512(unsafe.SliceData(d), len(d), c)
}

// logSoftmaxF32 sets d[i] = float32(float64(s[i]-m) - ls).
func logSoftmaxF32(d, s []float32, m float32, ls float64) {
	if !hasSIMD512 {
		logSoftmaxF32Generic(d, s, m, ls)
		return
	}
	if len(d) == 0 {
		return
	}
	s = s[:len(d)]
	logSoftmaxF32AVX512(unsafe.SliceData(d), unsafe.SliceData(s), len(d), m, ls)
}

// sumF32 returns the sum of x: blocks of sumBlock elements are summed in
// float32 lanes and the block totals in float64.
func sumF32(x []float32) float64 {
	if !hasSIMD512 {
		return sumF32Generic(x)
	}
	var sum float64
	for len(x) > 0 {
		k := min(len(x), sumBlock)
		sum += float64(sumF32AVX512(unsafe.SliceData(x), k))
		x = x[k:]
	}
	return sum
}
