package cuda

// Launch planning of BiasActivation (kernels/bias.cu). Pure Go (no build
// tag), tested without a GPU in bias_plan_test.go by emulating the
// kernel's index arithmetic.

import "github.com/nabla-go/nabla/device"

// biasVecBytes is the width of the kernel's vector loads.
const biasVecBytes = 16

// newBiasArgs lays out d = op(s + bias) for [M, N] layouts dst and src and
// an [N] layout bias whose first elements are at the device addresses pd,
// ps and pb (offsets included), with elements of esize bytes. It returns
// the kernel arguments and the number of work items (vectors on the
// vector path, elements otherwise), which sizes the grid.
func newBiasArgs(dst, src, bias device.Layout, pd, ps, pb uintptr, esize int) (biasArgs, int64) {
	m, n := dst.Shape[0], dst.Shape[1]
	a := biasArgs{
		M: int64(m), N: int64(n),
		Ds0: int64(dst.Strides[0]), Ds1: int64(dst.Strides[1]),
		Ss0: int64(src.Strides[0]), Ss1: int64(src.Strides[1]),
		Bs: int64(bias.Strides[0]),
	}
	total := int64(m) * int64(n)
	width := biasVecBytes / esize
	// A stride along a dimension of size 1 is never used, so it does not
	// stop the operands from counting as contiguous rows.
	rows := func(l device.Layout) bool {
		return (n == 1 || l.Strides[1] == 1) && (m == 1 || l.Strides[0] == n)
	}
	aligned := func(p uintptr) bool { return p%biasVecBytes == 0 }
	if total > 0 && n%width == 0 && rows(dst) && rows(src) && (n == 1 || bias.Strides[0] == 1) &&
		aligned(pd) && aligned(ps) && aligned(pb) {
		a.Vec = 1
		return a, total / int64(width)
	}
	return a, total
}

// biasOffsets computes what kernels/bias.cu reads and writes for work item
// i: the destination, source and bias element offsets of each element it
// covers, in order. For tests.
func biasOffsets(a *biasArgs, i int64, esize int) (d, s, b []int64) {
	if a.Vec != 0 {
		width := int64(biasVecBytes / esize)
		c := i % (a.N / width)
		for q := range width {
			d = append(d, i*width+q)
			s = append(s, i*width+q)
			b = append(b, c*width+q)
		}
		return d, s, b
	}
	r := i / a.N
	c := i - r*a.N
	return []int64{r*a.Ds0 + c*a.Ds1}, []int64{r*a.Ss0 + c*a.Ss1}, []int64{c * a.Bs}
}
