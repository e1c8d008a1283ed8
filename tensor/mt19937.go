package tensor

// mt19937 is the 32-bit Mersenne Twister (Matsumoto and Nishimura, 1998)
// in the form PyTorch's CPU generator keeps it: the 624-word state, the
// number of words left before the next twist and the index of the next
// word. Seeding with s gives the words of std::mt19937(s & 0xffffffff),
// which are the words torch.manual_seed(s) makes PyTorch's CPU generator
// draw.
type mt19937 struct {
	seed  uint64 // the seed it was started from (torch.initial_seed)
	left  int32  // words left before the state is twisted again; 1..624
	next  uint32 // index of the next word of state; 0..624
	state [mtN]uint32
}

const (
	mtN       = 624
	mtM       = 397
	mtMatrixA = 0x9908b0df
	mtUpper   = 0x80000000
	mtLower   = 0x7fffffff
)

// reset starts the engine from seed; only its low 32 bits reach the
// state, as in std::mt19937 and PyTorch.
func (m *mt19937) reset(seed uint64) {
	m.seed = seed
	m.state[0] = uint32(seed)
	for j := 1; j < mtN; j++ {
		prev := m.state[j-1]
		m.state[j] = 1812433253*(prev^(prev>>30)) + uint32(j)
	}
	// A freshly seeded engine twists before its first word.
	m.left, m.next = 1, 0
}

// valid reports whether left and next describe a usable state.
func (m *mt19937) valid() bool {
	return m.left > 0 && m.left <= mtN && m.next <= mtN
}

func mtTwist(u, v uint32) uint32 {
	y := (u&mtUpper | v&mtLower) >> 1
	if v&1 != 0 {
		y ^= mtMatrixA
	}
	return y
}

// refill computes the next 624 words of state.
func (m *mt19937) refill() {
	s := &m.state
	for k := 0; k < mtN-mtM; k++ {
		s[k] = s[k+mtM] ^ mtTwist(s[k], s[k+1])
	}
	for k := mtN - mtM; k < mtN-1; k++ {
		s[k] = s[k+mtM-mtN] ^ mtTwist(s[k], s[k+1])
	}
	s[mtN-1] = s[mtM-1] ^ mtTwist(s[mtN-1], s[0])
	m.left, m.next = mtN, 0
}

// uint32 returns the next 32-bit word (PyTorch's generator->random()).
func (m *mt19937) uint32() uint32 {
	m.left--
	if m.left == 0 {
		m.refill()
	}
	y := m.state[m.next]
	m.next++
	y ^= y >> 11
	y ^= (y << 7) & 0x9d2c5680
	y ^= (y << 15) & 0xefc60000
	y ^= y >> 18
	return y
}

// uint64 returns two words as one, the first in the high half
// (PyTorch's generator->random64()).
func (m *mt19937) uint64() uint64 {
	hi := m.uint32()
	lo := m.uint32()
	return uint64(hi)<<32 | uint64(lo)
}
