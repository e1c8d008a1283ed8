package cpu

import "runtime"

// The MXCSR bits that make SSE and AVX arithmetic flush subnormal results
// to zero (FTZ) and read subnormal operands as zero (DAZ).
const (
	mxcsrDAZ = 1 << 6
	mxcsrFTZ = 1 << 15
)

func getMXCSR() uint32
func setMXCSR(v uint32)

// runKernel runs fn(lo, hi) with subnormals flushed to zero when
// FlushSubnormals is set. MXCSR belongs to the OS thread, so the
// goroutine stays on its thread while the mode is changed and the old
// mode is back before the thread runs anything else: no other goroutine
// ever sees it. (Signal handlers start from the default mode and the
// kernel restores ours after them.)
func runKernel(fn func(lo, hi int), lo, hi int) {
	if keepSubnormals.Load() {
		fn(lo, hi)
		return
	}
	runtime.LockOSThread()
	old := getMXCSR()
	setMXCSR(old | mxcsrDAZ | mxcsrFTZ)
	defer func() {
		setMXCSR(old)
		runtime.UnlockOSThread()
	}()
	fn(lo, hi)
}
