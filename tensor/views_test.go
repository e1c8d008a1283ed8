package tensor_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/tensor"
)

// permuteRef returns the values of seq(shape) permuted by dims, computed
// by index arithmetic.
func permuteRef(shape, dims []int) ([]float64, []int) {
	out := make([]int, len(dims))
	for i, d := range dims {
		out[i] = shape[d]
	}
	vals := make([]float64, numel(out))
	for k := range vals {
		idx := unflatten(out, k)
		src := make([]int, len(shape))
		for i, d := range dims {
			src[d] = idx[i]
		}
		vals[k] = float64(flatIndex(shape, src))
	}
	return vals, out
}

func TestViewAndReshape(t *testing.T) {
	tests := []struct {
		name  string
		in    *tensor.Tensor
		shape []int
		want  []int
	}{
		{"Infer", seq(2, 3, 4), []int{4, -1}, []int{4, 6}},
		{"InferFirst", seq(2, 3, 4), []int{-1, 2, 2}, []int{6, 2, 2}},
		{"Flat", seq(2, 3), []int{-1}, []int{6}},
		{"To0d", seq(1, 1), []int{}, []int{}},
		{"From0d", tensor.Scalar(4.0), []int{1, 1, -1}, []int{1, 1, 1}},
		{"Size1Dims", seq(6), []int{1, 2, 1, 3, 1}, []int{1, 2, 1, 3, 1}},
		{"Empty", seq(0, 4), []int{2, 0, 3}, []int{2, 0, 3}},
		{"EmptyInfer", seq(0, 4), []int{-1, 2}, []int{0, 2}},
		{"EmptyExplicit", seq(3, 0), []int{0, 5}, []int{0, 5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := tc.in.View(tc.shape...)
			require.Equal(t, tc.want, v.Shape())
			require.True(t, v.SharesMemory(tc.in))
			require.True(t, v.IsContiguous())
			require.Equal(t, values(tc.in), values(v))
			r := tc.in.Reshape(tc.shape...)
			require.Equal(t, tc.want, r.Shape())
			require.True(t, r.SharesMemory(tc.in), "a viewable reshape does not copy")
		})
	}
}

func TestViewNonContiguous(t *testing.T) {
	x := seq(2, 3, 4)
	xt := x.Transpose(0, 1) // [3 2 4], strides [4 12 1]

	// Splitting and merging dims that stay contiguous with each other works.
	v := xt.View(3, 2, 2, 2)
	require.True(t, v.SharesMemory(x))
	require.Equal(t, values(xt.Contiguous()), values(v.Contiguous()))
	v = xt.View(3, 1, 2, 1, 4)
	require.Equal(t, values(xt.Contiguous()), values(v.Contiguous()))

	// Merging the transposed dims needs a copy.
	err := requireFails(t, tensor.ErrShape, func() { xt.View(6, 4) },
		"tensor: View: a tensor of shape [3 2 4] and strides [4 12 1] cannot be viewed as [6 4] without a copy")
	require.Contains(t, err.Error(), "Reshape")
	requireFails(t, tensor.ErrShape, func() { x.T().View(-1) }, "without a copy")

	r := xt.Reshape(6, 4)
	require.False(t, r.SharesMemory(x), "Reshape copies when it must")
	require.Equal(t, []int{6, 4}, r.Shape())
	require.Equal(t, values(xt.Contiguous()), values(r))

	// A stepped slice can gain size-1 dims but merges with nothing.
	s := seq(10).Slice(0, 0, 10, 2)
	requireExact(t, []float64{0, 2, 4, 6, 8}, []int{5, 1, 1}, s.View(5, 1, 1))
	requireExact(t, []float64{0, 2, 4, 6, 8}, []int{1, 5}, s.View(1, 5))
	s2 := seq(2, 5).Slice(1, 0, 5, 2) // [2 3], strides [5 2]
	requireFails(t, tensor.ErrShape, func() { s2.View(6) }, "strides [5 2] cannot be viewed as [6]")
	requireExact(t, []float64{0, 2, 4, 5, 7, 9}, []int{6}, s2.Reshape(6))
}

