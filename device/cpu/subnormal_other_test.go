//go:build !amd64

package cpu

import "testing"

// requireDefaultFPMode has nothing to check where the CPU backend never
// changes the floating-point mode (see runKernel).
func requireDefaultFPMode(t *testing.T) {}
