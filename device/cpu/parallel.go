package cpu

import (
	"runtime"
	"sync"
)

// parallelFor splits [0, n) into contiguous chunks of at least grain items
// and runs fn on them, one goroutine per chunk, using at most GOMAXPROCS
// goroutines. Small ranges run on the calling goroutine, because starting
// goroutines costs about a microsecond each. Every chunk runs with
// subnormals flushed to zero (see SetFlushSubnormals).
func parallelFor(n, grain int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	if grain < 1 {
		grain = 1
	}
	workers := runtime.GOMAXPROCS(0)
	chunks := min(workers, (n+grain-1)/grain)
	if chunks <= 1 {
		runKernel(fn, 0, n)
		return
	}
	var wg sync.WaitGroup
	wg.Add(chunks - 1)
	for c := 1; c < chunks; c++ {
		lo, hi := c*n/chunks, (c+1)*n/chunks
		go func() {
			defer wg.Done()
			runKernel(fn, lo, hi)
		}()
	}
	runKernel(fn, 0, n/chunks)
	wg.Wait()
}
