//go:build !amd64 || purego

package cpu

// maxPool2x2Row has no vector form on this build: it pools no windows.
func maxPool2x2Row[T float](y []T, idx []int64, r0, r1 []T, base, w int) int { return 0 }

// maxPool2x2BackRow has no vector form on this build.
func maxPool2x2BackRow[T float](d0, d1, g []T, idx []int64, base, w int) bool { return false }
