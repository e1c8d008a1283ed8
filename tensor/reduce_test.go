package tensor_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/tensor"
)

func refSum(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s
}

func refMean(v []float64) float64 { return refSum(v) / float64(len(v)) }

func refProd(v []float64) float64 {
	p := 1.0
	for _, x := range v {
		p *= x
	}
	return p
}

func refMax(v []float64) float64 {
	m := math.Inf(-1)
	for _, x := range v {
		m = math.Max(m, x)
	}
	return m
}

func refMin(v []float64) float64 {
	m := math.Inf(1)
	for _, x := range v {
		m = math.Min(m, x)
	}
	return m
}

func refArgMax(v []float64) float64 {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return float64(best)
}

func refArgMin(v []float64) float64 {
	best := 0
	for i, x := range v {
		if x < v[best] {
			best = i
		}
	}
	return float64(best)
}

func refLogSumExp(v []float64) float64 {
	m := refMax(v)
	var s float64
	for _, x := range v {
		s += math.Exp(x - m)
	}
	return m + math.Log(s)
}

func refVar(correction int) func([]float64) float64 {
	return func(v []float64) float64 {
		m := refMean(v)
		var s float64
		for _, x := range v {
			s += (x - m) * (x - m)
		}
		return s / float64(len(v)-correction)
	}
}

// normalise turns dims into sorted non-negative dimensions for refReduce.
func normalise(dims []int, rank int) []int {
	out := make([]int, len(dims))
	for i, d := range dims {
		if d < 0 {
			d += rank
		}
		out[i] = d
	}
	return out
}

func TestReductions(t *testing.T) {
	ops := []struct {
		name string
		op   tensor.ReduceOp
		ref  func([]float64) float64
	}{
		{"Sum", device.Sum, refSum},
		{"Mean", device.Mean, refMean},
		{"Prod", device.Prod, refProd},
		{"Max", device.Max, refMax},
		{"Min", device.Min, refMin},
		{"LogSumExp", device.LogSumExp, refLogSumExp},
		{"Var", device.Var, refVar(0)},
	}
	cases := []struct {
		shape []int
		dims  []int
	}{
		{[]int{2, 3, 4}, nil},
		{[]int{2, 3, 4}, []int{0}},
		{[]int{2, 3, 4}, []int{1}},
		{[]int{2, 3, 4}, []int{2}},
		{[]int{2, 3, 4}, []int{-1}},
		{[]int{2, 3, 4}, []int{0, 2}},
		{[]int{2, 3, 4}, []int{-1, 0}},
		{[]int{2, 3, 4}, []int{2, 1, 0}},
		{[]int{5}, []int{0}},
		{[]int{5}, nil},
		{[]int{1, 5, 1}, []int{1}},
		{[]int{3, 1}, []int{1}},
		{[]int{4, 3, 2, 2}, []int{1, 3}},
	}
	for _, op := range ops {
		for _, c := range cases {
			for _, keep := range []bool{false, true} {
				for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
					vals := testValues(numel(c.shape), 5)
					for _, strided := range []bool{false, true} {
						x := makeOperand(vals, c.shape, dt, strided)
						want := refReduce(ref{c.shape, vals}, normalise(c.dims, len(c.shape)), keep, op.ref)
						got := x.Reduce(op.op, keep, c.dims...)
						tol := 1e-5
						if dt == tensor.Float64 {
							tol = 1e-12
						}
						require.Equal(t, dt, got.DType())
						requireClose(t, want.data, want.shape, got, tol, "%s %v dims %v keep %v %v strided %v", op.name, c.shape, c.dims, keep, dt, strided)
					}
				}
			}
		}
	}
}

