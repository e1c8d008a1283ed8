// philox.cuh: the counter-based Philox4x32-10 generator of
// device/philox.go, shared by random.cu (random tensors) and
// activation.cu (dropout masks recomputed in the backward pass), so that
// every kernel draws the same stream as the CPU backend.
#pragma once
#include "nabla.cuh"

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

// philox returns the four 32-bit words for counter ctr under key seed.
__device__ __forceinline__ uint4 philox(u64 seed, u64 ctr) {
	u32 c0 = (u32)ctr, c1 = (u32)(ctr >> 32), c2 = 0, c3 = 0;
	u32 k0 = (u32)seed, k1 = (u32)(seed >> 32);
#pragma unroll
	for (int r = 0; r < 10; r++) {
		if (r > 0) {
			k0 += PHILOX_W0;
			k1 += PHILOX_W1;
		}
		const u32 hi0 = __umulhi(PHILOX_M0, c0), lo0 = PHILOX_M0 * c0;
		const u32 hi1 = __umulhi(PHILOX_M1, c2), lo1 = PHILOX_M1 * c2;
		const u32 n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
		c0 = n0;
		c1 = lo1;
		c2 = n2;
		c3 = lo0;
	}
	return make_uint4(c0, c1, c2, c3);
}
