package cuda

// Launch-planning tests that run without a GPU: they emulate the kernels'
// index arithmetic in Go and compare it with direct strided addressing.

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
)

// randomLayout returns a layout of shape that is contiguous, permuted,
// sliced with steps, offset, or broadcast (zero strides), at random.
func randomLayout(r *rand.Rand, shape []int) device.Layout {
	n := len(shape)
	// Start from a contiguous layout of a larger base array, with a random
	// permutation of dimensions and random steps.
	perm := r.Perm(n)
	steps := make([]int, n)
	for i := range steps {
		steps[i] = 1
		if r.IntN(3) == 0 {
			steps[i] = 1 + r.IntN(3)
		}
	}
	strides := make([]int, n)
	s := 1 + r.IntN(2)
	for k := n - 1; k >= 0; k-- {
		d := perm[k]
		strides[d] = s * steps[d]
		s *= shape[d]*steps[d] + r.IntN(2)
	}
	for i := range strides {
		if r.IntN(5) == 0 {
			strides[i] = 0 // broadcast
		}
	}
	if r.IntN(2) == 0 { // plain contiguous
		strides = device.ContiguousStrides(shape)
	}
	return device.Layout{Shape: shape, Strides: strides, Offset: r.IntN(5)}
}

func randomShape(r *rand.Rand, maxRank int) []int {
	shape := make([]int, r.IntN(maxRank+1))
	for i := range shape {
		shape[i] = 1 + r.IntN(4)
		if r.IntN(4) == 0 {
			shape[i] = 1
		}
	}
	return shape
}

// directOffset is the offset (without l.Offset) of element k in
// row-major order of l's shape.
func directOffset(l device.Layout, k int) int64 {
	off := 0
	for d := len(l.Shape) - 1; d >= 0; d-- {
		off += (k % l.Shape[d]) * l.Strides[d]
		k /= l.Shape[d]
	}
	return int64(off)
}

func TestMakeIterMatchesStridedAddressing(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 3000; trial++ {
		shape := randomShape(r, 7)
		nops := 1 + r.IntN(4)
		ls := make([]device.Layout, nops)
		for k := range ls {
			ls[k] = randomLayout(r, shape)
		}
		it, err := makeIter(shape, ls...)
		require.NoError(t, err)
		n := device.Numel(shape)
		require.Equal(t, int64(n), it.N)
		for i := 0; i < n; i++ {
			got := iterOffsets(&it, int64(i), nops)
			for k := range ls {
				require.Equal(t, directOffset(ls[k], i), got[k], "shape %v layout %v element %d operand %d (iter %+v)", shape, ls[k], i, k, it)
			}
		}
	}
}

func TestMakeIterContiguousFastPath(t *testing.T) {
	it, err := makeIter([]int{4, 1, 5}, device.Contiguous(4, 1, 5), device.Contiguous(4, 1, 5))
	require.NoError(t, err)
	require.Equal(t, int32(0), it.Rank)
	// A transposed operand is not contiguous.
	tr := device.Layout{Shape: []int{4, 5}, Strides: []int{1, 4}}
	it, err = makeIter([]int{4, 5}, device.Contiguous(4, 5), tr)
	require.NoError(t, err)
	require.Equal(t, int32(2), it.Rank)
	// A broadcast scalar operand merges to one dimension of stride 0.
	sc := device.Layout{Shape: []int{4, 5}, Strides: []int{0, 0}}
	it, err = makeIter([]int{4, 5}, device.Contiguous(4, 5), sc)
	require.NoError(t, err)
	require.Equal(t, int32(1), it.Rank)
	require.Equal(t, int64(20), it.Shape[0])
	require.Equal(t, [2]int64{1, 0}, [2]int64{it.Stride[0][0], it.Stride[1][0]})
	// A 0-d tensor is contiguous.
	it, err = makeIter(nil, device.Layout{})
	require.NoError(t, err)
	require.Equal(t, int64(1), it.N)
	require.Equal(t, int32(0), it.Rank)
	// More than 8 dimensions that cannot merge are refused.
	shape := []int{2, 2, 2, 2, 2, 2, 2, 2, 2}
	l := device.Layout{Shape: shape, Strides: []int{1, 2, 4, 8, 16, 32, 64, 128, 256}}
	_, err = makeIter(shape, device.Contiguous(shape...), l)
	require.ErrorContains(t, err, "non-mergeable")
}

