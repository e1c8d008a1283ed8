//go:build amd64 && !purego

package cpu

import "testing"

// TestPackTransposeAVX2 runs checkPackTranspose on the AVX2 transposers
// where packTranspose would otherwise take the AVX-512 ones.
func TestPackTransposeAVX2(t *testing.T) {
	if !hasAVX512 {
		t.Skip("packTranspose uses the AVX2 transposers here: TestPackers checks them")
	}
	hasAVX512 = false
	defer func() { hasAVX512 = true }()
	checkPackTranspose(t, packerSource())
}
