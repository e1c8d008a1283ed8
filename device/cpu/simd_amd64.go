//go:build amd64 && !purego

package cpu

import (
	"unsafe"

	cpuid "golang.org/x/sys/cpu"
)

// The float32 vector kernels of simd_amd64.s (AVX-512F with VL for the
// 256-bit masked forms) and simd_avx2_amd64.s (AVX2 with FMA). Each wrapper
// runs the widest set the CPU supports and falls back to the portable code
// in fastmath.go when it has neither.

// simdBest is the widest kernel set this CPU runs.
var simdBest = func() simdLevel {
	switch {
	case hasAVX512 && cpuid.X86.HasAVX512VL:
		return simdAVX512
	case hasAVX2:
		return simdAVX2
	}
	return simdGo
}()

// simdLevels lists every kernel set this CPU runs, narrowest first, so
// that tests on an AVX-512 machine check the AVX2 kernels too.
func simdLevels() []simdLevel {
	var ls []simdLevel
	for l := simdGo; l <= simdBest; l++ {
		ls = append(ls, l)
	}
	return ls
}

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

//go:noescape
func expF32AVX2(dst, src *float32, n int)

//go:noescape
func expSumF32AVX2(dst, src *float32, n int, m float32) float64

//go:noescape
func maxF32AVX2(src *float32, n int) float32

//go:noescape
func scaleF32AVX2(dst *float32, n int, c float32)

//go:noescape
func logSoftmaxF32AVX2(dst, src *float32, n int, m float32, ls float64)

//go:noescape
func sumF32AVX2(src *float32, n int) float32

// expF32 sets d[i] = e^s[i] for i < len(d); s must be at least as long.
func expF32(d, s []float32) { expF32At(simdBest, d, s) }

// expF32At is expF32 with the kernel set l.
func expF32At(l simdLevel, d, s []float32) {
	if len(d) == 0 {
		return
	}
	s = s[:len(d)]
	switch l {
	case simdAVX512:
		expF32AVX512(unsafe.SliceData(d), unsafe.SliceData(s), len(d))
	case simdAVX2:
		expF32AVX2(unsafe.SliceData(d), unsafe.SliceData(s), len(d))
	default:
		expBlock(d, s)
	}
}

// maxF32 returns the largest element of s (-Inf for an empty s). Its result
// is unspecified when s holds a NaN; callers check for NaN themselves.
func maxF32(s []float32) float32 { return maxF32At(simdBest, s) }

// maxF32At is maxF32 with the kernel set l.
func maxF32At(l simdLevel, s []float32) float32 {
	if len(s) == 0 {
		return maxF32Generic(s)
	}
	switch l {
	case simdAVX512:
		return maxF32AVX512(unsafe.SliceData(s), len(s))
	case simdAVX2:
		return maxF32AVX2(unsafe.SliceData(s), len(s))
	}
	return maxF32Generic(s)
}

// expSumF32 sets d[i] = e^(s[i]-m) and returns their sum, accumulated in
// float64.
func expSumF32(d, s []float32, m float32) float64 { return expSumF32At(simdBest, d, s, m) }

// expSumF32At is expSumF32 with the kernel set l.
func expSumF32At(l simdLevel, d, s []float32, m float32) float64 {
	if len(d) == 0 {
		return 0
	}
	s = s[:len(d)]
	switch l {
	case simdAVX512:
		return expSumF32AVX512(unsafe.SliceData(d), unsafe.SliceData(s), len(d), m)
	case simdAVX2:
		return expSumF32AVX2(unsafe.SliceData(d), unsafe.SliceData(s), len(d), m)
	}
	return expSumF32Generic(d, s, m)
}

// scaleF32 multiplies every element of d by c.
func scaleF32(d []float32, c float32) { scaleF32At(simdBest, d, c) }

// scaleF32At is scaleF32 with the kernel set l.
func scaleF32At(l simdLevel, d []float32, c float32) {
	if len(d) == 0 {
		return
	}
	switch l {
	case simdAVX512:
		scaleF32AVX512(unsafe.SliceData(d), len(d), c)
	case simdAVX2:
		scaleF32AVX2(unsafe.SliceData(d), len(d), c)
	default:
		scaleF32Generic(d, c)
	}
}

// logSoftmaxF32 sets d[i] = float32(float64(s[i]-m) - ls).
func logSoftmaxF32(d, s []float32, m float32, ls float64) { logSoftmaxF32At(simdBest, d, s, m, ls) }

// logSoftmaxF32At is logSoftmaxF32 with the kernel set l.
func logSoftmaxF32At(l simdLevel, d, s []float32, m float32, ls float64) {
	if len(d) == 0 {
		return
	}
	s = s[:len(d)]
	switch l {
	case simdAVX512:
		logSoftmaxF32AVX512(unsafe.SliceData(d), unsafe.SliceData(s), len(d), m, ls)
	case simdAVX2:
		logSoftmaxF32AVX2(unsafe.SliceData(d), unsafe.SliceData(s), len(d), m, ls)
	default:
		logSoftmaxF32Generic(d, s, m, ls)
	}
}

// sumF32 returns the sum of x: blocks of sumBlock elements are summed in
// float32 lanes and the block totals in float64.
func sumF32(x []float32) float64 { return sumF32At(simdBest, x) }

// sumF32At is sumF32 with the kernel set l.
func sumF32At(l simdLevel, x []float32) float64 {
	if l != simdAVX512 && l != simdAVX2 {
		return sumF32Generic(x)
	}
	var sum float64
	for len(x) > 0 {
		k := min(len(x), sumBlock)
		if l == simdAVX512 {
			sum += float64(sumF32AVX512(unsafe.SliceData(x), k))
		} else {
			sum += float64(sumF32AVX2(unsafe.SliceData(x), k))
		}
		x = x[k:]
	}
	return sum
}