// emulateReduce returns the src and dst offsets the reduce kernel uses for
// column j of row row.
func emulateReduce(a *redArgs, row, j int64) (int64, int64) {
	var so, do int64
	u := row
	for d := 0; d < int(a.OutRank); d++ {
		r := u
		if d < int(a.OutRank)-1 {
			q := u / a.OutShape[d]
			r, u = u-q*a.OutShape[d], q
		}
		so += r * a.SrcOuter[d]
		do += r * a.DstOuter[d]
	}
	u = j
	for d := 0; d < int(a.InRank); d++ {
		r := u
		if d < int(a.InRank)-1 {
			q := u / a.InShape[d]
			r, u = u-q*a.InShape[d], q
		}
		so += r * a.InStride[d]
	}
	return so, do
}

func TestPlanReduceMatchesStridedAddressing(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 3000; trial++ {
		shape := randomShape(r, 6)
		src := randomLayout(r, shape)
		n := r.IntN(len(shape) + 1)
		outer := shape[:len(shape)-n]
		dst := randomLayout(r, append([]int(nil), outer...))
		p, err := planReduce(dst, src, n, 132)
		require.NoError(t, err)
		a := &p.args
		rows, cols := device.Numel(outer), device.Numel(shape[len(shape)-n:])
		require.Equal(t, int64(rows), a.Rows)
		require.Equal(t, int64(cols), a.Cols)
		require.GreaterOrEqual(t, a.Split*a.Chunk, a.Cols)
		for row := 0; row < rows; row++ {
			for j := 0; j < cols; j++ {
				so, do := emulateReduce(a, int64(row), int64(j))
				require.Equal(t, directOffset(src, row*cols+j), so, "shape %v n %d src %v row %d col %d", shape, n, src, row, j)
				require.Equal(t, directOffset(dst, row), do)
			}
		}
	}
}

func TestPlanReduceShapes(t *testing.T) {
	// A full reduction of a long vector is split into chunks (two passes).
	p, err := planReduce(device.Layout{}, device.Contiguous(1<<26), 1, 132)
	require.NoError(t, err)
	require.Equal(t, int32(threads), p.args.Group)
	require.Greater(t, p.args.Split, int64(1))
	require.Zero(t, p.args.Chunk%4)
	require.GreaterOrEqual(t, p.args.Split*p.args.Chunk, p.args.Cols)
	require.Less(t, (p.args.Split-1)*p.args.Chunk, p.args.Cols, "no empty chunk")
	require.NotZero(t, p.partBlocks)
	// Many short rows: a thread per row.
	p, err = planReduce(device.Contiguous(100000), device.Contiguous(100000, 10), 1, 132)
	require.NoError(t, err)
	require.Equal(t, int32(1), p.args.Group)
	// Many medium rows: a warp per row.
	p, err = planReduce(device.Contiguous(10000), device.Contiguous(10000, 500), 1, 132)
	require.NoError(t, err)
	require.Equal(t, int32(32), p.args.Group)
	// Long rows: a block per row, no split when there are enough rows.
	p, err = planReduce(device.Contiguous(1000), device.Contiguous(1000, 5000), 1, 132)
	require.NoError(t, err)
	require.Equal(t, int32(threads), p.args.Group)
	require.Equal(t, int64(1), p.args.Split)
	// Reducing no dimension: one column per row.
	p, err = planReduce(device.Contiguous(3, 4), device.Contiguous(3, 4), 0, 132)
	require.NoError(t, err)
	require.Equal(t, int64(12), p.args.Rows)
	require.Equal(t, int64(1), p.args.Cols)
	_, err = planReduce(device.Contiguous(3), device.Contiguous(4, 5), 1, 132)
	require.Error(t, err)
}

