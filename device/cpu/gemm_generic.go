//go:build !amd64 || purego

package cpu

// gemmKernelsF32 lists the float32 micro-kernels this build can run: only
// the portable one.
func gemmKernelsF32() []gemmKernel[float32] { return []gemmKernel[float32]{goKernelF32()} }

// gemmKernelsF64 is gemmKernelsF32 for float64.
func gemmKernelsF64() []gemmKernel[float64] { return []gemmKernel[float64]{goKernelF64()} }

// gemmDot returns the inner product of x and y[:len(x)].
func gemmDot[T float](x, y []T) T { return gemmDotGo(x, y) }

// gemmAxpy computes y += alpha·x[:len(y)].
func gemmAxpy[T float](y []T, alpha T, x []T) { gemmAxpyGo(y, alpha, x) }

// packTranspose sets d[p*w+r] = src[base+r*stride+p] for r < rows and
// p < kc.
func packTranspose[T float](d []T, w int, src []T, base, stride, rows, kc int) {
	packTransposeGo(d, w, src, base, stride, rows, kc)
}

// packRows sets d[p*w+j] = src[base+p*stride+j] for j < cols and p < kc.
func packRows[T float](d []T, w int, src []T, base, stride, cols, kc int) {
	packRowsGo(d, w, src, base, stride, cols, kc)
}

// simdLimited reports whether NABLA_CPU_SIMD limits the kernels: this
// build has no vector kernels to limit.
func simdLimited() bool { return false }

func simdName() string { return "none" }
