package device

// gemmF32 and gemmF64 are the CPU matrix-multiply kernels (see gemmFunc).
var (
	gemmF32 gemmFunc[float32] = gemmNaive[float32]
	gemmF64 gemmFunc[float64] = gemmNaive[float64]
)

// gemmNaive is the reference kernel: a triple loop in the cache-friendly
// i-p-j order, accumulating each C row in float64-free native precision.
func gemmNaive[T float](m, n, k int, a []T, ars, acs int, b []T, brs, bcs int, c []T, crs, ccs int) {
	parallelFor(m, max(1, (1<<16)/max(1, n*k)), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			for j := 0; j < n; j++ {
				c[i*crs+j*ccs] = 0
			}
			for p := 0; p < k; p++ {
				av := a[i*ars+p*acs]
				for j := 0; j < n; j++ {
					c[i*crs+j*ccs] += av * b[p*brs+j*bcs]
				}
			}
		}
	})
}