func TestInferShapeErrors(t *testing.T) {
	x := seq(2, 3)
	tests := []struct {
		name  string
		shape []int
		frag  string
	}{
		{"TwoInferred", []int{-1, -1}, "only one dimension may be -1"},
		{"Negative", []int{-2, 3}, "invalid shape [-2 3]"},
		{"WrongCount", []int{4, 2}, "shape [4 2] holds 8 elements, the tensor has 6"},
		{"NotDivisible", []int{4, -1}, "cannot infer the -1 in shape [4 -1] for 6 elements"},
		{"InferWithZero", []int{0, -1}, "cannot infer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			requireFails(t, tensor.ErrShape, func() { x.View(tc.shape...) }, "tensor: View: ", tc.frag)
			requireFails(t, tensor.ErrShape, func() { x.Reshape(tc.shape...) }, "tensor: Reshape: ", tc.frag)
		})
	}
}

func TestFlatten(t *testing.T) {
	x := seq(2, 3, 4, 5)
	require.Equal(t, []int{120}, x.Flatten().Shape())
	require.Equal(t, []int{2, 12, 5}, x.FlattenDims(1, 2).Shape())
	require.Equal(t, []int{2, 3, 20}, x.FlattenDims(-2, -1).Shape())
	require.Equal(t, []int{120}, x.FlattenDims(0, -1).Shape())
	require.Equal(t, []int{2, 3, 4, 5}, x.FlattenDims(2, 2).Shape())
	require.Equal(t, []int{1}, tensor.Scalar(3.0).FlattenDims(0, 0).Shape())
	require.Equal(t, []int{1}, tensor.Scalar(3.0).Flatten().Shape())
	requireFails(t, tensor.ErrArgument, func() { x.FlattenDims(2, 1) }, "start dimension 2 comes after end dimension 1")
	requireFails(t, tensor.ErrIndex, func() { x.FlattenDims(0, 4) }, "FlattenDims")

	// Flattening a transposed tensor copies, in logical order.
	xt := seq(3, 4).T()
	require.Equal(t, values(xt.Contiguous()), values(xt.Flatten()))
	require.Equal(t, []float64{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}, values(xt.Flatten()))
}

func TestPermuteTranspose(t *testing.T) {
	tests := []struct {
		shape []int
		dims  []int
	}{
		{[]int{2, 3}, []int{1, 0}},
		{[]int{2, 3, 4}, []int{2, 0, 1}},
		{[]int{2, 3, 4}, []int{-1, -3, -2}},
		{[]int{2, 1, 4, 3}, []int{3, 1, 0, 2}},
		{[]int{5}, []int{0}},
		{[]int{}, []int{}},
		{[]int{2, 0, 3}, []int{2, 1, 0}},
	}
	for _, tc := range tests {
		x := seq(tc.shape...)
		p := x.Permute(tc.dims...)
		dims := make([]int, len(tc.dims))
		for i, d := range tc.dims {
			dims[i] = (d + len(tc.shape)) % max(len(tc.shape), 1)
		}
		want, shape := permuteRef(tc.shape, dims)
		requireExact(t, want, shape, p, "permute %v by %v", tc.shape, tc.dims)
		require.True(t, p.SharesMemory(x))
	}

	x := seq(2, 3, 4)
	want, shape := permuteRef([]int{2, 3, 4}, []int{2, 1, 0})
	requireExact(t, want, shape, x.Transpose(0, 2))
	requireExact(t, want, shape, x.Transpose(-1, -3))
	require.Equal(t, []int{1, 4, 12}, x.Transpose(0, 2).Strides())
	requireExact(t, values(x), []int{2, 3, 4}, x.Transpose(1, 1))
	want, shape = permuteRef([]int{2, 3, 4}, []int{0, 2, 1})
	requireExact(t, want, shape, x.T())
	require.False(t, x.T().IsContiguous())

	v := seq(3)
	require.Same(t, v, v.T(), "T of a 1-D tensor is itself")
	s := tensor.Scalar(2.0)
	require.Same(t, s, s.T())
	require.Same(t, s, s.Transpose(0, -1), "a scalar transposes over dims 0/-1 to itself, as PyTorch")

	requireFails(t, tensor.ErrArgument, func() { x.Permute(0, 1) }, "tensor: Permute: got 2 dimensions [0 1] for a tensor of rank 3")
	requireFails(t, tensor.ErrArgument, func() { x.Permute(0, 1, -2) }, "dimension 1 appears twice")
	requireFails(t, tensor.ErrIndex, func() { x.Permute(0, 1, 3) }, "dimension 3 is out of range")
	requireFails(t, tensor.ErrIndex, func() { x.Transpose(0, 3) }, "tensor: Transpose: dimension 3 is out of range for a tensor of rank 3 (valid: -3 to 2)")
	requireFails(t, tensor.ErrIndex, func() { s.Transpose(0, 1) }, "0-dimensional")
}

