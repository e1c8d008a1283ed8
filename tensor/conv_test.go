package tensor_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/tensor"
)

// convWeights returns (arange(numel) % mod) - shift with the given shape,
// the weights the torch reference sums below use.
func convWeights(mod, shift int, shape ...int) *tensor.Tensor {
	n := 1
	for _, d := range shape {
		n *= d
	}
	vals := make([]float64, n)
	for i := range vals {
		vals[i] = float64(i%mod - shift)
	}
	return tensor.FromSlice(vals, shape...)
}

func TestIm2ColMatchesTorch(t *testing.T) {
	g := tensor.ConvGeometry{KernelH: 3, KernelW: 2, StrideH: 2, StrideW: 1, PadH: 1, DilationW: 2}
	x := tensor.Of(tensor.Float64).Arange(0, 2*3*5*6, 1).Reshape(2, 3, 5, 6)
	cols := tensor.Im2Col(x, g)
	require.Equal(t, []int{2, 18, 12}, cols.Shape())
	// x = torch.arange(2*3*5*6, dtype=torch.float64).reshape(2,3,5,6)
	// c = F.unfold(x, kernel_size=(3,2), dilation=(1,2), padding=(1,0), stride=(2,1))
	// w = torch.arange(c.numel(), dtype=torch.float64).reshape(c.shape) % 7 - 3
	// (c*w).sum() == -291
	w := convWeights(7, 3, 2, 18, 12)
	require.Equal(t, -291.0, cols.Mul(w).Sum().Item())
	// F.fold(w, output_size=(5,6), <same geometry>) weighted by arange % 5: 39
	f := tensor.Col2Im(w, 3, 5, 6, g)
	require.Equal(t, []int{2, 3, 5, 6}, f.Shape())
	require.Equal(t, 39.0, f.Mul(convWeights(5, 0, 2, 3, 5, 6)).Sum().Item())

	// A strided (transposed) view gives the same columns as its copy.
	xt := x.Transpose(2, 3)
	require.Equal(t, tensor.Im2Col(xt.Contiguous(), g).Float64s(), tensor.Im2Col(xt, g).Float64s())

	// F.unfold(torch.arange(9.).reshape(1,1,3,3), 2)
	small := tensor.Im2Col(tensor.Arange(0, 9, 1).Reshape(1, 1, 3, 3), tensor.ConvGeometry{KernelH: 2, KernelW: 2, StrideH: 1, StrideW: 1})
	require.Equal(t, []float32{0, 1, 3, 4, 1, 2, 4, 5, 3, 4, 6, 7, 4, 5, 7, 8}, small.Float32s())
}

func TestIm2ColErrors(t *testing.T) {
	g := tensor.ConvGeometry{KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1}
	cases := []struct {
		name string
		f    func()
		kind error
		msg  string
	}{
		{"rank", func() { tensor.Im2Col(tensor.Zeros(3, 4, 4), g) }, tensor.ErrShape, "[N, C, H, W]"},
		{"dtype", func() { tensor.Im2Col(tensor.Zeros(1, 1, 4, 4).As(tensor.Bool), g) }, tensor.ErrDType, "bool"},
		{"too small", func() { tensor.Im2Col(tensor.Zeros(1, 1, 2, 4), g) }, tensor.ErrShape, "does not fit"},
		{"bad stride", func() { tensor.Im2Col(tensor.Zeros(1, 1, 4, 4), tensor.ConvGeometry{KernelH: 1, KernelW: 1}) }, tensor.ErrArgument, "stride"},
		{"fold shape", func() { tensor.Col2Im(tensor.Zeros(1, 9, 5), 1, 4, 4, g) }, tensor.ErrShape, "does not match"},
		{"fold rank", func() { tensor.Col2Im(tensor.Zeros(9, 4), 1, 4, 4, g) }, tensor.ErrShape, "column tensor"},
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
