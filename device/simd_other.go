//go:build !amd64 || purego

package device

// Portable versions of the float32 vector kernels of simd_amd64.s.

func expF32(d, s []float32) { expBlock(d, s) }

func maxF32(s []float32) float32 { return maxF32Generic(s) }

func expSumF32(d, s []float32, m float32) float64 { return expSumF32Generic(d, s, m) }

func scaleF32(d []float32, c float32) { scaleF32Generic(d, c) }

func logSoftmaxF32(d, s []float32, m float32, ls float64) { logSoftmaxF32Generic(d, s, m, ls) }

func sumF32(x []float32) float64 { return sumF32Generic(x) }
