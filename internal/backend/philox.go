package backend

import (
	"math"
	"math/bits"

	"github.com/nabla-go/nabla/device"
)

// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2,
// 3", SC'11). A counter-based generator: output k depends only on (key,
// counter k), so any element of a random tensor can be computed on its own,
// in any order, on any device, and the stream is the same on CPU and GPU.
const (
	philoxM0 = 0xD2511F53
	philoxM1 = 0xCD9E8D57
	philoxW0 = 0x9E3779B9
	philoxW1 = 0xBB67AE85
)

// Philox returns the four 32-bit words for counter ctr under key seed.
func Philox(seed, ctr uint64) [4]uint32 {
	c0, c1, c2, c3 := uint32(ctr), uint32(ctr>>32), uint32(0), uint32(0)
	k0, k1 := uint32(seed), uint32(seed>>32)
	for r := 0; r < 10; r++ {
		if r > 0 {
			k0 += philoxW0
			k1 += philoxW1
		}
		hi0, lo0 := bits.Mul32(philoxM0, c0)
		hi1, lo1 := bits.Mul32(philoxM1, c2)
		c0, c1, c2, c3 = hi1^c1^k0, lo1, hi0^c3^k1, lo0
	}
	return [4]uint32{c0, c1, c2, c3}
}

// RandomValue draws element ctr of distribution dist as a float64.
func RandomValue(dist device.Distribution, seed, ctr uint64, a, b float64) float64 {
	w := Philox(seed, ctr)
	u64 := uint64(w[0])<<32 | uint64(w[1])
	switch dist {
	case device.Normal:
		// Box-Muller on two independent words; u1 is in (0, 1] so the log is finite.
		u1 := (float64(w[0]) + 1) / (1 << 32)
		u2 := float64(w[1]) / (1 << 32)
		return a + b*math.Sqrt(-2*math.Log(u1))*math.Cos(2*math.Pi*u2)
	case device.IntRange:
		span := uint64(int64(b) - int64(a))
		hi, _ := bits.Mul64(u64, span)
		return float64(int64(a) + int64(hi))
	case device.Bernoulli:
		if float64(u64>>11)/(1<<53) < a {
			return 1
		}
		return 0
	default:
		return a + (b-a)*float64(u64>>11)/(1<<53)
	}
}

// UniformFloat32 is the float32 uniform draw on [a, b); it uses 24 bits so
// that every value is exactly representable and b is never returned.
func UniformFloat32(seed, ctr uint64, a, b float32) float32 {
	w := Philox(seed, ctr)
	u := float32(w[0]>>8) * (1.0 / (1 << 24))
	v := a + (b-a)*u
	if v >= b && b > a {
		v = math.Nextafter32(b, a)
	}
	return v
}

// PhiloxPair returns, for the counters ctr and ctr+1 under key seed, the
// first two words of Philox's output combined as RandomValue combines
// them (w[0]<<32 | w[1]). Two independent streams interleaved give the
// CPU two multiply chains to overlap, and the words dropout never reads
// are not computed in the last round: about twice as fast as two calls
// of Philox, with the same bits (TestPhiloxPair).
func PhiloxPair(seed, ctr uint64) (uint64, uint64) {
	a0, a1, a2, a3 := uint32(ctr), uint32(ctr>>32), uint32(0), uint32(0)
	ctr++
	b0, b1, b2, b3 := uint32(ctr), uint32(ctr>>32), uint32(0), uint32(0)
	k0, k1 := uint32(seed), uint32(seed>>32)
	for range 9 {
		a0, a1, a2, a3 = philoxRound(a0, a1, a2, a3, k0, k1)
		b0, b1, b2, b3 = philoxRound(b0, b1, b2, b3, k0, k1)
		k0 += philoxW0
		k1 += philoxW1
	}
	pa := uint64(philoxM1) * uint64(a2)
	pb := uint64(philoxM1) * uint64(b2)
	return uint64(uint32(pa>>32)^a1^k0)<<32 | pa&0xFFFFFFFF, uint64(uint32(pb>>32)^b1^k0)<<32 | pb&0xFFFFFFFF
}

// philoxRound is one round of Philox on the words c0..c3 with the round
// key k0, k1.
func philoxRound(c0, c1, c2, c3, k0, k1 uint32) (uint32, uint32, uint32, uint32) {
	p0 := uint64(philoxM0) * uint64(c0)
	p1 := uint64(philoxM1) * uint64(c2)
	return uint32(p1>>32) ^ c1 ^ k0, uint32(p1), uint32(p0>>32) ^ c3 ^ k1, uint32(p0)
}
