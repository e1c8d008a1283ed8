package cuda

import "sync/atomic"

var allowTF32 atomic.Bool

// SetAllowTF32 lets float32 matrix products use TF32 tensor cores on
// sm_80 and newer GPUs (inputs rounded to a 10-bit mantissa, float32
// accumulation), as torch.backends.cuda.matmul.allow_tf32 = True does. Off
// by default. The setting is global and may change at any time; it is read
// at each MatMul. (This file builds without the cuda tag, so programs and
// tests can set it whatever the build.)
func SetAllowTF32(allow bool) { allowTF32.Store(allow) }

// AllowTF32 reports whether float32 matrix products may use TF32.
func AllowTF32() bool { return allowTF32.Load() }
