package tensor_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/tensor"
)

func TestConstructors(t *testing.T) {
	tests := []struct {
		name  string
		make  func() *tensor.Tensor
		dtype tensor.DType
		shape []int
		want  []float64 // nil: contents unspecified
	}{
		{"Zeros", func() *tensor.Tensor { return tensor.Zeros(2, 3) }, tensor.Float32, []int{2, 3}, []float64{0, 0, 0, 0, 0, 0}},
		{"Ones", func() *tensor.Tensor { return tensor.Ones(3) }, tensor.Float32, []int{3}, []float64{1, 1, 1}},
		{"Full", func() *tensor.Tensor { return tensor.Full(2.5, 2, 1) }, tensor.Float32, []int{2, 1}, []float64{2.5, 2.5}},
		{"Full0d", func() *tensor.Tensor { return tensor.Full(-4) }, tensor.Float32, []int{}, []float64{-4}},
		{"Empty", func() *tensor.Tensor { return tensor.Empty(4, 0, 2) }, tensor.Float32, []int{4, 0, 2}, []float64{}},
		{"EmptyShape", func() *tensor.Tensor { return tensor.Empty(2, 2) }, tensor.Float32, []int{2, 2}, nil},
		{"Eye", func() *tensor.Tensor { return tensor.Eye(3) }, tensor.Float32, []int{3, 3}, []float64{1, 0, 0, 0, 1, 0, 0, 0, 1}},
		{"Eye0", func() *tensor.Tensor { return tensor.Eye(0) }, tensor.Float32, []int{0, 0}, []float64{}},
		{"Eye1", func() *tensor.Tensor { return tensor.Eye(1) }, tensor.Float32, []int{1, 1}, []float64{1}},
		// torch.arange(0, 5) (as float32)
		{"Arange", func() *tensor.Tensor { return tensor.Arange(0, 5, 1) }, tensor.Float32, []int{5}, []float64{0, 1, 2, 3, 4}},
		// torch.arange(5, 0, -1.5) -> [5.0, 3.5, 2.0, 0.5]
		{"ArangeNegativeStep", func() *tensor.Tensor { return tensor.Arange(5, 0, -1.5) }, tensor.Float32, []int{4}, []float64{5, 3.5, 2, 0.5}},
		{"ArangeEmpty", func() *tensor.Tensor { return tensor.Arange(3, 3, 1) }, tensor.Float32, []int{0}, []float64{}},
		{"ArangeFraction", func() *tensor.Tensor { return tensor.Arange(1, 2.25, 0.5) }, tensor.Float32, []int{3}, []float64{1, 1.5, 2}},
		// torch.arange(0, 1, 0.1, dtype=torch.float64).tolist()
		{"ArangeFloat64", func() *tensor.Tensor { return tensor.Of(tensor.Float64).Arange(0, 1, 0.1) }, tensor.Float64, []int{10},
			[]float64{0.0, 0.1, 0.2, 0.30000000000000004, 0.4, 0.5, 0.6000000000000001, 0.7000000000000001, 0.8, 0.9}},
		{"ArangeInt64", func() *tensor.Tensor { return tensor.Of(tensor.Int64).Arange(-2, 3, 2) }, tensor.Int64, []int{3}, []float64{-2, 0, 2}},
		{"Linspace", func() *tensor.Tensor { return tensor.Linspace(0, 1, 5) }, tensor.Float32, []int{5}, []float64{0, 0.25, 0.5, 0.75, 1}},
		{"Linspace1", func() *tensor.Tensor { return tensor.Linspace(3, 7, 1) }, tensor.Float32, []int{1}, []float64{3}},
		{"Linspace0", func() *tensor.Tensor { return tensor.Linspace(3, 7, 0) }, tensor.Float32, []int{0}, []float64{}},
		{"LinspaceDown", func() *tensor.Tensor { return tensor.Linspace(2, -2, 3) }, tensor.Float32, []int{3}, []float64{2, 0, -2}},
		{"ScalarFloat32", func() *tensor.Tensor { return tensor.Scalar(float32(1.5)) }, tensor.Float32, []int{}, []float64{1.5}},
		{"ScalarFloat64", func() *tensor.Tensor { return tensor.Scalar(2.25) }, tensor.Float64, []int{}, []float64{2.25}},
		{"ScalarInt64", func() *tensor.Tensor { return tensor.Scalar(int64(-7)) }, tensor.Int64, []int{}, []float64{-7}},
		{"ScalarBool", func() *tensor.Tensor { return tensor.Scalar(true) }, tensor.Bool, []int{}, []float64{1}},
		{"ScalarUint8", func() *tensor.Tensor { return tensor.Scalar(uint8(200)) }, tensor.Uint8, []int{}, []float64{200}},
		{"OptionsScalar", func() *tensor.Tensor { return tensor.Of(tensor.Int64).Scalar(9) }, tensor.Int64, []int{}, []float64{9}},
		{"OptionsZeros", func() *tensor.Tensor { return tensor.Of(tensor.Float64).Zeros(2) }, tensor.Float64, []int{2}, []float64{0, 0}},
		{"OptionsOnes", func() *tensor.Tensor { return tensor.Of(tensor.Bool).Ones(2) }, tensor.Bool, []int{2}, []float64{1, 1}},
		{"OptionsFull", func() *tensor.Tensor { return tensor.Of(tensor.Uint8).Full(7, 1, 2) }, tensor.Uint8, []int{1, 2}, []float64{7, 7}},
		{"OptionsEmpty", func() *tensor.Tensor { return tensor.Of(tensor.Int64).Empty(3) }, tensor.Int64, []int{3}, nil},
		{"OptionsEye", func() *tensor.Tensor { return tensor.Of(tensor.Float64).Eye(2) }, tensor.Float64, []int{2, 2}, []float64{1, 0, 0, 1}},
		{"OptionsLinspace", func() *tensor.Tensor { return tensor.Of(tensor.Float64).Linspace(-1, 1, 3) }, tensor.Float64, []int{3}, []float64{-1, 0, 1}},
		{"OnCPU", func() *tensor.Tensor { return tensor.On(device.CPU()).Ones(2) }, tensor.Float32, []int{2}, []float64{1, 1}},
		{"OnOf", func() *tensor.Tensor { return tensor.On(device.CPU()).Of(tensor.Int64).Full(3, 2) }, tensor.Int64, []int{2}, []float64{3, 3}},
		{"OfOn", func() *tensor.Tensor { return tensor.Of(tensor.Int64).On(device.CPU()).Full(3, 2) }, tensor.Int64, []int{2}, []float64{3, 3}},
		{"ZerosLike", func() *tensor.Tensor { return tensor.ZerosLike(tensor.Of(tensor.Int64).Ones(2, 2)) }, tensor.Int64, []int{2, 2}, []float64{0, 0, 0, 0}},
		{"OnesLike", func() *tensor.Tensor { return tensor.OnesLike(tensor.Of(tensor.Float64).Zeros(3)) }, tensor.Float64, []int{3}, []float64{1, 1, 1}},
		{"FullLike", func() *tensor.Tensor { return tensor.FullLike(tensor.Scalar(1.0), 5) }, tensor.Float64, []int{}, []float64{5}},
		{"FullLikeNonContiguous", func() *tensor.Tensor { return tensor.FullLike(seq(2, 3).T(), 1) }, tensor.Float64, []int{3, 2}, []float64{1, 1, 1, 1, 1, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.make()
			require.Equal(t, tc.dtype, got.DType())
			require.Equal(t, tc.shape, got.Shape())
			require.Equal(t, device.CPU(), got.Device())
			require.True(t, got.IsContiguous())
			require.Equal(t, numel(tc.shape), got.Numel())
			if tc.want != nil {
				require.Equal(t, tc.want, values(got))
			}
		})
	}
}

