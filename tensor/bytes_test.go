package tensor_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/tensor"
)

func TestBytesRoundTrip(t *testing.T) {
	cases := []*tensor.Tensor{
		tensor.FromSlice([]float32{1.5, -2, 3e-8, 4, 5, 6}, 2, 3).T(), // non-contiguous
		tensor.FromSlice([]float64{1, -0.25}),
		tensor.FromSlice([]int64{-1, 1 << 60}),
		tensor.FromSlice([]bool{true, false, true}),
		tensor.FromSlice([]uint8{0, 255}),
		tensor.Scalar(float32(7)),
		tensor.Zeros(0, 3),
	}
	for _, x := range cases {
		b := x.Bytes()
		require.Len(t, b, x.Numel()*x.DType().Size())
		y, err := tensor.FromBytes(x.DType(), x.Shape(), b)
		require.NoError(t, err)
		require.Equal(t, x.Shape(), y.Shape())
		require.Equal(t, x.Contiguous().Bytes(), y.Bytes())
	}
	require.Equal(t, []byte{0, 0, 0xc0, 0x3f}, tensor.Scalar(float32(1.5)).Bytes()) // little-endian
}

func TestFromBytesErrors(t *testing.T) {
	_, err := tensor.FromBytes(tensor.Float32, []int{2, 2}, make([]byte, 15))
	require.ErrorContains(t, err, "shape [2 2] of float32 needs 16 bytes, got 15")
	_, err = tensor.FromBytes(tensor.Float32, []int{-1}, nil)
	require.ErrorIs(t, err, tensor.ErrShape)
	require.ErrorContains(t, err, "negative dimension in shape [-1]")
	_, err = tensor.FromBytes(tensor.Float32, []int{1 << 40, 1 << 40}, nil)
	require.ErrorIs(t, err, tensor.ErrShape)
	require.ErrorContains(t, err, "overflows int")
	_, err = tensor.FromBytes(tensor.Float32, []int{1 << 40}, nil)
	require.ErrorContains(t, err, "needs 4398046511104 bytes, got 0")
	_, err = tensor.FromBytes(tensor.DType(42), nil, nil)
	require.ErrorContains(t, err, "unknown dtype")
}
