package optim

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/tensor"
)

func nan() float64 { return math.NaN() }

// TestClipGradNormMatchesPyTorch compares with PyTorch 1.13.1:
//
//	a.grad = tensor([[3., -4.], [1., 2.]]); b.grad = tensor([0.5, -1., 2.]); c.grad = None
//	total = torch.nn.utils.clip_grad_norm_([a, b, c], max_norm)
func TestClipGradNormMatchesPyTorch(t *testing.T) {
	cases := []struct {
		name    string
		dtype   tensor.DType
		maxNorm float64
		total   float64
		a, b    []float64
	}{
		{"float64 clipped", tensor.Float64, 1, 5.937171043518958,
			[]float64{0.5052910675335427, -0.673721423378057, 0.16843035584451424, 0.3368607116890285},
			[]float64{0.08421517792225712, -0.16843035584451424, 0.3368607116890285}},
		{"float64 under the limit", tensor.Float64, 100, 5.937171043518958,
			[]float64{3, -4, 1, 2}, []float64{0.5, -1, 2}},
		{"float32 clipped", tensor.Float32, 1, 5.937171459197998,
			[]float64{0.5052910447120667, -0.6737213730812073, 0.16843034327030182, 0.33686068654060364},
			[]float64{0.08421517163515091, -0.16843034327030182, 0.33686068654060364}},
		{"float32 under the limit", tensor.Float32, 100, 5.937171459197998,
			[]float64{3, -4, 1, 2}, []float64{0.5, -1, 2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := tensor.Of(tc.dtype)
			a := autograd.Param(o.Zeros(2, 2))
			b := autograd.Param(o.Zeros(3))
			c := autograd.Param(o.Zeros(1))
			a.SetGrad(tensor.FromSlice([]float64{3, -4, 1, 2}, 2, 2).As(tc.dtype))
			b.SetGrad(tensor.FromSlice([]float64{0.5, -1, 2}).As(tc.dtype))
			gradA := a.Grad()
			total := ClipGradNorm([]*autograd.Var{a, b, c}, tc.maxNorm)
			tol := 1e-13
			if tc.dtype == tensor.Float32 {
				tol = 1e-6
			}
			require.InEpsilon(t, tc.total, total, tol)
			require.Same(t, gradA, a.Grad(), "clipping is in place")
			got := append(a.Grad().As(tensor.Float64).Float64s(), b.Grad().As(tensor.Float64).Float64s()...)
			want := append(append([]float64{}, tc.a...), tc.b...)
			for i := range want {
				require.InEpsilon(t, want[i], got[i], tol, "element %d", i)
			}
			require.Nil(t, c.Grad())
		})
	}
}

func TestClipGradNormEdgeCases(t *testing.T) {
	p := autograd.Param(tensor.Zeros(2))
	require.Equal(t, 0.0, ClipGradNorm([]*autograd.Var{p}, 1), "no gradients: norm 0")
	require.ErrorIs(t, tensor.Catch(func() { ClipGradNorm([]*autograd.Var{p}, -1) }), tensor.ErrArgument)
	require.ErrorIs(t, tensor.Catch(func() { ClipGradNorm([]*autograd.Var{p}, nan()) }), tensor.ErrArgument)

	// Mixed dtypes: the norm is taken in float64.
	q := autograd.Param(tensor.Of(tensor.Float64).Zeros(1))
	p.SetGrad(tensor.FromSlice([]float32{3, 0}))
	q.SetGrad(tensor.FromSlice([]float64{4}))
	require.InEpsilon(t, 5.0, ClipGradNorm([]*autograd.Var{p, q}, 1), 1e-7)
	require.InEpsilon(t, 0.8, q.Grad().Float64s()[0], 1e-6)

	// A non-finite gradient gives a non-finite norm.
	p.SetGrad(tensor.FromSlice([]float32{float32(math.Inf(1)), 0}))
	require.True(t, math.IsInf(ClipGradNorm([]*autograd.Var{p}, 1), 1))
}

func TestClipGradValue(t *testing.T) {
	p := autograd.Param(tensor.Zeros(4))
	p.SetGrad(tensor.FromSlice([]float32{-3, -0.5, 0.25, 9}))
	ClipGradValue([]*autograd.Var{p, autograd.Param(tensor.Zeros(1))}, 1)
	require.Equal(t, []float32{-1, -0.5, 0.25, 1}, p.Grad().Float32s())
	require.ErrorIs(t, tensor.Catch(func() { ClipGradValue([]*autograd.Var{p}, -1) }), tensor.ErrArgument)
}

func fmtString(v any) string { return v.(interface{ String() string }).String() }