func TestSqueezeUnsqueeze(t *testing.T) {
	x := seq(1, 3, 1, 2)
	tests := []struct {
		name string
		got  *tensor.Tensor
		want []int
	}{
		{"SqueezeAll", x.Squeeze(), []int{3, 2}},
		{"SqueezeOne", x.Squeeze(0), []int{3, 1, 2}},
		{"SqueezeNegative", x.Squeeze(-2), []int{1, 3, 2}},
		{"SqueezeTwo", x.Squeeze(0, -2), []int{3, 2}},
		{"SqueezeNonOneKept", x.Squeeze(1), []int{1, 3, 1, 2}},
		{"SqueezeAllOnes", seq(1, 1, 1).Squeeze(), []int{}},
		{"SqueezeScalar", tensor.Scalar(1.0).Squeeze(), []int{}},
		{"SqueezeScalarDim", tensor.Scalar(1.0).Squeeze(-1), []int{}},
		{"SqueezeEmptyDim", seq(0, 1).Squeeze(), []int{0}},
		{"UnsqueezeFront", seq(3, 2).Unsqueeze(0), []int{1, 3, 2}},
		{"UnsqueezeMiddle", seq(3, 2).Unsqueeze(1), []int{3, 1, 2}},
		{"UnsqueezeEnd", seq(3, 2).Unsqueeze(2), []int{3, 2, 1}},
		{"UnsqueezeMinus1", seq(3, 2).Unsqueeze(-1), []int{3, 2, 1}},
		{"UnsqueezeMinus2", seq(3, 2).Unsqueeze(-2), []int{3, 1, 2}},
		{"UnsqueezeMinus3", seq(3, 2).Unsqueeze(-3), []int{1, 3, 2}},
		{"UnsqueezeScalar", tensor.Scalar(1.0).Unsqueeze(0), []int{1}},
		{"UnsqueezeScalarNeg", tensor.Scalar(1.0).Unsqueeze(-1), []int{1}},
		{"UnsqueezeTransposed", seq(3, 2).T().Unsqueeze(1), []int{2, 1, 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, tc.got.Shape())
		})
	}
	// Values are unchanged (in logical order).
	require.Equal(t, values(seq(3, 2).T().Contiguous()), values(seq(3, 2).T().Unsqueeze(1)))
	require.Equal(t, values(x), values(x.Squeeze()))
	require.True(t, seq(3, 2).Unsqueeze(1).IsContiguous())

	requireFails(t, tensor.ErrIndex, func() { x.Squeeze(4) }, "tensor: Squeeze: dimension 4 is out of range")
	requireFails(t, tensor.ErrIndex, func() { tensor.Scalar(1.0).Squeeze(1) }, "0-dimensional")
	requireFails(t, tensor.ErrIndex, func() { seq(3, 2).Unsqueeze(3) }, "tensor: Unsqueeze: dimension 3 is out of range for a tensor of rank 3")
	requireFails(t, tensor.ErrIndex, func() { seq(3, 2).Unsqueeze(-4) }, "Unsqueeze")
}

func TestExpand(t *testing.T) {
	x := tensor.FromSlice([]float64{1, 2, 3}, 3, 1)
	e := x.Expand(2, 3, 4)
	require.Equal(t, []int{2, 3, 4}, e.Shape())
	require.Equal(t, []int{0, 1, 0}, e.Strides(), "expanded dimensions have stride 0")
	require.True(t, e.SharesMemory(x))
	require.False(t, e.IsContiguous())
	want := make([]float64, 24)
	for k := range want {
		want[k] = float64(unflatten([]int{2, 3, 4}, k)[1] + 1)
	}
	require.Equal(t, want, values(e))
	require.Equal(t, want, values(e.Contiguous()))

	require.Equal(t, []int{3, 5}, x.Expand(-1, 5).Shape())
	require.Equal(t, []int{3, 1}, x.Expand(3, 1).Shape())
	require.Equal(t, []int{0, 3, 1}, x.Expand(0, 3, 1).Shape())
	require.Equal(t, []int{3, 0}, x.Expand(3, 0).Shape())
	require.Equal(t, []int{2, 2}, tensor.Scalar(7.0).Expand(2, 2).Shape())
	require.Equal(t, []float64{7, 7, 7, 7}, values(tensor.Scalar(7.0).Expand(2, 2)))
	require.Equal(t, []int{2, 3, 5}, x.ExpandAs(seq(2, 3, 5)).Shape())

	// Expanding a non-contiguous tensor keeps its strides.
	xt := seq(1, 3).T() // [3 1]
	require.Equal(t, []float64{0, 0, 1, 1, 2, 2}, values(xt.Expand(3, 2)))

	requireFails(t, tensor.ErrShape, func() { x.Expand(3) }, "tensor: Expand: cannot expand shape [3 1] to fewer dimensions [3]")
	requireFails(t, tensor.ErrShape, func() { x.Expand(4, 2) }, "cannot expand shape [3 1] to [4 2]: only size-1 dimensions can grow")
	requireFails(t, tensor.ErrShape, func() { x.Expand(-1, 3, 2) }, "new leading dimension 0 cannot be -1")
	requireFails(t, tensor.ErrShape, func() { x.Expand(3, -2) }, "invalid size -2")
}

