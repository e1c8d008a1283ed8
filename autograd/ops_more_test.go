package autograd

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/tensor"
)

// TestGradCheckMoreOps checks Index, Sin, Cos, Log1p, Sort, TopK,
// CumSum, Flip, Repeat and Norm against central differences in float64.
func TestGradCheckMoreOps(t *testing.T) {
	normal := func(shape ...int) func(*tensor.Generator) *tensor.Tensor {
		return func(g *tensor.Generator) *tensor.Tensor { return randn(g, shape...) }
	}
	pos := func(shape ...int) func(*tensor.Generator) *tensor.Tensor {
		return func(g *tensor.Generator) *tensor.Tensor { return positive(g, shape...) }
	}
	cases := []struct {
		name string
		in   func(*tensor.Generator) *tensor.Tensor
		f    func(x *Var) *Var
	}{
		{"index", normal(3, 4, 2), func(x *Var) *Var { return x.Index(1).Square() }},
		{"index two", normal(3, 4, 2), func(x *Var) *Var { return x.Index(2, -1).Exp() }},
		{"sin", normal(2, 3), func(x *Var) *Var { return x.Sin() }},
		{"cos", normal(2, 3), func(x *Var) *Var { return x.Cos() }},
		{"log1p", pos(2, 3), func(x *Var) *Var { return x.Log1p() }},
		{"sort ascending", normal(3, 5), func(x *Var) *Var { v, _ := x.Sort(1, false); return v.Pow(3) }},
		{"sort descending dim0", normal(4, 3), func(x *Var) *Var { v, _ := x.Sort(0, true); return v.Square() }},
		{"topk largest", normal(3, 6), func(x *Var) *Var { v, _ := x.TopK(2, -1, true); return v.Square() }},
		{"topk smallest dim0", normal(5, 2), func(x *Var) *Var { v, _ := x.TopK(3, 0, false); return v.Exp() }},
		{"cumsum", normal(3, 4), func(x *Var) *Var { return x.CumSum(1).Square() }},
		{"cumsum dim0", normal(5, 2), func(x *Var) *Var { return x.CumSum(0).Square() }},
		{"cumsum 0-d", normal(), func(x *Var) *Var { return x.CumSum(0).Square() }},
		{"flip", normal(3, 4), func(x *Var) *Var { return x.Flip(0).Pow(3) }},
		{"flip two dims", normal(2, 3, 2), func(x *Var) *Var { return x.Flip(-1, 0).Exp() }},
		{"repeat", normal(2, 3), func(x *Var) *Var { return x.Repeat(2, 3).Square() }},
		{"repeat new dims", normal(3), func(x *Var) *Var { return x.Repeat(2, 1, 2).Exp() }},
		{"norm 2", normal(3, 4), func(x *Var) *Var { return x.Norm(2) }},
		{"norm 2 dim", normal(3, 4), func(x *Var) *Var { return x.Norm(2, 1) }},
		{"norm 2 keepdim", normal(3, 4), func(x *Var) *Var { return x.NormKeepDim(2, 0) }},
		{"norm 1", normal(3, 4), func(x *Var) *Var { return x.Norm(1, -1) }},
		{"norm 3", normal(3, 4), func(x *Var) *Var { return x.Norm(3, 0) }},
		{"norm 1.5", normal(3, 4), func(x *Var) *Var { return x.Norm(1.5) }},
		{"norm 0.5", pos(3, 4), func(x *Var) *Var { return x.Neg().Norm(0.5, 1) }},
		{"norm inf", normal(3, 4), func(x *Var) *Var { return x.Norm(math.Inf(1), 1) }},
		{"norm -inf", normal(3, 4), func(x *Var) *Var { return x.NormKeepDim(math.Inf(-1), 0) }},
		{"normalize rows", normal(3, 4), func(x *Var) *Var { return x.Div(x.NormKeepDim(2, 1)) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for seed := uint64(1); seed <= 2; seed++ {
				in := tc.in(tensor.NewGenerator(seed))
				require.NoError(t, GradCheck(func(x []*Var) *Var { return tc.f(x[0]) }, in))
			}
		})
	}
}

// TestNormGradientAtZero: like PyTorch, the gradient of a zero norm is 0
// (not NaN), and p = 0 has a zero gradient.
func TestNormGradientAtZero(t *testing.T) {
	for _, p := range []float64{2, 3, 0.5, 1, math.Inf(1), 0} {
		x := Param(tensor.Of(tensor.Float64).Zeros(2, 3))
		x.Norm(p, 1).Sum().Backward()
		require.Equal(t, make([]float64, 6), x.Grad().Float64s(), "p = %v", p)
	}
}

// TestTiesShareTheInfNormGradient: elements tied for the largest
// magnitude share the gradient evenly, as torch.linalg.vector_norm's
// backward does.
func TestTiesShareTheInfNormGradient(t *testing.T) {
	x := Param(tensor.FromSlice([]float64{-2, 1, 2, 0.5}))
	x.Norm(math.Inf(1)).Backward()
	require.Equal(t, []float64{-0.5, 0, 0.5, 0}, x.Grad().Float64s())
}

// TestSortRoutesGradients: Sort's indices are a plain tensor and the
// sorted values route each gradient back to its source position.
func TestSortRoutesGradients(t *testing.T) {
	x := Param(tensor.FromSlice([]float64{3, 1, 2}))
	v, idx := x.Sort(0, false)
	require.Equal(t, []int64{1, 2, 0}, idx.Int64s())
	v.Mul(tensor.FromSlice([]float64{10, 20, 30})).Sum().Backward()
	require.Equal(t, []float64{30, 10, 20}, x.Grad().Float64s())
}
