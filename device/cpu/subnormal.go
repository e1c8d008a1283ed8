package cpu

import "sync/atomic"

// Subnormal floats (magnitudes below 2^-126 in float32, 2^-1022 in
// float64) are handled by x86 CPUs in microcode, tens of times slower
// than other operands. Training makes many of them: the momentum of a
// weight whose gradient is almost always zero (a pixel that is nearly
// always black) decays geometrically through the subnormal range, and
// every later step pays for it (Adam on Fashion-MNIST ran its later
// epochs at about half the speed of the first). So the CPU backend runs
// its kernels with subnormals flushed to zero, as PyTorch does after
// torch.set_flush_denormal(True): results below the smallest normal
// number become zero, and such inputs are read as zero. Values that small
// are far below any tolerance a model cares about; SetFlushSubnormals
// (false) restores IEEE behaviour, PyTorch's default.

var keepSubnormals atomic.Bool

// SetFlushSubnormals sets whether the CPU backend's kernels flush
// subnormal floats to zero (the default, on amd64) and returns the
// previous setting. It is the counterpart of torch.set_flush_denormal;
// turn it off to compare results with PyTorch's default bit for bit in
// the subnormal range. On other architectures kernels keep subnormals
// whatever the setting.
func SetFlushSubnormals(on bool) (previous bool) {
	return !keepSubnormals.Swap(!on)
}

// FlushSubnormals reports whether the CPU backend's kernels flush
// subnormal floats to zero (see SetFlushSubnormals).
func FlushSubnormals() bool { return !keepSubnormals.Load() }
