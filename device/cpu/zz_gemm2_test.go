package cpu

import (
	"fmt"
	"math/rand"
	"testing"
)

func BenchmarkZZPar(b *testing.B) {
	for _, n := range []int{256, 512, 1024, 2048} {
		a := make([]float32, n*n)
		bb := make([]float32, n*n)
		c := make([]float32, n*n)
		for i := range a {
			a[i] = rand.Float32()
			bb[i] = rand.Float32()
		}
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				sgemm.parallel(n, n, n, a, n, 1, bb, n, 1, c, n, 1)
			}
			b.ReportMetric(2*float64(n*n*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