func TestReductionMethods(t *testing.T) {
	x := seq(2, 3)
	tests := []struct {
		name  string
		got   *tensor.Tensor
		shape []int
		want  []float64
	}{
		{"SumAll", x.Sum(), []int{}, []float64{15}},
		{"Sum0", x.Sum(0), []int{3}, []float64{3, 5, 7}},
		{"Sum1", x.Sum(1), []int{2}, []float64{3, 12}},
		{"SumNeg", x.Sum(-1), []int{2}, []float64{3, 12}},
		{"SumBoth", x.Sum(0, 1), []int{}, []float64{15}},
		{"SumKeepDim", x.SumKeepDim(1), []int{2, 1}, []float64{3, 12}},
		{"SumKeepAll", x.SumKeepDim(), []int{1, 1}, []float64{15}},
		{"MeanAll", x.Mean(), []int{}, []float64{2.5}},
		{"Mean0", x.Mean(0), []int{3}, []float64{1.5, 2.5, 3.5}},
		{"MeanKeepDim", x.MeanKeepDim(0), []int{1, 3}, []float64{1.5, 2.5, 3.5}},
		{"Prod", x.Add(1).Prod(1), []int{2}, []float64{6, 120}},
		{"Max", x.Max(0), []int{3}, []float64{3, 4, 5}},
		{"MaxKeepDim", x.MaxKeepDim(1), []int{2, 1}, []float64{2, 5}},
		{"Min", x.Min(), []int{}, []float64{0}},
		{"MinKeepDim", x.MinKeepDim(-1), []int{2, 1}, []float64{0, 3}},
		{"ArgMax", x.ArgMax(1), []int{2}, []float64{2, 2}},
		{"ArgMin", x.ArgMin(0), []int{3}, []float64{0, 0, 0}},
		{"ArgMaxNeg", x.ArgMax(-2), []int{3}, []float64{1, 1, 1}},
		{"ArgMaxTransposed", x.T().ArgMax(1), []int{3}, []float64{1, 1, 1}},
		{"Scalar", tensor.Scalar(4.0).Sum(), []int{}, []float64{4}},
		{"ScalarDim0", tensor.Scalar(4.0).Sum(0), []int{}, []float64{4}},
		{"ScalarDimNeg", tensor.Scalar(4.0).Max(-1), []int{}, []float64{4}},
		{"ScalarKeepDim", tensor.Scalar(4.0).SumKeepDim(0), []int{}, []float64{4}},
		{"ScalarArgMax", tensor.Scalar(4.0).ArgMax(0), []int{}, []float64{0}},
		{"ScalarMean", tensor.Scalar(4.0).Mean(), []int{}, []float64{4}},
		{"EmptySum", seq(0).Sum(), []int{}, []float64{0}},
		{"EmptyRowsSum", seq(3, 0).Sum(1), []int{3}, []float64{0, 0, 0}},
		{"EmptyProd", seq(3, 0).Prod(1), []int{3}, []float64{1, 1, 1}},
		{"EmptyMean", seq(2, 0).Mean(1), []int{2}, []float64{math.NaN(), math.NaN()}},
		{"EmptyOut", seq(0, 3).Sum(1), []int{0}, []float64{}},
		{"EmptyOutMax", seq(0, 3).Max(1), []int{0}, []float64{}},
		{"EmptyLogSumExp", seq(2, 0).LogSumExp(1), []int{2}, []float64{math.Inf(-1), math.Inf(-1)}},
		{"ExpandedSum", tensor.Scalar(2.0).Expand(3, 4).Sum(1), []int{3}, []float64{8, 8, 8}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { requireClose(t, tc.want, tc.shape, tc.got, 1e-12) })
	}
}

func TestReductionDTypes(t *testing.T) {
	i := tensor.FromSlice([]int64{3, -1, 4, 1, -5, 9}, 2, 3)
	require.Equal(t, tensor.Int64, i.Sum().DType())
	require.Equal(t, []int64{11}, i.Sum().Reshape(1).Int64s())
	require.Equal(t, []int64{6, 5}, i.Sum(1).Int64s())
	require.Equal(t, []int64{-12, -45}, i.Prod(1).Int64s())
	require.Equal(t, tensor.Int64, i.Max(0).DType())
	require.Equal(t, []int64{4, 9}, i.Max(1).Int64s())
	require.Equal(t, []int64{1, -5, 4}, i.Min(0).Int64s())
	require.Equal(t, []int64{2, 2}, i.ArgMax(1).Int64s())
	require.Equal(t, []int64{1, 1}, i.ArgMin(1).Int64s())

	// Counting a mask: Sum of Bool is Int64.
	b := tensor.FromSlice([]bool{true, false, true, true}, 2, 2)
	require.Equal(t, tensor.Int64, b.Sum().DType())
	require.Equal(t, 3.0, b.Sum().Item())
	require.Equal(t, []int64{2, 1}, b.Sum(0).Int64s())

	u := tensor.FromSlice([]uint8{200, 100, 255})
	require.Equal(t, tensor.Int64, u.Sum().DType())
	require.Equal(t, 555.0, u.Sum().Item(), "no uint8 overflow")
	require.Equal(t, tensor.Uint8, u.Max().DType())
	require.Equal(t, 255.0, u.Max().Item())

	require.Equal(t, tensor.Int64, seq(3).ArgMax(0).DType())

	requireFails(t, tensor.ErrDType, func() { i.Mean() }, "tensor: Mean: needs a float32 or float64 tensor, got int64")
	requireFails(t, tensor.ErrDType, func() { i.Var() }, "Var")
	requireFails(t, tensor.ErrDType, func() { i.LogSumExp() }, "LogSumExp")
	requireFails(t, tensor.ErrDType, func() { b.Max() }, "tensor: Max: is not defined for Bool tensors")
	requireFails(t, tensor.ErrDType, func() { b.ArgMax(0) }, "tensor: ArgMax: is not defined for Bool tensors")
}

