//go:build amd64 && !purego

package cpu

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

//go:noescape
func maxPool2x2BackF32AVX512(d0, d1, grad *float32, idx *int64, n int, base, w int64) int

// maxPool2x2BackRow writes the input gradient of one row of 2×2, stride-2
// windows with vector code: window i sets d0[2i:2i+2] and d1[2i:2i+2] to
// 0 + g[i] where idx[i] (a flat index counted from base, the index of
// d0[0], with rows w apart) points and to 0 elsewhere, as zeroing the
// plane and scattering does. It reports false when it did nothing (no
// AVX-512, float64) or found an index outside its window, having then
// written an unspecified part of the rows.
func maxPool2x2BackRow[T float](d0, d1, g []T, idx []int64, base, w int) bool {
	n := len(g)
	if !hasAVX512 || n == 0 || unsafe.Sizeof(g[0]) != 4 {
		return false
	}
	_, _, _ = idx[n-1], d0[2*n-1], d1[2*n-1]
	return maxPool2x2BackF32AVX512((*float32)(unsafe.Pointer(&d0[0])), (*float32)(unsafe.Pointer(&d1[0])),
		(*float32)(unsafe.Pointer(&g[0])), &idx[0], n, int64(base), int64(w)) == 1
}
