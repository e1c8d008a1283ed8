package tensor_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/tensor"
)

func TestCat(t *testing.T) {
	a := seq(2, 3)
	b := seq(1, 3).Add(100)
	c := seq(2, 2).Add(50)
	tests := []struct {
		name  string
		got   *tensor.Tensor
		shape []int
		want  []float64
	}{
		{"Dim0", tensor.Cat([]*tensor.Tensor{a, b}, 0), []int{3, 3}, []float64{0, 1, 2, 3, 4, 5, 100, 101, 102}},
		{"Dim1", tensor.Cat([]*tensor.Tensor{a, c}, 1), []int{2, 5}, []float64{0, 1, 2, 50, 51, 3, 4, 5, 52, 53}},
		{"NegDim", tensor.Cat([]*tensor.Tensor{a, c}, -1), []int{2, 5}, []float64{0, 1, 2, 50, 51, 3, 4, 5, 52, 53}},
		{"One", tensor.Cat([]*tensor.Tensor{a}, 0), []int{2, 3}, values(a)},
		{"WithEmpty", tensor.Cat([]*tensor.Tensor{seq(0, 3), b, seq(0, 3)}, 0), []int{1, 3}, []float64{100, 101, 102}},
		{"AllEmpty", tensor.Cat([]*tensor.Tensor{seq(0, 3), seq(0, 3)}, 0), []int{0, 3}, []float64{}},
		{"Transposed", tensor.Cat([]*tensor.Tensor{a.T(), b.T()}, 1), []int{3, 3}, []float64{0, 3, 100, 1, 4, 101, 2, 5, 102}},
		{"Expanded", tensor.Cat([]*tensor.Tensor{tensor.Scalar(7.0).Expand(2, 1), c}, 1), []int{2, 3}, []float64{7, 50, 51, 7, 52, 53}},
		{"1D", tensor.Cat([]*tensor.Tensor{seq(2), seq(3)}, 0), []int{5}, []float64{0, 1, 0, 1, 2}},
		{"3DMiddle", tensor.Cat([]*tensor.Tensor{seq(2, 1, 2), seq(2, 2, 2).Add(10)}, 1), []int{2, 3, 2}, []float64{0, 1, 10, 11, 12, 13, 2, 3, 14, 15, 16, 17}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			requireExact(t, tc.want, tc.shape, tc.got)
			require.True(t, tc.got.IsContiguous())
		})
	}
	require.False(t, tensor.Cat([]*tensor.Tensor{a}, 0).SharesMemory(a), "Cat copies")
	require.Equal(t, []int64{1, 2, 3}, tensor.Cat([]*tensor.Tensor{tensor.FromSlice([]int64{1}), tensor.FromSlice([]int64{2, 3})}, 0).Int64s())
	require.Equal(t, []bool{true, false}, tensor.Cat([]*tensor.Tensor{tensor.FromSlice([]bool{true}), tensor.FromSlice([]bool{false})}, 0).Bools())

	requireFails(t, tensor.ErrArgument, func() { tensor.Cat(nil, 0) }, "tensor: Cat: needs at least one tensor")
	requireFails(t, tensor.ErrShape, func() { tensor.Cat([]*tensor.Tensor{a, c}, 0) }, "tensor: Cat: tensor 1 has shape [2 2], which differs from [2 3] outside dimension 0")
	requireFails(t, tensor.ErrShape, func() { tensor.Cat([]*tensor.Tensor{a, seq(3)}, 0) }, "tensor 1 has rank 1, tensor 0 has rank 2")
	requireFails(t, tensor.ErrShape, func() { tensor.Cat([]*tensor.Tensor{tensor.Scalar(1.0), tensor.Scalar(2.0)}, 0) }, "cannot concatenate 0-D tensors; use Stack")
	requireFails(t, tensor.ErrDType, func() { tensor.Cat([]*tensor.Tensor{a, a.As(tensor.Float32)}, 0) }, "tensor: Cat: dtypes float64 and float32 differ")
	requireFails(t, tensor.ErrIndex, func() { tensor.Cat([]*tensor.Tensor{a, a}, 2) }, "dimension 2 is out of range")
}

