package tensor_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/tensor"
)

func TestIndexSelect(t *testing.T) {
	x := seq(3, 4)
	idx := tensor.FromSlice([]int64{2, 0, 2})
	tests := []struct {
		name  string
		got   *tensor.Tensor
		shape []int
		want  []float64
	}{
		{"Rows", x.IndexSelect(0, idx), []int{3, 4}, []float64{8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11}},
		{"Cols", x.IndexSelect(1, idx), []int{3, 3}, []float64{2, 0, 2, 6, 4, 6, 10, 8, 10}},
		{"NegDim", x.IndexSelect(-1, idx), []int{3, 3}, []float64{2, 0, 2, 6, 4, 6, 10, 8, 10}},
		{"Transposed", x.T().IndexSelect(0, tensor.FromSlice([]int64{3, 1})), []int{2, 3}, []float64{3, 7, 11, 1, 5, 9}},
		{"Empty", x.IndexSelect(0, tensor.FromSlice([]int64{})), []int{0, 4}, []float64{}},
		{"ScalarIndex", x.IndexSelect(0, tensor.Scalar(int64(1))), []int{1, 4}, []float64{4, 5, 6, 7}},
		{"StridedIndex", x.IndexSelect(1, tensor.FromSlice([]int64{3, 9, 0, 9, 1, 9}).Slice(0, 0, 6, 2)), []int{3, 3}, []float64{3, 0, 1, 7, 4, 5, 11, 8, 9}},
		{"1D", seq(5).IndexSelect(0, tensor.FromSlice([]int64{4, 4, 0})), []int{3}, []float64{4, 4, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { requireExact(t, tc.want, tc.shape, tc.got) })
	}
	// Other dtypes.
	require.Equal(t, []bool{true, true}, tensor.FromSlice([]bool{false, true}).IndexSelect(0, tensor.FromSlice([]int64{1, 1})).Bools())
	require.Equal(t, []int64{30, 10}, tensor.FromSlice([]int64{10, 20, 30}).IndexSelect(0, tensor.FromSlice([]int64{2, 0})).Int64s())

	requireFails(t, tensor.ErrBackend, func() { x.IndexSelect(0, tensor.FromSlice([]int64{3})) }, "tensor: IndexSelect: ", "index 3 is out of range for dimension 0 of size 3")
	requireFails(t, tensor.ErrBackend, func() { x.IndexSelect(1, tensor.FromSlice([]int64{-1})) }, "index -1 is out of range")
	requireFails(t, tensor.ErrDType, func() { x.IndexSelect(0, tensor.FromSlice([]float32{0})) }, "tensor: IndexSelect: indices must be Int64, got float32; convert with .As(tensor.Int64)")
	requireFails(t, tensor.ErrShape, func() { x.IndexSelect(0, tensor.FromSlice([]int64{0, 1}, 1, 2)) }, "needs a 0-D or 1-D index, got shape [1 2]")
	requireFails(t, tensor.ErrShape, func() { tensor.Scalar(1.0).IndexSelect(0, idx) }, "cannot index a 0-D tensor")
	requireFails(t, tensor.ErrIndex, func() { x.IndexSelect(2, idx) }, "dimension 2 is out of range")
}

// refGather computes torch.gather from the definition.
func refGather(src ref, dim int, idxShape []int, idx []int64) []float64 {
	out := make([]float64, len(idx))
	for k := range out {
		pos := unflatten(idxShape, k)
		pos[dim] = int(idx[k])
		out[k] = src.data[flatIndex(src.shape, pos)]
	}
	return out
}

func TestGather(t *testing.T) {
	x := seq(3, 4)
	// torch.gather(x, 1, [[0, 0], [3, 1], [2, 2]])
	idx := tensor.FromSlice([]int64{0, 0, 3, 1, 2, 2}, 3, 2)
	requireExact(t, []float64{0, 0, 7, 5, 10, 10}, []int{3, 2}, x.Gather(1, idx))
	requireExact(t, []float64{0, 0, 7, 5, 10, 10}, []int{3, 2}, x.Gather(-1, idx))
	// torch.gather(x, 0, [[2, 0, 1, 1]])
	requireExact(t, []float64{8, 1, 6, 7}, []int{1, 4}, x.Gather(0, tensor.FromSlice([]int64{2, 0, 1, 1}, 1, 4)))
	// An index smaller than the source in the other dimension.
	requireExact(t, []float64{1, 4}, []int{2, 1}, x.Gather(1, tensor.FromSlice([]int64{1, 0}, 2, 1)))

	// 3-D, transposed source, against the reference.
	src := seq(4, 3, 5).Permute(1, 0, 2) // [3 4 5]
	iv := make([]int64, 3*6*5)
	for k := range iv {
		iv[k] = int64((k * 7) % 4)
	}
	gi := tensor.FromSlice(iv, 3, 6, 5)
	requireExact(t, refGather(refOf(src.Contiguous()), 1, []int{3, 6, 5}, iv), []int{3, 6, 5}, src.Gather(1, gi))

	requireFails(t, tensor.ErrBackend, func() { x.Gather(1, tensor.FromSlice([]int64{4}, 1, 1)) }, "tensor: Gather: ", "index 4 is out of range for dimension 1 of size 4")
	requireFails(t, tensor.ErrShape, func() { x.Gather(1, tensor.FromSlice([]int64{0})) }, "tensor: Gather: index of shape [1] must have the rank of the tensor's shape [3 4]")
	requireFails(t, tensor.ErrShape, func() { x.Gather(1, tensor.FromSlice([]int64{0, 0, 0, 0}, 4, 1)) }, "index shape [4 1] exceeds tensor shape [3 4] in dimension 0")
	requireFails(t, tensor.ErrDType, func() { x.Gather(1, idx.As(tensor.Float32)) }, "indices must be Int64")
}

func TestScatterAdd(t *testing.T) {
	x := tensor.Of(tensor.Float64).Zeros(2, 4)
	idx := tensor.FromSlice([]int64{0, 1, 1, 3, 2, 2}, 2, 3)
	src := tensor.FromSlice([]float64{1, 2, 3, 4, 5, 6}, 2, 3)
	// torch.zeros(2, 4).scatter_add(1, idx, src): duplicates accumulate.
	got := x.ScatterAdd(1, idx, src)
	requireExact(t, []float64{1, 5, 0, 0, 0, 0, 11, 4}, []int{2, 4}, got)
	requireExact(t, []float64{0, 0, 0, 0, 0, 0, 0, 0}, []int{2, 4}, x, "the input is not modified")
	// Along dim 0 into a base with values.
	base := seq(3, 2)
	got = base.ScatterAdd(0, tensor.FromSlice([]int64{2, 0, 2, 2}, 2, 2), tensor.FromSlice([]float64{10, 20, 30, 40}, 2, 2))
	requireExact(t, []float64{0, 21, 2, 3, 44, 45}, []int{3, 2}, got)
	// Int64.
	ig := tensor.Of(tensor.Int64).Zeros(3).ScatterAdd(0, tensor.FromSlice([]int64{1, 1, 2}), tensor.FromSlice([]int64{5, 6, 7}))
	require.Equal(t, []int64{0, 11, 7}, ig.Int64s())
	// Non-contiguous base: the result has the base's values plus the additions.
	bt := seq(2, 3).T() // [3 2]
	got = bt.ScatterAdd(1, tensor.FromSlice([]int64{1, 0, 1}, 3, 1), tensor.FromSlice([]float64{100, 200, 300}, 3, 1))
	requireExact(t, []float64{0, 103, 201, 4, 2, 305}, []int{3, 2}, got)

	requireFails(t, tensor.ErrBackend, func() { x.ScatterAdd(1, tensor.FromSlice([]int64{4}, 1, 1), tensor.FromSlice([]float64{1}, 1, 1)) }, "tensor: ScatterAdd: ", "index 4 is out of range")
	requireFails(t, tensor.ErrShape, func() { x.ScatterAdd(1, idx, src.Narrow(1, 0, 2)) }, "tensor: ScatterAdd: index shape [2 3] and source shape [2 2] differ")
	requireFails(t, tensor.ErrDType, func() { x.ScatterAdd(1, idx, src.As(tensor.Float32)) }, "dtypes float64 and float32 differ")
	requireFails(t, tensor.ErrShape, func() {
		x.ScatterAdd(1, tensor.FromSlice([]int64{0, 0, 0}, 3, 1), tensor.FromSlice([]float64{1, 1, 1}, 3, 1))
	}, "exceeds tensor shape")
}

func TestIndexAdd(t *testing.T) {
	x := seq(3, 2)
	// torch.arange(6.).reshape(3, 2).index_add(0, [2, 0, 2], src)
	src := tensor.FromSlice([]float64{1, 1, 10, 10, 100, 100}, 3, 2)
	got := x.IndexAdd(0, tensor.FromSlice([]int64{2, 0, 2}), src)
	requireExact(t, []float64{10, 11, 2, 3, 105, 106}, []int{3, 2}, got)
	requireExact(t, []float64{0, 1, 2, 3, 4, 5}, []int{3, 2}, x)
	got = x.IndexAdd(1, tensor.FromSlice([]int64{1}), tensor.FromSlice([]float64{7, 8, 9}, 3, 1))
	requireExact(t, []float64{0, 8, 2, 11, 4, 14}, []int{3, 2}, got)

	// IndexAdd is the adjoint of IndexSelect: <IndexSelect(x), y> == <x, IndexAdd(0, y)>.
	a := seq(4, 3).Sin()
	idx := tensor.FromSlice([]int64{3, 1, 3, 0, 2})
	y := seq(5, 3).Cos()
	lhs := a.IndexSelect(0, idx).Mul(y).Sum().Item()
	rhs := a.Mul(tensor.ZerosLike(a).IndexAdd(0, idx, y)).Sum().Item()
	require.InDelta(t, lhs, rhs, 1e-12)

	requireFails(t, tensor.ErrShape, func() { x.IndexAdd(0, tensor.FromSlice([]int64{0}), src) }, "tensor: IndexAdd: source shape [3 2] should be [1 2]")
	requireFails(t, tensor.ErrBackend, func() { x.IndexAdd(0, tensor.FromSlice([]int64{0, 5, 1}), src) }, "index 5 is out of range")
	requireFails(t, tensor.ErrDType, func() { x.IndexAdd(0, tensor.FromSlice([]float32{0, 1, 2}), src) }, "indices must be Int64")
}

func TestWhere(t *testing.T) {
	cond := tensor.FromSlice([]bool{true, false, false, true}, 2, 2)
	a := seq(2, 2)
	b := seq(2, 2).Neg()
	requireExact(t, []float64{0, -1, -2, 3}, []int{2, 2}, tensor.Where(cond, a, b))
	// Broadcasting all three.
	row := tensor.FromSlice([]bool{true, false, true})
	requireExact(t, []float64{0, -1, 2, 3, -1, 5}, []int{2, 3}, tensor.Where(row, seq(2, 3), -1.0))
	requireExact(t, []float64{9, 0, 9, 9, 0, 9}, []int{2, 3}, tensor.Where(row, 9, tensor.Of(tensor.Float64).Zeros(2, 1)))
	requireExact(t, []float64{1, 2, 1}, []int{3}, tensor.Where(row, tensor.Scalar(1.0), tensor.Scalar(2.0)))
	// Non-contiguous operands.
	requireExact(t, []float64{0, -2, -1, 3}, []int{2, 2}, tensor.Where(cond, a.T(), b.T()))
	// Integer and Bool values.
	require.Equal(t, []int64{1, 0, 0, 1}, tensor.Where(cond, tensor.Of(tensor.Int64).Ones(2, 2), 0).Int64s())
	require.Equal(t, []bool{true, true, false, true}, tensor.Where(cond, true, tensor.FromSlice([]bool{false, true, false, false}, 2, 2)).Bools())
	// Empty.
	require.Equal(t, []int{0, 2}, tensor.Where(tensor.FromSlice([]bool{}, 0, 1), seq(0, 2), 1).Shape())

	requireFails(t, tensor.ErrDType, func() { tensor.Where(a, a, b) }, "tensor: Where: condition must be Bool, got float64; build it with a comparison such as x.Gt(0)")
	requireFails(t, tensor.ErrArgument, func() { tensor.Where(cond, 1, 2) }, "tensor: Where: needs at least one tensor among a and b")
	requireFails(t, tensor.ErrDType, func() { tensor.Where(cond, a, tensor.Zeros(2, 2)) }, "dtypes float64 and float32 differ")
	requireFails(t, tensor.ErrShape, func() { tensor.Where(cond, seq(3), 0) }, "tensor: Where: shapes [2 2] and [3] and [] do not broadcast")
	requireFails(t, tensor.ErrDType, func() { tensor.Where(cond, tensor.Of(tensor.Int64).Ones(2, 2), 0.5) }, "cannot be represented as int64")
}

func TestMaskedFill(t *testing.T) {
	x := seq(2, 3)
	mask := x.Gt(2.5)
	requireExact(t, []float64{0, 1, 2, -1, -1, -1}, []int{2, 3}, x.MaskedFill(mask, -1))
	// A broadcast mask.
	col := tensor.FromSlice([]bool{false, true, false})
	requireExact(t, []float64{0, 7, 2, 3, 7, 5}, []int{2, 3}, x.MaskedFill(col, 7))
	requireExact(t, []float64{0, 7, 1, 7, 2, 7}, []int{3, 2}, x.T().MaskedFill(tensor.FromSlice([]bool{false, true}), 7))
	require.Equal(t, []int64{0, 5, 0}, tensor.Of(tensor.Int64).Zeros(3).MaskedFill(col, 5).Int64s())

	requireFails(t, tensor.ErrShape, func() { x.Narrow(0, 0, 1).MaskedFill(mask, 0) }, "tensor: MaskedFill: mask shape [2 3] does not broadcast to the tensor's shape [1 3]")
	requireFails(t, tensor.ErrShape, func() { x.MaskedFill(tensor.FromSlice([]bool{true, false}), 0) }, "MaskedFill")
	requireFails(t, tensor.ErrDType, func() { x.MaskedFill(x, 0) }, "tensor: MaskedFill: mask must be Bool, got float64")
}