func TestNarrowSliceSelect(t *testing.T) {
	x := seq(4, 5)
	tests := []struct {
		name  string
		got   func() *tensor.Tensor
		shape []int
		want  []float64
	}{
		{"Narrow", func() *tensor.Tensor { return x.Narrow(1, 1, 3) }, []int{4, 3}, []float64{1, 2, 3, 6, 7, 8, 11, 12, 13, 16, 17, 18}},
		{"NarrowRows", func() *tensor.Tensor { return x.Narrow(0, 2, 2) }, []int{2, 5}, []float64{10, 11, 12, 13, 14, 15, 16, 17, 18, 19}},
		{"NarrowNegativeStart", func() *tensor.Tensor { return x.Narrow(-1, -2, 2) }, []int{4, 2}, []float64{3, 4, 8, 9, 13, 14, 18, 19}},
		{"NarrowEmpty", func() *tensor.Tensor { return x.Narrow(0, 4, 0) }, []int{0, 5}, []float64{}},
		// x[:, 1:4:2]
		{"SliceStep", func() *tensor.Tensor { return x.Slice(1, 1, 4, 2) }, []int{4, 2}, []float64{1, 3, 6, 8, 11, 13, 16, 18}},
		// x[-2:, :]
		{"SliceNegative", func() *tensor.Tensor { return x.Slice(0, -2, 4, 1) }, []int{2, 5}, []float64{10, 11, 12, 13, 14, 15, 16, 17, 18, 19}},
		// x[:, -100:100:3] (clamped)
		{"SliceClamp", func() *tensor.Tensor { return x.Slice(1, -100, 100, 3) }, []int{4, 2}, []float64{0, 3, 5, 8, 10, 13, 15, 18}},
		// x[3:1] is empty
		{"SliceEmpty", func() *tensor.Tensor { return x.Slice(0, 3, 1, 1) }, []int{0, 5}, []float64{}},
		// x[:, -1:]
		{"SliceNegEnd", func() *tensor.Tensor { return x.Slice(1, -1, 5, 1) }, []int{4, 1}, []float64{4, 9, 14, 19}},
		// x[:, 0:-1:2]
		{"SliceNegEndStep", func() *tensor.Tensor { return x.Slice(-1, 0, -1, 2) }, []int{4, 2}, []float64{0, 2, 5, 7, 10, 12, 15, 17}},
		{"SliceOfSlice", func() *tensor.Tensor { return x.Slice(1, 0, 5, 2).Slice(0, 1, 4, 2) }, []int{2, 3}, []float64{5, 7, 9, 15, 17, 19}},
		{"SliceTransposed", func() *tensor.Tensor { return x.T().Slice(1, 1, 3, 1) }, []int{5, 2}, []float64{5, 10, 6, 11, 7, 12, 8, 13, 9, 14}},
		{"Select", func() *tensor.Tensor { return x.Select(0, 2) }, []int{5}, []float64{10, 11, 12, 13, 14}},
		{"SelectCol", func() *tensor.Tensor { return x.Select(1, 3) }, []int{4}, []float64{3, 8, 13, 18}},
		{"SelectNegative", func() *tensor.Tensor { return x.Select(-1, -1) }, []int{4}, []float64{4, 9, 14, 19}},
		{"SelectTo0d", func() *tensor.Tensor { return x.Select(0, 1).Select(0, 2) }, []int{}, []float64{7}},
		{"Index", func() *tensor.Tensor { return x.Index(3, 1) }, []int{}, []float64{16}},
		{"IndexOne", func() *tensor.Tensor { return x.Index(-1) }, []int{5}, []float64{15, 16, 17, 18, 19}},
		{"IndexNone", func() *tensor.Tensor { return x.Index() }, []int{4, 5}, values(x)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.got()
			requireExact(t, tc.want, tc.shape, got)
			require.True(t, got.SharesMemory(x), "a view")
			requireExact(t, tc.want, tc.shape, got.Contiguous())
		})
	}
	require.Equal(t, 7.0, x.Index(1, 2).Item())

	errs := []struct {
		name string
		f    func()
		kind error
		frag string
	}{
		{"NarrowPastEnd", func() { x.Narrow(1, 3, 3) }, tensor.ErrIndex, "tensor: Narrow: range [3, 6) is outside dimension 1 of size 5"},
		{"NarrowNegLength", func() { x.Narrow(1, 0, -1) }, tensor.ErrIndex, "outside dimension"},
		{"NarrowTooNegative", func() { x.Narrow(0, -5, 1) }, tensor.ErrIndex, "outside dimension"},
		{"NarrowScalar", func() { tensor.Scalar(1.0).Narrow(0, 0, 1) }, tensor.ErrIndex, "0-dimensional"},
		{"SliceZeroStep", func() { x.Slice(0, 0, 4, 0) }, tensor.ErrArgument, "tensor: Slice: step must be positive, got 0"},
		{"SliceNegStep", func() { x.Slice(0, 4, 0, -1) }, tensor.ErrArgument, "step must be positive"},
		{"SliceBadDim", func() { x.Slice(2, 0, 1, 1) }, tensor.ErrIndex, "dimension 2 is out of range"},
		{"SelectOut", func() { x.Select(0, 4) }, tensor.ErrIndex, "tensor: Select: index 4 is out of range for dimension 0 of size 4"},
		{"SelectNegOut", func() { x.Select(1, -6) }, tensor.ErrIndex, "index -6 is out of range"},
		{"SelectScalar", func() { tensor.Scalar(1.0).Select(0, 0) }, tensor.ErrIndex, "0-dimensional"},
		{"IndexTooMany", func() { x.Index(0, 0, 0) }, tensor.ErrIndex, "0-dimensional"},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) { requireFails(t, tc.kind, tc.f, tc.frag) })
	}
}

