//go:build amd64 && !purego

package device

import "unsafe"

//go:noescape
func maxPool2x2F32AVX512(y *float32, idx *int64, r0, r1 *float32, n int, base, w int64)

// maxPool2x2Row pools one row of 2×2, stride-2 windows with vector code,
// as maxPool2x2Plane would, and returns how many it did: all of them, or
// none where the kernel does not apply. Window
// i reads r0[2i:2i+2] and r1[2i:2i+2] and writes y[i] and idx[i] = the flat
// index of its choice, counted from base (the index of r0[0]) with rows w
// apart.
func maxPool2x2Row[T float](y []T, idx []int64, r0, r1 []T, base, w int) int {
	n := len(y)
	if !hasAVX512 || n == 0 || unsafe.Sizeof(y[0]) != 4 {
		return 0
	}
	_, _, _ = idx[n-1], r0[2*n-1], r1[2*n-1]
	maxPool2x2F32AVX512((*float32)(unsafe.Pointer(&y[0])), &idx[0],
		(*float32)(unsafe.Pointer(&r0[0])), (*float32)(unsafe.Pointer(&r1[0])), n, int64(base), int64(w))
	return n
}