func TestPlanSoftmaxMatchesStridedAddressing(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for trial := 0; trial < 2000; trial++ {
		shape := randomShape(r, 5)
		src := randomLayout(r, shape)
		dst := randomLayout(r, shape)
		p, err := planSoftmax(dst, src, 132)
		require.NoError(t, err)
		a := &p.args
		if len(shape) == 0 {
			require.Equal(t, int64(1), a.Rows*a.Cols)
			continue
		}
		cols := shape[len(shape)-1]
		for row := 0; row < int(a.Rows); row++ {
			var so, do int64
			u := int64(row)
			for d := 0; d < int(a.Rank); d++ {
				rr := u
				if d < int(a.Rank)-1 {
					q := u / a.Shape[d]
					rr, u = u-q*a.Shape[d], q
				}
				so += rr * a.SOuter[d]
				do += rr * a.DOuter[d]
			}
			for j := 0; j < cols; j++ {
				require.Equal(t, directOffset(src, row*cols+j), so+int64(j)*a.Ss)
				require.Equal(t, directOffset(dst, row*cols+j), do+int64(j)*a.Ds)
			}
		}
	}
	p, err := planSoftmax(device.Contiguous(8192, 8192), device.Contiguous(8192, 8192), 132)
	require.NoError(t, err)
	require.True(t, p.block)
	p.withCache(4)
	require.Equal(t, int32(1), p.args.Cache)
	require.Equal(t, uint32(8192*4), p.smem)
	p, _ = planSoftmax(device.Contiguous(10, 100000), device.Contiguous(10, 100000), 132)
	p.withCache(4)
	require.Equal(t, int32(0), p.args.Cache, "rows larger than shared memory are read twice")
}

func TestPlanGemmKernels(t *testing.T) {
	row := func(b, r, c int) device.Layout { return device.Contiguous(b, r, c) }
	tr := func(b, r, c int) device.Layout { // a transposed view of a [b, c, r] array
		return device.Layout{Shape: []int{b, r, c}, Strides: []int{r * c, 1, r}}
	}
	const M, N, K = 512, 256, 384
	cases := []struct {
		a, b device.Layout
		want string
	}{
		{row(1, M, K), row(1, K, N), "matmul_kn_f32"},
		{row(1, M, K), tr(1, K, N), "matmul_kk_f32"},
		{tr(1, M, K), row(1, K, N), "matmul_mn_f32"},
		{tr(1, M, K), tr(1, K, N), "matmul_mk_f32"},
		{device.Layout{Shape: []int{1, M, K}, Strides: []int{0, 2 * K, 2}}, row(1, K, N), "matmul_ss_f32"},
	}
	for _, c := range cases {
		p, err := planGemm(row(1, M, N), c.a, c.b, device.Float32, 0, 0, 0, false, 132)
		require.NoError(t, err)
		require.Equal(t, c.want, p.kernel)
		wantGrid := [3]uint32{N / 128, M / 128, 1}
		if c.want == "matmul_ss_f32" {
			wantGrid = [3]uint32{N / 64, M / 64, 1}
		}
		require.Equal(t, wantGrid, p.grid, c.want)
	}
	// Vector access needs 16-byte aligned bases and leading dimensions.
	p, _ := planGemm(row(1, M, N), row(1, M, K), row(1, K, N), device.Float32, 0, 0, 0, false, 132)
	require.Equal(t, [3]int32{1, 1, 1}, [3]int32{p.args.VecA, p.args.VecB, p.args.VecC})
	p, _ = planGemm(row(1, M, N), row(1, M, K), row(1, K, N), device.Float32, 4, 0, 0, false, 132)
	require.Equal(t, int32(0), p.args.VecA)
	p, _ = planGemm(row(1, M, N+1), row(1, M, K), row(1, K, N+1), device.Float32, 0, 0, 0, false, 132)
	require.Equal(t, [2]int32{0, 0}, [2]int32{p.args.VecB, p.args.VecC})
	// TF32 only when asked.
	p, _ = planGemm(row(1, M, N), row(1, M, K), tr(1, K, N), device.Float32, 0, 0, 0, true, 132)
	require.Equal(t, "tf32_kk_f32", p.kernel)
	// Small products and float64 use the generic kernel.
	p, _ = planGemm(row(1, 4, 3), row(1, 4, 5), row(1, 5, 3), device.Float32, 0, 0, 0, true, 132)
	require.Equal(t, "matmul_ss_f32", p.kernel)
	p, _ = planGemm(row(7, M, N), row(7, M, K), row(7, K, N), device.Float64, 0, 0, 0, false, 132)
	require.Equal(t, "matmul_f64", p.kernel)
	require.Equal(t, uint32(7), p.grid[2])
	// A broadcast batch operand has batch stride 0.
	bl := device.Layout{Shape: []int{3, K, N}, Strides: []int{0, N, 1}}
	p, _ = planGemm(row(3, M, N), row(3, M, K), bl, device.Float32, 0, 0, 0, false, 132)
	require.Equal(t, "matmul_kn_f32", p.kernel)
	require.Equal(t, int64(0), p.args.Bs0)
	_, err := planGemm(row(1, M, N), row(1, M, K+1), row(1, K, N), device.Float32, 0, 0, 0, false, 132)
	require.Error(t, err)
	require.True(t, outputsOverlap(device.Layout{Shape: []int{2, 3, 3}, Strides: []int{1, 3, 1}}))
	require.False(t, outputsOverlap(device.Contiguous(2, 3, 3)))
}

