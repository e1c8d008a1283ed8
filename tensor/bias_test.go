package tensor_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/internal/prim"
	"github.com/nabla-go/nabla/tensor"
)

// allActivations lists every activation kind with a typical parameter.
var allActivations = []prim.Activation{
	{Kind: prim.ActNone},
	{Kind: prim.ActRelu},
	{Kind: prim.ActLeakyRelu, Alpha: 0.01},
	{Kind: prim.ActSigmoid},
	{Kind: prim.ActTanh},
	{Kind: prim.ActElu, Alpha: 1.5},
	{Kind: prim.ActSoftplus},
	{Kind: prim.ActGelu},
}

// bits returns a float tensor's elements as raw bits in row-major order,
// so that -0 and every rounding difference count.
func bits(x *tensor.Tensor) []uint64 {
	x = x.Contiguous()
	if x.DType() == tensor.Float32 {
		v := x.Float32s()
		out := make([]uint64, len(v))
		for i, f := range v {
			out[i] = uint64(math.Float32bits(f))
		}
		return out
	}
	v := x.Float64s()
	out := make([]uint64, len(v))
	for i, f := range v {
		out[i] = math.Float64bits(f)
	}
	return out
}

// spread returns n values over the ranges where the activations change
// behaviour, with a NaN, infinities and -0 among them.
func spread(n int, seed uint64) *tensor.Tensor {
	x := tensor.Of(tensor.Float64).WithGenerator(tensor.NewGenerator(seed)).Uniform(-25, 25, n)
	v := x.Float64s()
	special := []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 20, -20}
	for i := 0; i < len(v); i += 7 {
		v[i] = special[(i/7)%len(special)]
	}
	return tensor.FromSlice(v)
}

func TestBiasActivationMatchesUnfused(t *testing.T) {
	type operand struct {
		name string
		make func(dt tensor.DType) *tensor.Tensor
	}
	inputs := []operand{
		{"[7 33]", func(dt tensor.DType) *tensor.Tensor { return spread(7*33, 1).As(dt).Reshape(7, 33) }},
		{"[33 7]ᵀ", func(dt tensor.DType) *tensor.Tensor { return spread(7*33, 2).As(dt).Reshape(33, 7).T() }},
		{"[2 3 33]", func(dt tensor.DType) *tensor.Tensor { return spread(2*3*33, 3).As(dt).Reshape(2, 3, 33) }},
		{"permuted [3 2 33]", func(dt tensor.DType) *tensor.Tensor {
			return spread(2*3*33, 4).As(dt).Reshape(2, 3, 33).Permute(1, 0, 2)
		}},
		{"[33]", func(dt tensor.DType) *tensor.Tensor { return spread(33, 5).As(dt) }},
		{"[0 33]", func(dt tensor.DType) *tensor.Tensor { return tensor.Zeros(0, 33).As(dt) }},
	}
	biases := []operand{
		{"contiguous", func(dt tensor.DType) *tensor.Tensor { return spread(33, 6).As(dt) }},
		{"step 2", func(dt tensor.DType) *tensor.Tensor { return spread(66, 7).As(dt).Slice(0, 1, 66, 2) }},
	}
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		for _, act := range allActivations {
			for _, in := range inputs {
				for _, b := range biases {
					name := fmt.Sprintf("%v/%v/%s/%s bias", dt, act, in.name, b.name)
					x, bias := in.make(dt), b.make(dt)
					want := tensorOps.ApplyActivation(act, x.Add(bias))
					got := tensorOps.BiasActivation(x, bias, act)
					require.Equal(t, want.Shape(), got.Shape(), name)
					require.Equal(t, bits(want), bits(got), name)

					y := x.Clone()
					require.Same(t, y, tensorOps.BiasActivationInPlace(y, bias, act), name)
					require.Equal(t, bits(want), bits(y), name+" in place")
				}
			}
		}
	}
}

// TestBiasActivationInPlaceOnAView writes through a view into the rows it
// covers and leaves the rest of the buffer alone.
func TestBiasActivationInPlaceOnAView(t *testing.T) {
	base := tensor.FromSlice([]float32{1, -2, 3, -4, 5, -6, 7, -8}, 4, 2)
	rows := base.Narrow(0, 1, 2) // rows 1 and 2: [3 -4] [5 -6]
	tensorOps.BiasActivationInPlace(rows, tensor.FromSlice([]float32{-4, 1}), prim.Activation{Kind: prim.ActRelu})
	require.Equal(t, []float32{1, -2, 0, 0, 1, 0, 7, -8}, base.Float32s())
}

// TestBiasActivationBiasAliasesDestination: a bias that is a view of the
// destination's memory is read before it is overwritten.
func TestBiasActivationBiasAliasesDestination(t *testing.T) {
	x := tensor.FromSlice([]float64{1, 2, 3, 4, 5, 6}, 3, 2)
	want := x.Add(x.Select(0, 0))
	tensorOps.BiasActivationInPlace(x, x.Select(0, 0), prim.Activation{})
	require.Equal(t, want.Float64s(), x.Float64s())
}

