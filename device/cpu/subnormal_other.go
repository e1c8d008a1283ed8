//go:build !amd64

package cpu

// runKernel runs fn(lo, hi). Only amd64 flushes subnormals so far (see
// SetFlushSubnormals).
func runKernel(fn func(lo, hi int), lo, hi int) { fn(lo, hi) }