func TestLinspaceMatchesTorch(t *testing.T) {
	// torch.linspace(-1, 1, 7, dtype=torch.float64).tolist(); PyTorch's
	// vectorised kernel gives 5.551115123125783e-17 for the middle value
	// where the scalar formula gives 0, hence the tolerance.
	want := []float64{-1.0, -0.6666666666666667, -0.33333333333333337, 5.551115123125783e-17, 0.33333333333333337, 0.6666666666666667, 1.0}
	requireClose(t, want, []int{7}, tensor.Of(tensor.Float64).Linspace(-1, 1, 7), 1e-15)
	// torch.linspace(0, 1, 10, dtype=torch.float64).tolist()
	want = []float64{0.0, 0.1111111111111111, 0.2222222222222222, 0.3333333333333333, 0.4444444444444444, 0.5555555555555556, 0.6666666666666666, 0.7777777777777777, 0.8888888888888888, 1.0}
	got := tensor.Of(tensor.Float64).Linspace(0, 1, 10)
	requireClose(t, want, []int{10}, got, 1e-15)
	g := got.Float64s()
	require.Equal(t, 0.0, g[0], "endpoints are exact")
	require.Equal(t, 1.0, g[9], "endpoints are exact")
}

func TestFromSlice(t *testing.T) {
	t.Run("Float32", func(t *testing.T) {
		data := []float32{1, 2, 3, 4, 5, 6}
		x := tensor.FromSlice(data, 2, 3)
		require.Equal(t, tensor.Float32, x.DType())
		require.Equal(t, []int{2, 3}, x.Shape())
		require.Equal(t, []int{3, 1}, x.Strides())
		data[0] = 100 // the tensor holds a copy
		require.Equal(t, []float32{1, 2, 3, 4, 5, 6}, x.Float32s())
	})
	t.Run("DefaultShapeIs1D", func(t *testing.T) {
		x := tensor.FromSlice([]float64{1, 2, 3})
		require.Equal(t, []int{3}, x.Shape())
		require.Equal(t, tensor.Float64, x.DType())
	})
	t.Run("AllDTypes", func(t *testing.T) {
		require.Equal(t, []int64{-1, 2}, tensor.FromSlice([]int64{-1, 2}).Int64s())
		require.Equal(t, []bool{true, false}, tensor.FromSlice([]bool{true, false}).Bools())
		require.Equal(t, []uint8{0, 255}, tensor.FromSlice([]uint8{0, 255}).Uint8s())
		require.Equal(t, tensor.Uint8, tensor.FromSlice([]uint8{1}).DType())
		require.Equal(t, tensor.Bool, tensor.FromSlice([]bool{true}).DType())
	})
	t.Run("NamedElementType", func(t *testing.T) {
		type celsius float64
		x := tensor.FromSlice([]celsius{20.5, 30})
		require.Equal(t, tensor.Float64, x.DType())
		require.Equal(t, []float64{20.5, 30}, x.Float64s())
		type flag bool
		type pixel uint8
		type label int64
		type weight float32
		require.Equal(t, []bool{true, false}, tensor.FromSlice([]flag{true, false}).Bools())
		require.Equal(t, []uint8{7}, tensor.FromSlice([]pixel{7}).Uint8s())
		require.Equal(t, []int64{-3, 4}, tensor.FromSlice([]label{-3, 4}, 2, 1).Int64s())
		require.Equal(t, []float32{0.5}, tensor.FromSlice([]weight{0.5}).Float32s())
		require.Equal(t, 9.0, tensor.Scalar(label(9)).Item())
		require.Equal(t, tensor.Int64, tensor.Scalar(label(9)).DType())
	})
	t.Run("Empty", func(t *testing.T) {
		x := tensor.FromSlice([]float32{}, 0, 4)
		require.Equal(t, []int{0, 4}, x.Shape())
		require.Empty(t, x.Float32s())
		require.Equal(t, []int{0}, tensor.FromSlice([]float32(nil)).Shape())
	})
	t.Run("ScalarShape", func(t *testing.T) {
		x := tensor.FromSlice([]float32{7}, 1, 1, 1)
		require.Equal(t, 3, x.Dim())
		require.Equal(t, 7.0, x.Item())
	})
	t.Run("Errors", func(t *testing.T) {
		requireFails(t, tensor.ErrShape, func() { tensor.FromSlice([]float32{1, 2, 3}, 2, 2) },
			"tensor: FromSlice: shape [2 2] holds 4 elements but the slice has 3")
		requireFails(t, tensor.ErrShape, func() { tensor.FromSlice([]float32{}, -1, 0) }, "negative dimension")
	})
}