func TestBiasActivationErrors(t *testing.T) {
	x := tensor.Ones(3, 4)
	relu := prim.Activation{Kind: prim.ActRelu}
	requireFails(t, tensor.ErrArgument, func() { tensorOps.BiasActivation(x, nil, relu) }, "BiasActivation", "nil bias")
	requireFails(t, tensor.ErrShape, func() { tensorOps.BiasActivation(x, tensor.Ones(3), relu) },
		"BiasActivation", "bias of shape [3] does not match the last dimension of the input [3 4]")
	requireFails(t, tensor.ErrShape, func() { tensorOps.BiasActivation(x, tensor.Ones(1, 4), relu) }, "must be [N]")
	requireFails(t, tensor.ErrShape, func() { tensorOps.BiasActivation(tensor.Scalar(float32(1)), tensor.Ones(1), relu) }, "input []")
	requireFails(t, tensor.ErrDType, func() { tensorOps.BiasActivation(x.As(tensor.Int64), tensor.Ones(4).As(tensor.Int64), relu) }, "float32 or float64")
	requireFails(t, tensor.ErrDType, func() { tensorOps.BiasActivation(x, tensor.Ones(4).As(tensor.Int64), relu) }, "BiasActivation", "differ")
	requireFails(t, tensor.ErrArgument, func() { tensorOps.BiasActivation(x, tensor.Ones(4), prim.Activation{Kind: 99}) }, "unknown activation kind 99")
	requireFails(t, tensor.ErrArgument, func() { tensorOps.ApplyActivation(prim.Activation{Kind: 99}, x) }, "Activation.Apply", "unknown activation kind")
	permuted := tensor.Ones(2, 3, 4).Permute(1, 0, 2)
	requireFails(t, tensor.ErrArgument, func() { tensorOps.BiasActivationInPlace(permuted, tensor.Ones(4), relu) },
		"BiasActivationInPlace", "cannot be viewed as rows in place")
	requireFails(t, tensor.ErrArgument, func() { tensorOps.BiasActivationInPlace(tensor.Ones(1, 4).Expand(3, 4), tensor.Ones(4), relu) },
		"broadcast view (stride 0 in dimension 0)")
}

func TestAddInPlace(t *testing.T) {
	cases := []struct {
		name  string
		dst   func() *tensor.Tensor
		other func(dst *tensor.Tensor) *tensor.Tensor
	}{
		{"same shape", func() *tensor.Tensor { return spread(12, 1).Reshape(3, 4) }, func(*tensor.Tensor) *tensor.Tensor { return spread(12, 2).Reshape(3, 4) }},
		{"row broadcast", func() *tensor.Tensor { return spread(12, 3).Reshape(3, 4) }, func(*tensor.Tensor) *tensor.Tensor { return spread(4, 4) }},
		{"transposed destination", func() *tensor.Tensor { return spread(12, 5).Reshape(4, 3).T() }, func(*tensor.Tensor) *tensor.Tensor { return spread(12, 6).Reshape(3, 4) }},
		{"itself", func() *tensor.Tensor { return spread(12, 7).Reshape(3, 4) }, func(d *tensor.Tensor) *tensor.Tensor { return d }},
		{"its own transpose", func() *tensor.Tensor { return spread(16, 8).Reshape(4, 4) }, func(d *tensor.Tensor) *tensor.Tensor { return d.T() }},
		{"empty", func() *tensor.Tensor { return tensor.Zeros(0, 4).As(tensor.Float64) }, func(*tensor.Tensor) *tensor.Tensor { return spread(4, 9) }},
	}
	for _, c := range cases {
		for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
			d := c.dst().As(dt)
			o := c.other(d).As(dt)
			want := d.Add(o)
			require.Same(t, d, d.AddInPlace(o), c.name)
			require.Equal(t, bits(want), bits(d), "%s %v", c.name, dt)
		}
	}
	ints := tensor.FromSlice([]int64{1, 2, 3})
	ints.AddInPlace(tensor.FromSlice([]int64{10}))
	require.Equal(t, []int64{11, 12, 13}, ints.Int64s())
}

func TestAddInPlaceErrors(t *testing.T) {
	x := tensor.Ones(3, 4)
	requireFails(t, tensor.ErrArgument, func() { x.AddInPlace(nil) }, "AddInPlace", "nil tensor")
	requireFails(t, tensor.ErrShape, func() { tensor.Ones(4).AddInPlace(x) },
		"AddInPlace", "operand shape [3 4] does not broadcast to the destination shape [4]")
	requireFails(t, tensor.ErrDType, func() { x.AddInPlace(x.As(tensor.Float64)) }, "AddInPlace", "differ")
	requireFails(t, tensor.ErrDType, func() { x.Gt(0.0).AddInPlace(x.Gt(0.0)) }, "Bool")
	requireFails(t, tensor.ErrArgument, func() { tensor.Ones(4).Expand(3, 4).AddInPlace(x) }, "broadcast view")
}
