package backend

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPhiloxKnownAnswer(t *testing.T) {
	// Known-answer vectors of Philox4x32-10 from the Random123 paper's
	// test suite: counter 0 and key 0.
	require.Equal(t, [4]uint32{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}, Philox(0, 0))
}

// TestPhiloxPair checks the dropout kernel's interleaved Philox against
// Philox, including counters whose low word carries into the high one.
func TestPhiloxPair(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	ctrs := []uint64{0, 1<<32 - 1, 1<<32 - 2, 1<<64 - 2, 1 << 32}
	for range 10000 {
		ctrs = append(ctrs, r.Uint64())
	}
	for _, ctr := range ctrs {
		seed := r.Uint64()
		u0, u1 := PhiloxPair(seed, ctr)
		w0, w1 := Philox(seed, ctr), Philox(seed, ctr+1)
		require.Equal(t, uint64(w0[0])<<32|uint64(w0[1]), u0, "seed %d counter %d", seed, ctr)
		require.Equal(t, uint64(w1[0])<<32|uint64(w1[1]), u1, "seed %d counter %d", seed, ctr+1)
	}
}
