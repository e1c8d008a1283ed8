package tensor_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/tensor"
)

// The expected strings are repr(x) printed by PyTorch 1.13 for the torch
// expression in each comment, with "torch." removed from the dtype suffix
// (nabla prints dtype=float64 where PyTorch prints dtype=torch.float64).
func TestStringMatchesTorch(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	tests := []struct {
		name string
		x    *tensor.Tensor
		want string
	}{
		// torch.tensor([1., 2.])
		{"Integral", tensor.FromSlice([]float32{1, 2}), "tensor([1., 2.])"},
		// torch.tensor([0.5, 1.25, 3.14159])
		{"Decimals", tensor.FromSlice([]float32{0.5, 1.25, 3.14159}), "tensor([0.5000, 1.2500, 3.1416])"},
		// torch.tensor([-1.5, 2.25, -30.125])
		{"NegativeAligned", tensor.FromSlice([]float32{-1.5, 2.25, -30.125}), "tensor([ -1.5000,   2.2500, -30.1250])"},
		// torch.tensor([[1.5, -2.0], [3.25, 4.0]])
		{"Matrix", tensor.FromSlice([]float32{1.5, -2, 3.25, 4}, 2, 2), "tensor([[ 1.5000, -2.0000],\n        [ 3.2500,  4.0000]])"},
		// torch.tensor([[1., -2.], [300., 4.]])
		{"MatrixIntegral", tensor.FromSlice([]float32{1, -2, 300, 4}, 2, 2), "tensor([[  1.,  -2.],\n        [300.,   4.]])"},
		// torch.tensor([1e-5, 1.0])
		{"SciSmall", tensor.FromSlice([]float32{1e-5, 1}), "tensor([1.0000e-05, 1.0000e+00])"},
		// torch.tensor([1e9, 1.0])
		{"SciLarge", tensor.FromSlice([]float32{1e9, 1}), "tensor([1.0000e+09, 1.0000e+00])"},
		// torch.tensor([0.001, 2.5])
		{"SciRatio", tensor.FromSlice([]float32{0.001, 2.5}), "tensor([1.0000e-03, 2.5000e+00])"},
		// torch.tensor([1., 2000.])
		{"SciIntegralRatio", tensor.FromSlice([]float32{1, 2000}), "tensor([1.0000e+00, 2.0000e+03])"},
		// torch.tensor([1.0e8, 2.0]), torch.tensor([123456789., 1.])
		{"SciIntegralLarge", tensor.FromSlice([]float32{1e8, 2}), "tensor([1.0000e+08, 2.0000e+00])"},
		{"SciRounded", tensor.FromSlice([]float32{123456789, 1}), "tensor([1.2346e+08, 1.0000e+00])"},
		// torch.tensor([0.0001, 1.]), torch.tensor([0.00009, 1.])
		{"SciBoundary", tensor.FromSlice([]float32{0.0001, 1}), "tensor([1.0000e-04, 1.0000e+00])"},
		{"SciBelowBoundary", tensor.FromSlice([]float32{0.00009, 1}), "tensor([9.0000e-05, 1.0000e+00])"},
		// torch.tensor([-1.2345e-7, 3.0])
		{"SciNegative", tensor.FromSlice([]float32{-1.2345e-7, 3}), "tensor([-1.2345e-07,  3.0000e+00])"},
		// torch.tensor([1., 2.5], dtype=torch.float64)
		{"Float64", tensor.FromSlice([]float64{1, 2.5}), "tensor([1.0000, 2.5000], dtype=float64)"},
		// torch.tensor([[1e-5, 2.],[3., 4.]], dtype=torch.float64)
		{"Float64Sci", tensor.FromSlice([]float64{1e-5, 2, 3, 4}, 2, 2), "tensor([[1.0000e-05, 2.0000e+00],\n        [3.0000e+00, 4.0000e+00]], dtype=float64)"},
		// torch.tensor([True, False, True])
		{"Bool", tensor.FromSlice([]bool{true, false, true}), "tensor([ True, False,  True])"},
		// torch.tensor([[True, False], [False, True]])
		{"Bool2D", tensor.FromSlice([]bool{true, false, false, true}, 2, 2), "tensor([[ True, False],\n        [False,  True]])"},
		// torch.tensor([1, -20, 300])
		{"Int64", tensor.FromSlice([]int64{1, -20, 300}), "tensor([  1, -20, 300])"},
		// torch.tensor([9007199254740993, -1]): exact beyond 2^53
		{"Int64Big", tensor.FromSlice([]int64{9007199254740993, -1}), "tensor([9007199254740993,               -1])"},
		// torch.tensor([1, 20, 255], dtype=torch.uint8)
		{"Uint8", tensor.FromSlice([]uint8{1, 20, 255}), "tensor([  1,  20, 255], dtype=uint8)"},
		// torch.arange(6, dtype=torch.uint8).reshape(2, 3)
		{"Uint8Matrix", tensor.FromSlice([]uint8{0, 1, 2, 3, 4, 5}, 2, 3), "tensor([[0, 1, 2],\n        [3, 4, 5]], dtype=uint8)"},
		// torch.tensor(3.5), torch.tensor(7), torch.tensor(-2.)
		{"Scalar", tensor.Scalar(float32(3.5)), "tensor(3.5000)"},
		{"ScalarInt", tensor.Scalar(int64(7)), "tensor(7)"},
		{"ScalarIntegral", tensor.Scalar(float32(-2)), "tensor(-2.)"},
		{"ScalarFloat64", tensor.Scalar(0.25), "tensor(0.2500, dtype=float64)"},
		{"ScalarBool", tensor.Scalar(false), "tensor(False)"},
		// torch.zeros(0), torch.zeros(2, 0)
		{"Empty", tensor.Zeros(0), "tensor([])"},
		{"Empty2D", tensor.Zeros(2, 0), "tensor([], size=(2, 0))"},
		// torch.zeros(0, dtype=torch.int64), torch.zeros(0, 2, 3, dtype=torch.float64)
		{"EmptyInt64", tensor.Of(tensor.Int64).Zeros(0), "tensor([], dtype=int64)"},
		{"EmptyFloat64", tensor.Of(tensor.Float64).Zeros(0, 2, 3), "tensor([], size=(0, 2, 3), dtype=float64)"},
		// torch.zeros(2, 0, 3, dtype=torch.bool)
		{"EmptyBool", tensor.Of(tensor.Bool).Zeros(2, 0, 3), "tensor([], size=(2, 0, 3), dtype=bool)"},
		// torch.tensor([float('nan'), 1., float('inf'), -float('inf')])
		{"NonFinite", tensor.FromSlice([]float32{nan, 1, inf, -inf}), "tensor([nan, 1., inf, -inf])"},
		// torch.tensor([float('nan'), 0.5])
		{"NaNDecimal", tensor.FromSlice([]float32{nan, 0.5}), "tensor([   nan, 0.5000])"},
		// torch.tensor([float('nan')]), torch.zeros(3)
		{"AllNaN", tensor.FromSlice([]float32{nan}), "tensor([nan])"},
		{"Zeros", tensor.Zeros(3), "tensor([0., 0., 0.])"},
		// torch.tensor([-0.0, 1.5])
		{"NegativeZero", tensor.FromSlice([]float32{float32(math.Copysign(0, -1)), 1.5}), "tensor([-0.0000, 1.5000])"},
		// torch.ones(1, 1, 1)
		{"Nested1", tensor.Ones(1, 1, 1), "tensor([[[1.]]])"},
		// torch.arange(12.).reshape(2, 2, 3)
		{"ThreeD", tensor.Arange(0, 12, 1).Reshape(2, 2, 3), "tensor([[[ 0.,  1.,  2.],\n         [ 3.,  4.,  5.]],\n\n        [[ 6.,  7.,  8.],\n         [ 9., 10., 11.]]])"},
		// torch.arange(20.): wraps at 80 columns
		{"Wrap", tensor.Arange(0, 20, 1), "tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n        14., 15., 16., 17., 18., 19.])"},
		// torch.arange(30.) / 7
		{"WrapDecimals", tensor.Arange(0, 30, 1).Div(7), "tensor([0.0000, 0.1429, 0.2857, 0.4286, 0.5714, 0.7143, 0.8571, 1.0000, 1.1429,\n        1.2857, 1.4286, 1.5714, 1.7143, 1.8571, 2.0000, 2.1429, 2.2857, 2.4286,\n        2.5714, 2.7143, 2.8571, 3.0000, 3.1429, 3.2857, 3.4286, 3.5714, 3.7143,\n        3.8571, 4.0000, 4.1429])"},
		// torch.arange(25, dtype=torch.float64) * 1.5
		{"WrapFloat64", tensor.Of(tensor.Float64).Arange(0, 25, 1).Mul(1.5), "tensor([ 0.0000,  1.5000,  3.0000,  4.5000,  6.0000,  7.5000,  9.0000, 10.5000,\n        12.0000, 13.5000, 15.0000, 16.5000, 18.0000, 19.5000, 21.0000, 22.5000,\n        24.0000, 25.5000, 27.0000, 28.5000, 30.0000, 31.5000, 33.0000, 34.5000,\n        36.0000], dtype=float64)"},
		// torch.arange(6, dtype=torch.float64) * 1111.25: the suffix wraps
		{"SuffixWraps", tensor.Of(tensor.Float64).Arange(0, 6, 1).Mul(1111.25), "tensor([   0.0000, 1111.2500, 2222.5000, 3333.7500, 4445.0000, 5556.2500],\n       dtype=float64)"},
		// torch.arange(5, dtype=torch.float64) * 1111.25 prints
		// "tensor([...],\n       dtype=torch.float64)": PyTorch's longer
		// suffix passes column 80, nabla's "dtype=float64" does not.
		{"SuffixFits", tensor.Of(tensor.Float64).Arange(0, 5, 1).Mul(1111.25), "tensor([   0.0000, 1111.2500, 2222.5000, 3333.7500, 4445.0000], dtype=float64)"},
		// torch.arange(24, dtype=torch.float64).reshape(2, 12) * 1.25
		{"WrapRows", tensor.Of(tensor.Float64).Arange(0, 24, 1).Reshape(2, 12).Mul(1.25), "tensor([[ 0.0000,  1.2500,  2.5000,  3.7500,  5.0000,  6.2500,  7.5000,  8.7500,\n         10.0000, 11.2500, 12.5000, 13.7500],\n        [15.0000, 16.2500, 17.5000, 18.7500, 20.0000, 21.2500, 22.5000, 23.7500,\n         25.0000, 26.2500, 27.5000, 28.7500]], dtype=float64)"},
		// torch.arange(2000.): summarised
		{"Summarised", tensor.Arange(0, 2000, 1), "tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n        1.9990e+03])"},
		// torch.arange(2000)
		{"SummarisedInt64", tensor.Of(tensor.Int64).Arange(0, 2000, 1), "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])"},
		// torch.arange(2000.).reshape(40, 50)
		{"Summarised2D", tensor.Arange(0, 2000, 1).Reshape(40, 50), "tensor([[0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 4.7000e+01, 4.8000e+01,\n         4.9000e+01],\n        [5.0000e+01, 5.1000e+01, 5.2000e+01,  ..., 9.7000e+01, 9.8000e+01,\n         9.9000e+01],\n        [1.0000e+02, 1.0100e+02, 1.0200e+02,  ..., 1.4700e+02, 1.4800e+02,\n         1.4900e+02],\n        ...,\n        [1.8500e+03, 1.8510e+03, 1.8520e+03,  ..., 1.8970e+03, 1.8980e+03,\n         1.8990e+03],\n        [1.9000e+03, 1.9010e+03, 1.9020e+03,  ..., 1.9470e+03, 1.9480e+03,\n         1.9490e+03],\n        [1.9500e+03, 1.9510e+03, 1.9520e+03,  ..., 1.9970e+03, 1.9980e+03,\n         1.9990e+03]])"},
		// The same values, transposed and not contiguous.
		{"NonContiguous", tensor.FromSlice([]float32{1.5, 3.25, -2, 4}, 2, 2).T(), "tensor([[ 1.5000, -2.0000],\n        [ 3.2500,  4.0000]])"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, tc.x.String())
		})
	}
}

