//go:build amd64 && !purego

package cpu

import (
	"math/rand/v2"
	"testing"
)

// TestPackTransposeAVX2 runs checkPackTranspose on the AVX2 transposers
// where packTranspose would otherwise take the AVX-512 ones.
func TestPackTransposeAVX2(t *testing.T) {
	if !hasAVX512 {
		t.Skip("packTranspose uses the AVX2 transposers here: TestPackers checks them")
	}
	rng := rand.New(rand.NewPCG(11, 12))
	src := make([]float32, 40*700)
	for i := range src {
		src[i] = rng.Float32()
	}
	hasAVX512 = false
	defer func() { hasAVX512 = true }()
	checkPackTranspose(t, src)
}