func TestArgMaxTies(t *testing.T) {
	x := tensor.FromSlice([]float32{1, 3, 3, 3, 0, 3, -1, -1, -1}, 3, 3)
	require.Equal(t, []int64{1, 0, 0}, x.ArgMax(1).Int64s(), "ties give the first index")
	require.Equal(t, []int64{0, 1, 0}, x.ArgMin(1).Int64s())
	require.Equal(t, []int64{1, 0, 0}, x.ArgMax(0).Int64s())
	require.Equal(t, []int64{2, 2, 2}, x.ArgMin(0).Int64s())
	require.Equal(t, []int64{1, 0, 0}, x.T().ArgMax(0).Int64s())
	// All equal.
	require.Equal(t, []int64{0}, tensor.Ones(5).ArgMax(0).Reshape(1).Int64s())
	// NaN is the maximum (and minimum), as in PyTorch.
	n := tensor.FromSlice([]float64{1, math.NaN(), 5})
	require.Equal(t, 1.0, n.ArgMax(0).Item())
	require.Equal(t, 1.0, n.ArgMin(0).Item())
	require.True(t, math.IsNaN(n.Max().Item()))

	// A long row reduced by several goroutines still reports the first of
	// tied maxima, wherever they fall.
	const n2 = 1 << 18
	vals := make([]float32, n2)
	for _, at := range []int{n2 - 7, n2/2 + 3, 100000} {
		vals[at] = 5
	}
	long := tensor.FromSlice(vals)
	require.Equal(t, 100000.0, long.ArgMax(0).Item())
	require.Equal(t, 0.0, long.ArgMin(0).Item())
	require.Equal(t, 15.0, long.Sum().Item())
	require.Equal(t, 5.0, long.Max().Item())
}

func TestLargeReductions(t *testing.T) {
	const n = 1 << 18
	ones := tensor.Ones(n)
	require.Equal(t, float64(n), ones.Sum().Item())
	require.Equal(t, 1.0, ones.Mean().Item())
	// A few long rows and many short ones, contiguous and transposed.
	x := seq(3, n/4)
	want := refReduce(refOf(x), []int{1}, false, refSum)
	requireClose(t, want.data, want.shape, x.Sum(1), 1e-12)
	wantVar := refReduce(refOf(x), []int{1}, false, refVar(1))
	requireClose(t, wantVar.data, wantVar.shape, x.Var(1), 1e-9)
	xt := x.T()
	requireClose(t, want.data, want.shape, xt.Sum(0), 1e-12)
	want = refReduce(refOf(x), []int{0}, false, refMax)
	requireClose(t, want.data, want.shape, xt.Max(1), 0)
}

