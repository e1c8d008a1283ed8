package tensor

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestIm2ColFlat checks im2colFlat and col2imFlat against Im2Col and Col2Im
// with the batch moved beside the window positions, on a geometry with
// padding and stride and on the "same" 3×3 convolution.
func TestIm2ColFlat(t *testing.T) {
	opts := Of(Float64).WithGenerator(NewGenerator(5))
	for _, g := range []ConvGeometry{
		{KernelH: 3, KernelW: 2, StrideH: 2, StrideW: 1, PadH: 1, PadW: 0},
		{KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1},
	} {
		x := opts.Rand(3, 2, 5, 6)
		cols := Im2Col(x, g) // [N, K, L]
		n, k, l := cols.Size(0), cols.Size(1), cols.Size(2)
		flat := im2colFlat(x, g)
		require.Equal(t, []int{k, n * l}, flat.Shape())
		require.Equal(t, cols.Permute(1, 0, 2).Reshape(k, n*l).Float64s(), flat.Float64s())

		c := opts.Rand(k, n*l)
		want := Col2Im(c.Reshape(k, n, l).Permute(1, 0, 2).Contiguous(), 2, 5, 6, g)
		require.Equal(t, want.Float64s(), col2imFlat(c, n, 2, 5, 6, g).Float64s())
	}
	require.Panics(t, func() {
		col2imFlat(Of(Float64).Zeros(4, 4), 1, 1, 3, 3, ConvGeometry{KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1})
	})
}