func TestStringSummarised3D(t *testing.T) {
	// repr(torch.arange(2400.).reshape(8, 10, 30)): check the structure of
	// the first block and the elided middle, which PyTorch separates by
	// blank lines.
	s := tensor.Arange(0, 2400, 1).Reshape(8, 10, 30).String()
	head := "tensor([[[0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 2.7000e+01,\n          2.8000e+01, 2.9000e+01],\n         [3.0000e+01, 3.1000e+01, 3.2000e+01,  ..., 5.7000e+01,\n          5.8000e+01, 5.9000e+01],\n         [6.0000e+01, 6.1000e+01, 6.2000e+01,  ..., 8.7000e+01,\n          8.8000e+01, 8.9000e+01],\n         ...,\n         [2.1000e+02, 2.1100e+02, 2.1200e+02,  ..., 2.3700e+02,\n          2.3800e+02, 2.3900e+02],"
	require.True(t, len(s) > len(head))
	require.Equal(t, head, s[:len(head)])
	require.Contains(t, s, "8.9900e+02]],\n\n        ...,\n\n        [[1.5000e+03, 1.5010e+03, 1.5020e+03,  ..., 1.5270e+03,\n")
	require.Len(t, s, 3673, "len(repr(torch.arange(2400.).reshape(8, 10, 30)))")
	tail := "         [2.3700e+03, 2.3710e+03, 2.3720e+03,  ..., 2.3970e+03,\n          2.3980e+03, 2.3990e+03]]])"
	require.Equal(t, tail, s[len(s)-len(tail):])
	// Exactly 1000 elements are not summarised.
	require.NotContains(t, tensor.Zeros(1000).String(), "...")
	require.Contains(t, tensor.Zeros(1001).String(), "...")
}

func TestStringFormatting(t *testing.T) {
	x := tensor.FromSlice([]float32{1, 2})
	require.Equal(t, "tensor([1., 2.])", fmt.Sprint(x))
	require.Equal(t, "tensor([1., 2.])", fmt.Sprintf("%v", x))
	require.Equal(t, "[tensor([1., 2.]) tensor(3)]", fmt.Sprint([]*tensor.Tensor{x, tensor.Scalar(int64(3))}))
}