func TestVarStdMatchTorch(t *testing.T) {
	x := tensor.FromSlice([]float64{1, 2, 3, 4, 2, 4, 8, 16, -1, 0.5, 0.25, 7}, 3, 4)
	// x.var(), x.var(0), x.var(1), x.std(1), x.std(), x.var(1, unbiased=False)
	requireClose(t, []float64{21.652935606060602}, []int{}, x.Var(), 1e-14)
	requireClose(t, []float64{2.333333333333333, 3.083333333333333, 15.4375, 39.0}, []int{4}, x.Var(0), 1e-14)
	requireClose(t, []float64{1.6666666666666667, 38.33333333333333, 12.973958333333334}, []int{3}, x.Var(1), 1e-14)
	requireClose(t, []float64{1.2909944487358056, 6.191391873668903, 3.601938135689359}, []int{3}, x.Std(1), 1e-14)
	requireClose(t, []float64{4.65327149498722}, []int{}, x.Std(), 1e-14)
	requireClose(t, []float64{1.25, 28.749999999999996, 9.73046875}, []int{3}, x.VarCorrected(0, false, 1), 1e-14)
	requireClose(t, []float64{1.6666666666666667, 38.33333333333333, 12.973958333333334}, []int{3, 1}, x.VarCorrected(1, true, -1), 1e-14)
	requireClose(t, []float64{1.6666666666666667, 38.33333333333333, 12.973958333333334}, []int{3}, x.As(tensor.Float32).Var(1), 1e-6)
	requireClose(t, []float64{21.652935606060602}, []int{}, x.T().Var(0, 1), 1e-14)
	// torch.tensor([3.]).var() is nan: one sample has no unbiased variance.
	require.True(t, math.IsNaN(tensor.FromSlice([]float64{3}).Var().Item()))
	require.Equal(t, 0.0, tensor.FromSlice([]float64{3}).VarCorrected(0, false).Item())
	// Var is shift invariant even for large offsets (a stable algorithm).
	big := tensor.FromSlice([]float64{1e9 + 1, 1e9 + 2, 1e9 + 3, 1e9 + 4})
	requireClose(t, []float64{1.6666666666666667}, []int{}, big.Var(), 1e-9)
}

func TestLogSumExpStability(t *testing.T) {
	y := tensor.FromSlice([]float64{1000, 1000, 999, -1000, -1000, -1001}, 2, 3)
	// torch.logsumexp(y, 1), torch.logsumexp(y, 0)
	requireClose(t, []float64{1000.8619948040582, -999.1380051959418}, []int{2}, y.LogSumExp(1), 1e-14)
	requireClose(t, []float64{1000.0, 1000.0, 999.0}, []int{3}, y.LogSumExp(0), 1e-14)
	requireClose(t, []float64{1000.8619948040582, -999.1380051959418}, []int{2}, y.As(tensor.Float32).LogSumExp(-1), 1e-6)
	z := tensor.FromSlice([]float64{1, 2, 3, 4, 6, 8}, 2, 3)
	// torch.logsumexp(z, (0, 1))
	requireClose(t, []float64{8.151672901181795}, []int{}, z.LogSumExp(), 1e-14)
	requireClose(t, []float64{8.151672901181795}, []int{}, z.LogSumExp(1, 0), 1e-14)
	inf := tensor.FromSlice([]float64{math.Inf(-1), math.Inf(-1)})
	require.Equal(t, math.Inf(-1), inf.LogSumExp().Item())
	require.Equal(t, math.Inf(1), tensor.FromSlice([]float64{1, math.Inf(1)}).LogSumExp().Item())
}

