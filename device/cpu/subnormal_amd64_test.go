package cpu

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// requireDefaultFPMode checks that the calling thread's MXCSR is back in
// Go's default mode (round to nearest, all exceptions masked, no FTZ or
// DAZ); the sticky exception flags may be anything.
func requireDefaultFPMode(t *testing.T) {
	require.Equal(t, uint32(0x1f80), getMXCSR()&^0x3f, "MXCSR restored (exception flags aside)")
}
