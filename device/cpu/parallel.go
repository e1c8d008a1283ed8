package cpu

import "runtime"

// parallelFor splits [0, n) into contiguous chunks of at least grain items
// and runs fn on them, at most GOMAXPROCS chunks, on the calling goroutine
// and the backend's workers (see workers.go). Small ranges run on the
// calling goroutine alone. The chunks are the same for the same n, grain
// and GOMAXPROCS whoever runs them, so results that depend on where a
// range is cut do not change from run to run. Every chunk runs with
// subnormals flushed to zero (see SetFlushSubnormals).
func parallelFor(n, grain int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	if grain < 1 {
		grain = 1
	}
	chunks := min(runtime.GOMAXPROCS(0), (n+grain-1)/grain)
	if chunks <= 1 {
		runKernel(fn, 0, n)
		return
	}
	workers.runItems(chunks, func(c int) {
		runKernel(fn, c*n/chunks, (c+1)*n/chunks)
	})
}
