//go:build !amd64 || purego

package cpu

// Portable versions of the float32 vector kernels of simd_amd64.s and
// simd_avx2_amd64.s. The *At forms mirror simd_amd64.go so that the tests
// are the same on every platform; here every level runs the Go code.

// simdLevels lists every kernel set this build runs.
func simdLevels() []simdLevel { return []simdLevel{simdGo} }

func expF32(d, s []float32) { expBlock(d, s) }

func expF32At(_ simdLevel, d, s []float32) { expBlock(d, s) }

func maxF32(s []float32) float32 { return maxF32Generic(s) }

func maxF32At(_ simdLevel, s []float32) float32 { return maxF32Generic(s) }

func expSumF32(d, s []float32, m float32) float64 { return expSumF32Generic(d, s, m) }

func expSumF32At(_ simdLevel, d, s []float32, m float32) float64 {
	return expSumF32Generic(d, s, m)
}

func scaleF32(d []float32, c float32) { scaleF32Generic(d, c) }

func scaleF32At(_ simdLevel, d []float32, c float32) { scaleF32Generic(d, c) }

func logSoftmaxF32(d, s []float32, m float32, ls float64) { logSoftmaxF32Generic(d, s, m, ls) }

func logSoftmaxF32At(_ simdLevel, d, s []float32, m float32, ls float64) {
	logSoftmaxF32Generic(d, s, m, ls)
}

func sumF32(x []float32) float64 { return sumF32Generic(x) }

func sumF32At(_ simdLevel, x []float32) float64 { return sumF32Generic(x) }