func TestPlanIndexMatchesStridedAddressing(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for trial := 0; trial < 2000; trial++ {
		shape := randomShape(r, 5)
		if len(shape) == 0 {
			continue
		}
		dim := r.IntN(len(shape))
		tshape := append([]int(nil), shape...)
		tshape[dim] = 1 + r.IntN(5)
		target := randomLayout(r, tshape)
		other := randomLayout(r, shape)
		idx := randomLayout(r, shape)
		for _, targetFirst := range []bool{false, true} {
			it, size, stride, err := planIndex(shape, target, other, idx, dim, targetFirst)
			require.NoError(t, err)
			require.Equal(t, int64(tshape[dim]), size)
			require.Equal(t, int64(target.Strides[dim]), stride)
			tz := target.Clone()
			tz.Shape = shape
			tz.Strides[dim] = 0
			for i := 0; i < device.Numel(shape); i++ {
				off := iterOffsets(&it, int64(i), 3)
				ti, oi := 1, 0
				if targetFirst {
					ti, oi = 0, 1
				}
				require.Equal(t, directOffset(tz, i), off[ti])
				require.Equal(t, directOffset(other, i), off[oi])
				require.Equal(t, directOffset(idx, i), off[2])
			}
		}
	}
}

func TestClassSize(t *testing.T) {
	prev := int64(0)
	for n := int64(1); n < 1<<36; n = n*9/8 + 1 {
		c := classSize(n)
		require.GreaterOrEqual(t, c, n)
		require.GreaterOrEqual(t, c, prev, "classes grow with the request")
		require.Zero(t, c%128)
		if n > minBlock {
			require.LessOrEqual(t, float64(c), 1.25*float64(n)+1, "at most 25%% waste for %d", n)
		}
		require.Equal(t, c, classSize(c), "a class size is its own class")
		prev = c
	}
	require.Equal(t, int64(512), classSize(1))
	require.Equal(t, int64(640), classSize(513))
	require.Equal(t, int64(1024), classSize(1024))
	require.Equal(t, int64(1280), classSize(1025))
	require.Equal(t, int64(34<<20), classSize(33<<20+1))
}

func TestScalarsUseGoConversions(t *testing.T) {
	s := newScalars(2.75, -1.5)
	require.Equal(t, float32(2.75), s.Fa)
	require.Equal(t, int64(2), s.Ia)
	require.Equal(t, int64(-1), s.Ib)
	require.Equal(t, uint8(2), s.Ua)
}