func TestConstructorErrors(t *testing.T) {
	tests := []struct {
		name string
		f    func()
		kind error
		frag string
	}{
		{"ZerosNegative", func() { tensor.Zeros(2, -1) }, tensor.ErrShape, "tensor: Zeros: negative dimension in shape [2 -1]"},
		{"EmptyNegative", func() { tensor.Empty(-3) }, tensor.ErrShape, "Empty: negative dimension"},
		{"EyeNegative", func() { tensor.Eye(-1) }, tensor.ErrShape, "negative dimension"},
		{"ArangeZeroStep", func() { tensor.Arange(0, 1, 0) }, tensor.ErrArgument, "nonzero step"},
		{"ArangeNaN", func() { tensor.Arange(math.NaN(), 1, 1) }, tensor.ErrArgument, "finite"},
		{"ArangeInf", func() { tensor.Arange(0, math.Inf(1), 1) }, tensor.ErrArgument, "finite"},
		{"ArangeWrongDirection", func() { tensor.Arange(0, 5, -1) }, tensor.ErrArgument, "moves away from end"},
		{"LinspaceNegative", func() { tensor.Linspace(0, 1, -1) }, tensor.ErrArgument, "steps must be non-negative"},
		{"UnknownDevice", func() { tensor.On(device.CUDA(0)).Zeros(1) }, tensor.ErrDevice, "CUDA is not available"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { requireFails(t, tc.kind, tc.f, tc.frag) })
	}
}

