package cuda

import "math/bits"

// Size classes of the caching allocator (pure Go, tested without a GPU).
const (
	minBlock   = 512      // smallest block; every class is a multiple of 128 bytes
	largeBlock = 32 << 20 // from here on sizes round up to 2 MiB
	largeRound = 2 << 20
)

// classSize rounds a request of n bytes up to its size class: 512 bytes
// at least, then four classes per power of two (at most 25% waste) up to
// 32 MiB, and multiples of 2 MiB beyond (at most about 6% waste). Blocks
// are reused only for requests of the same class.
func classSize(n int64) int64 {
	switch {
	case n <= minBlock:
		return minBlock
	case n >= largeBlock:
		return (n + largeRound - 1) / largeRound * largeRound
	}
	e := bits.Len64(uint64(n - 1)) // 2^(e-1) < n <= 2^e
	step := int64(1) << (e - 3)
	return (n + step - 1) / step * step
}