func TestSoftmax(t *testing.T) {
	y := tensor.FromSlice([]float64{1000, 1000, 999, -1000, -1000, -1001}, 2, 3)
	z := tensor.FromSlice([]float64{1, 2, 3, 4, 6, 8}, 2, 3)
	// torch.softmax(z, 0), torch.log_softmax(z, 0): a non-last dimension
	sm0 := []float64{0.04742587317756679, 0.017986209962091555, 0.006692850924284856, 0.9525741268224334, 0.9820137900379085, 0.9933071490757153}
	lsm0 := []float64{-3.048587351573742, -4.0181499279178094, -5.006715348489118, -0.048587351573741965, -0.01814992791780978, -0.006715348489117967}
	// torch.softmax(y, 1), torch.log_softmax(y, 1)
	sm := []float64{0.4223187982515182, 0.4223187982515182, 0.15536240349696362, 0.4223187982515182, 0.4223187982515182, 0.15536240349696362}
	lsm := []float64{-0.8619948040582511, -0.8619948040582511, -1.8619948040582512, -0.8619948040582511, -0.8619948040582511, -1.8619948040582512}
	requireClose(t, sm, []int{2, 3}, y.Softmax(1), 1e-14)
	requireClose(t, sm, []int{2, 3}, y.Softmax(-1), 1e-14)
	// See TestLogSoftmaxPrecision for the tolerance.
	requireClose(t, lsm, []int{2, 3}, y.LogSoftmax(1), 1e-12)
	requireClose(t, sm, []int{2, 3}, y.As(tensor.Float32).Softmax(1), 1e-6)
	// See TestLogSoftmaxPrecision for the tolerance.
	requireClose(t, lsm, []int{2, 3}, y.As(tensor.Float32).LogSoftmax(1), 1e-4)
	requireClose(t, lsm0, []int{2, 3}, z.As(tensor.Float32).LogSoftmax(0), 1e-6)

	requireClose(t, sm0, []int{2, 3}, z.Softmax(0), 1e-14)
	requireClose(t, lsm0, []int{2, 3}, z.LogSoftmax(0), 1e-14)
	requireClose(t, lsm0, []int{2, 3}, z.LogSoftmax(-2), 1e-14)
	// A transposed input: softmax over dim 1 of z.T() is softmax over dim 0 of z.
	requireClose(t, values(z.Softmax(0).T().Contiguous()), []int{3, 2}, z.T().Softmax(1), 1e-15)

	// Rows sum to one for a 3-D tensor along the middle dimension.
	r := seq(2, 5, 3).Mul(0.37).Sin().Mul(50)
	s := r.Softmax(1)
	requireClose(t, []float64{1, 1, 1, 1, 1, 1}, []int{2, 3}, s.Sum(1), 1e-14)
	requireClose(t, values(s.Log()), []int{2, 5, 3}, r.LogSoftmax(1), 1e-12)

	// 0-d: softmax of a scalar is 1.
	require.Equal(t, 1.0, tensor.Scalar(5.0).Softmax(0).Item())
	require.Equal(t, 0.0, tensor.Scalar(5.0).LogSoftmax(-1).Item())
	require.Equal(t, []int{2, 0}, seq(2, 0).Softmax(1).Shape())

	requireFails(t, tensor.ErrDType, func() { tensor.FromSlice([]int64{1, 2}).Softmax(0) }, "tensor: Softmax: needs a float32 or float64 tensor, got int64")
	requireFails(t, tensor.ErrIndex, func() { z.Softmax(2) }, "tensor: Softmax: dimension 2 is out of range")
	requireFails(t, tensor.ErrIndex, func() { tensor.Scalar(1.0).LogSoftmax(1) }, "LogSoftmax")
}

func TestReductionErrors(t *testing.T) {
	x := seq(2, 3)
	requireFails(t, tensor.ErrArgument, func() { x.Sum(1, -1) }, "tensor: Sum: dimension 1 appears twice in [1 -1]")
	requireFails(t, tensor.ErrIndex, func() { x.Sum(2) }, "tensor: Sum: dimension 2 is out of range for a tensor of rank 2 (valid: -2 to 1)")
	requireFails(t, tensor.ErrIndex, func() { x.ArgMax(-3) }, "tensor: ArgMax: dimension -3 is out of range")
	requireFails(t, tensor.ErrIndex, func() { tensor.Scalar(1.0).Sum(1) }, "tensor: Sum: dimension 1 is out of range for a 0-dimensional tensor (valid: -1 to 0)")
	requireFails(t, tensor.ErrShape, func() { seq(2, 0).Max(1) }, "tensor: Max: cannot reduce over the empty dimension 1 of shape [2 0]")
	requireFails(t, tensor.ErrShape, func() { seq(0).ArgMin(0) }, "ArgMin: cannot reduce over the empty dimension")
	requireFails(t, tensor.ErrShape, func() { seq(0).Min() }, "Min")
}

func TestLogSoftmaxPrecision(t *testing.T) {
	y := tensor.FromSlice([]float64{1000, 1000, 999})
	// torch.log_softmax(torch.tensor([1000., 1000., 999.], dtype=torch.float64), 0)
	want := []float64{-0.8619948040582511, -0.8619948040582511, -1.8619948040582512}
	requireClose(t, want, []int{3}, y.LogSoftmax(0), 1e-15)
	requireClose(t, want, []int{3}, y.As(tensor.Float32).LogSoftmax(0), 2e-7)
}
