package tensor_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/tensor"
)

func TestMaxPool2d(t *testing.T) {
	// x = torch.tensor([[1,5,2,0],[3,4,8,8],[0,-1,6,7],[2,2,-3,9]]).reshape(1,1,4,4)
	x := tensor.FromSlice([]float32{1, 5, 2, 0, 3, 4, 8, 8, 0, -1, 6, 7, 2, 2, -3, 9}, 1, 1, 4, 4)
	g := tensor.ConvGeometry{KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2}
	y, idx := tensor.MaxPool2d(x, g)
	// F.max_pool2d(x, 2, return_indices=True): values 5 8 2 9, indices 1 6 12 15
	// (the tie 8/8 goes to the first, and so does the tie 2/2).
	require.Equal(t, []int{1, 1, 2, 2}, y.Shape())
	require.Equal(t, []float32{5, 8, 2, 9}, y.Float32s())
	require.Equal(t, tensor.Int64, idx.DType())
	require.Equal(t, []int64{1, 6, 12, 15}, idx.Int64s())

	dy := tensor.FromSlice([]float32{1, 2, 3, 4}, 1, 1, 2, 2)
	dx := tensorOps.MaxPool2dBackward(dy, idx, 4, 4, g)
	require.Equal(t, []float32{0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 3, 0, 0, 4}, dx.Float32s())

	// Padding reads -∞: all-negative input keeps negative maxima.
	neg := x.Neg()
	gp := tensor.ConvGeometry{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}
	yp, ip := tensor.MaxPool2d(neg, gp)
	// F.max_pool2d(-x, 3, 2, 1, return_indices=True)
	require.Equal(t, []float32{-1, 0, 1, 3}, yp.Float32s())
	require.Equal(t, []int64{0, 3, 9, 14}, ip.Int64s())

	// Overlapping windows accumulate in the backward pass.
	peak := tensor.FromSlice([]float32{0, 1, 0, 1, 9, 1, 0, 1, 0}, 1, 1, 3, 3)
	g1 := tensor.ConvGeometry{KernelH: 2, KernelW: 2, StrideH: 1, StrideW: 1}
	yk, ik := tensor.MaxPool2d(peak, g1)
	require.Equal(t, []int64{4, 4, 4, 4}, ik.Int64s())
	dxk := tensorOps.MaxPool2dBackward(tensor.OnesLike(yk), ik, 3, 3, g1)
	require.Equal(t, []float32{0, 0, 0, 0, 4, 0, 0, 0, 0}, dxk.Float32s())

	// A strided view pools like its copy.
	xt := tensor.Of(tensor.Float64).Arange(0, 2*3*6*5, 1).Reshape(2, 3, 6, 5).Transpose(2, 3)
	a, ai := tensor.MaxPool2d(xt, gp)
	b, bi := tensor.MaxPool2d(xt.Contiguous(), gp)
	require.Equal(t, b.Float64s(), a.Float64s())
	require.Equal(t, bi.Int64s(), ai.Int64s())
}

func TestAvgPool2d(t *testing.T) {
	x := tensor.Of(tensor.Float64).Arange(0, 16, 1).Reshape(1, 1, 4, 4)
	g := tensor.ConvGeometry{KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2}
	require.Equal(t, []float64{2.5, 4.5, 10.5, 12.5}, tensor.AvgPool2d(x, g).Float64s())
	// F.avg_pool2d(x, 3, 2, 1) (count_include_pad=True): the padding
	// counts, so the corner window is (0+1+4+5)/9.
	gp := tensor.ConvGeometry{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}
	y := tensor.AvgPool2d(x, gp)
	require.InDeltaSlice(t, []float64{10.0 / 9, 24.0 / 9, 51.0 / 9, 90.0 / 9}, y.Float64s(), 1e-15)

	// The backward pass is the adjoint: <AvgPool(x), dy> = <x, dx>.
	dy := tensor.FromSlice([]float64{1, -2, 3, 0.5}, 1, 1, 2, 2)
	dx := tensorOps.AvgPool2dBackward(dy, 4, 4, gp)
	require.InDelta(t, y.Mul(dy).Sum().Item(), x.Mul(dx).Sum().Item(), 1e-12)
	require.InDelta(t, 1.0/9, dx.Float64s()[0], 1e-15)
}

func TestPool2dErrors(t *testing.T) {
	g := tensor.ConvGeometry{KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2}
	_, idx := tensor.MaxPool2d(tensor.Zeros(1, 1, 4, 4), g)
	cases := []struct {
		name string
		f    func()
		kind error
		msg  string
	}{
		{"rank", func() { tensor.MaxPool2d(tensor.Zeros(3, 4, 4), g) }, tensor.ErrShape, "[N, C, H, W]"},
		{"dtype", func() { tensor.AvgPool2d(tensor.Zeros(1, 1, 4, 4).As(tensor.Int64), g) }, tensor.ErrDType, "int64"},
		{"too small", func() { tensor.AvgPool2d(tensor.Zeros(1, 1, 1, 4), g) }, tensor.ErrShape, "does not fit"},
		{"stride", func() { tensor.AvgPool2d(tensor.Zeros(1, 1, 4, 4), tensor.ConvGeometry{KernelH: 1, KernelW: 1}) }, tensor.ErrArgument, "stride"},
		{"grad shape", func() { tensorOps.AvgPool2dBackward(tensor.Zeros(1, 1, 3, 2), 4, 4, g) }, tensor.ErrShape, "does not match"},
		{"grad rank", func() { tensorOps.AvgPool2dBackward(tensor.Zeros(1, 2, 2), 4, 4, g) }, tensor.ErrShape, "[N, C, OH, OW]"},
		{"index dtype", func() { tensorOps.MaxPool2dBackward(tensor.Zeros(1, 1, 2, 2), tensor.Zeros(1, 1, 2, 2), 4, 4, g) }, tensor.ErrDType, "int64"},
		{"index shape", func() { tensorOps.MaxPool2dBackward(tensor.Zeros(1, 2, 2, 2), idx, 4, 4, g) }, tensor.ErrShape, "indices"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := tensor.Catch(c.f)
			require.Error(t, err)
			require.True(t, errors.Is(err, c.kind), "%v", err)
			require.ErrorContains(t, err, c.msg)
		})
	}
}