func TestStack(t *testing.T) {
	a := seq(2, 3)
	b := seq(2, 3).Add(10)
	requireExact(t, []float64{0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15}, []int{2, 2, 3}, tensor.Stack([]*tensor.Tensor{a, b}, 0))
	requireExact(t, []float64{0, 1, 2, 10, 11, 12, 3, 4, 5, 13, 14, 15}, []int{2, 2, 3}, tensor.Stack([]*tensor.Tensor{a, b}, 1))
	requireExact(t, []float64{0, 10, 1, 11, 2, 12, 3, 13, 4, 14, 5, 15}, []int{2, 3, 2}, tensor.Stack([]*tensor.Tensor{a, b}, 2))
	requireExact(t, []float64{0, 10, 1, 11, 2, 12, 3, 13, 4, 14, 5, 15}, []int{2, 3, 2}, tensor.Stack([]*tensor.Tensor{a, b}, -1))
	requireExact(t, []float64{0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15}, []int{2, 2, 3}, tensor.Stack([]*tensor.Tensor{a, b}, -3))
	// Scalars stack into a vector.
	requireExact(t, []float64{1, 2, 3}, []int{3}, tensor.Stack([]*tensor.Tensor{tensor.Scalar(1.0), tensor.Scalar(2.0), tensor.Scalar(3.0)}, 0))
	requireExact(t, []float64{0, 3, 1, 4, 2, 5}, []int{1, 3, 2}, tensor.Stack([]*tensor.Tensor{a.T()}, 0))

	requireFails(t, tensor.ErrArgument, func() { tensor.Stack([]*tensor.Tensor{}, 0) }, "tensor: Stack: needs at least one tensor")
	requireFails(t, tensor.ErrShape, func() { tensor.Stack([]*tensor.Tensor{a, a.T()}, 0) }, "tensor: Stack: tensor 1 has shape [3 2], tensor 0 has [2 3]")
	requireFails(t, tensor.ErrDType, func() { tensor.Stack([]*tensor.Tensor{a, a.As(tensor.Int64)}, 0) }, "tensor: Stack: dtypes float64 and int64 differ")
	requireFails(t, tensor.ErrIndex, func() { tensor.Stack([]*tensor.Tensor{a, b}, 3) }, "tensor: Stack: dimension 3 is out of range for a tensor of rank 3")
}

func TestSplitChunk(t *testing.T) {
	x := seq(7, 2)
	shapes := func(ts []*tensor.Tensor) [][]int {
		out := make([][]int, len(ts))
		for i, p := range ts {
			out[i] = p.Shape()
		}
		return out
	}
	parts := x.Split(3, 0)
	require.Equal(t, [][]int{{3, 2}, {3, 2}, {1, 2}}, shapes(parts))
	require.Equal(t, []float64{12, 13}, values(parts[2]))
	for _, p := range parts {
		require.True(t, p.SharesMemory(x), "Split returns views")
	}
	require.Equal(t, values(x), values(tensor.Cat(parts, 0)))
	require.Equal(t, [][]int{{7, 1}, {7, 1}}, shapes(x.Split(1, 1)))
	require.Equal(t, [][]int{{7, 2}}, shapes(x.Split(10, -2)))
	require.Equal(t, []float64{1, 3, 5, 7, 9, 11, 13}, values(x.Split(1, -1)[1]))

	// torch.chunk: 7 rows in 3 chunks are 3, 3, 1; in 4 chunks 2, 2, 2, 1.
	require.Equal(t, [][]int{{3, 2}, {3, 2}, {1, 2}}, shapes(x.Chunk(3, 0)))
	require.Equal(t, [][]int{{2, 2}, {2, 2}, {2, 2}, {1, 2}}, shapes(x.Chunk(4, 0)))
	require.Equal(t, [][]int{{1, 2}, {1, 2}, {1, 2}, {1, 2}, {1, 2}, {1, 2}, {1, 2}}, shapes(x.Chunk(10, 0)))
	// torch.arange(6).chunk(4) gives 3 chunks of 2.
	require.Equal(t, [][]int{{2}, {2}, {2}}, shapes(seq(6).Chunk(4, 0)))
	require.Equal(t, [][]int{{7, 1}, {7, 1}}, shapes(x.Chunk(2, 1)))

	sp := x.SplitSizes([]int{1, 4, 2}, 0)
	require.Equal(t, [][]int{{1, 2}, {4, 2}, {2, 2}}, shapes(sp))
	require.Equal(t, []float64{10, 11, 12, 13}, values(sp[2]))
	require.Equal(t, [][]int{{7, 0}, {7, 2}}, shapes(x.SplitSizes([]int{0, 2}, 1)))
	require.Equal(t, values(x.T().Contiguous()), values(tensor.Cat(x.T().SplitSizes([]int{3, 4}, 1), 1)))

	requireFails(t, tensor.ErrArgument, func() { x.Split(0, 0) }, "tensor: Split: size must be positive, got 0")
	requireFails(t, tensor.ErrArgument, func() { x.Chunk(0, 0) }, "tensor: Chunk: number of chunks must be positive, got 0")
	requireFails(t, tensor.ErrShape, func() { x.SplitSizes([]int{3, 3}, 0) }, "tensor: SplitSizes: sizes [3 3] add up to 6, dimension 0 has length 7")
	requireFails(t, tensor.ErrArgument, func() { x.SplitSizes([]int{8, -1}, 0) }, "negative size in [8 -1]")
	requireFails(t, tensor.ErrIndex, func() { x.Split(1, 2) }, "tensor: Split: dimension 2 is out of range")
	requireFails(t, tensor.ErrIndex, func() { tensor.Scalar(1.0).Chunk(1, 0) }, "0-dimensional")
}
