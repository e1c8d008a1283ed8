package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchGemm times gemm on row-major m×k and k×n operands and reports the
// rate in GFLOP/s (2·m·n·k floating-point operations per product).
func benchGemm[T float](b *testing.B, gemm gemmFunc[T], m, n, k int) {
	rng := rand.New(rand.NewPCG(7, 8))
	x, y, z := make([]T, m*k), make([]T, k*n), make([]T, m*n)
	for i := range x {
		x[i] = T(rng.Float64())
	}
	for i := range y {
		y[i] = T(rng.Float64())
	}
	gemm(m, n, k, x, k, 1, y, n, 1, z, n, 1)
	b.ResetTimer()
	for b.Loop() {
		gemm(m, n, k, x, k, 1, y, n, 1, z, n, 1)
	}
	b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkMatMulF32(b *testing.B) {
	for _, n := range []int{64, 128, 256, 512, 1024, 2048} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) { benchGemm(b, gemmF32, n, n, n) })
	}
	// An MLP layer: a batch of 64 rows times a 784×256 weight matrix, and
	// the weight gradient, whose inner dimension is the batch.
	b.Run("64x784x256", func(b *testing.B) { benchGemm(b, gemmF32, 64, 256, 784) })
	b.Run("784x256x64", func(b *testing.B) { benchGemm(b, gemmF32, 784, 256, 64) })
	b.Run("1x1024x1024", func(b *testing.B) { benchGemm(b, gemmF32, 1, 1024, 1024) })
	b.Run("1024x1x1024", func(b *testing.B) { benchGemm(b, gemmF32, 1024, 1, 1024) })
}

func BenchmarkMatMulF64(b *testing.B) {
	for _, n := range []int{256, 1024} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) { benchGemm(b, gemmF64, n, n, n) })
	}
}