func TestContiguousClone(t *testing.T) {
	x := seq(3, 4)
	require.Same(t, x, x.Contiguous(), "a contiguous tensor is returned as is")
	row := x.Select(0, 1)
	require.Same(t, row, row.Contiguous(), "an offset row is contiguous")

	xt := x.T()
	c := xt.Contiguous()
	require.NotSame(t, xt, c)
	require.True(t, c.IsContiguous())
	require.False(t, c.SharesMemory(x))
	require.Equal(t, values(xt), values(c))

	cl := x.Clone()
	require.False(t, cl.SharesMemory(x))
	cl.CopyFrom(tensor.Of(tensor.Float64).Full(-1, 3, 4))
	require.Equal(t, 5.0, x.Index(1, 1).Item(), "the clone is independent")
	require.Equal(t, -1.0, cl.Index(1, 1).Item())

	// Writing through a view changes the base; clones do not.
	before := x.Clone()
	x.Select(1, 2).CopyFrom(tensor.Scalar(100.0))
	require.Equal(t, []float64{0, 1, 100, 3, 4, 5, 100, 7, 8, 9, 100, 11}, values(x))
	require.Equal(t, []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, values(before))

	require.Equal(t, []int{}, tensor.Scalar(1.0).Clone().Shape())
	require.Equal(t, []int{2, 0}, seq(2, 0).Clone().Shape())
	e := seq(2, 3).Expand(4, 2, 3).Clone()
	require.Equal(t, []int{6, 3, 1}, e.Strides())
}

func TestCopyFrom(t *testing.T) {
	x := seq(2, 2)
	x.CopyFrom(x.T()) // overlapping source: must read the original values
	require.Equal(t, []float64{0, 2, 1, 3}, values(x))

	y := tensor.Of(tensor.Float64).Zeros(2, 3)
	y.CopyFrom(tensor.FromSlice([]float64{1, 2, 3})) // broadcast
	require.Equal(t, []float64{1, 2, 3, 1, 2, 3}, values(y))

	y.CopyFrom(y) // same layout: a no-op
	require.Equal(t, []float64{1, 2, 3, 1, 2, 3}, values(y))

	requireFails(t, tensor.ErrShape, func() { y.CopyFrom(seq(2)) }, "tensor: CopyFrom: source shape [2] does not broadcast to the destination shape [2 3]")
	requireFails(t, tensor.ErrDType, func() { y.CopyFrom(tensor.Zeros(2, 3)) }, "tensor: CopyFrom: dtypes float64 and float32 differ; convert one with .As(tensor.Float64)")
}