func TestOptionsString(t *testing.T) {
	require.Equal(t, "Options{cpu, float32}", tensor.Options{}.String())
	require.Equal(t, "Options{cpu, int64}", tensor.Of(tensor.Int64).String())
}

func TestAccessors(t *testing.T) {
	x := seq(2, 3, 4)
	require.Equal(t, 3, x.Dim())
	require.Equal(t, 24, x.Numel())
	require.Equal(t, 2, x.Size(0))
	require.Equal(t, 4, x.Size(-1))
	require.Equal(t, 3, x.Size(-2))
	require.Equal(t, []int{12, 4, 1}, x.Strides())
	require.Equal(t, 0, x.Offset())
	require.Equal(t, tensor.Float64, x.DType())
	require.Equal(t, device.CPU(), x.Device())
	require.True(t, x.IsContiguous())
	require.Equal(t, 24, x.Buffer().Len())
	require.Equal(t, device.CPU(), x.Backend().Device())

	// Shape, Strides and Layout return copies.
	s := x.Shape()
	s[0] = 99
	st := x.Strides()
	st[0] = 99
	l := x.Layout()
	l.Shape[1] = 99
	require.Equal(t, []int{2, 3, 4}, x.Shape())
	require.Equal(t, []int{12, 4, 1}, x.Strides())

	y := x.Select(0, 1)
	require.Equal(t, 12, y.Offset())
	require.True(t, y.SharesMemory(x))
	require.False(t, y.Clone().SharesMemory(x))

	requireFails(t, tensor.ErrIndex, func() { x.Size(3) }, "tensor: Size: dimension 3 is out of range for a tensor of rank 3 (valid: -3 to 2)")
	requireFails(t, tensor.ErrIndex, func() { x.Size(-4) }, "dimension -4 is out of range")
	requireFails(t, tensor.ErrIndex, func() { tensor.Scalar(1.0).Size(0) }, "0-dimensional")

	z := tensor.Scalar(float32(3))
	require.Equal(t, 0, z.Dim())
	require.Equal(t, 1, z.Numel())
	require.Equal(t, []int{}, z.Shape())
	require.True(t, z.IsContiguous())
}
