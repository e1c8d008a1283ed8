package tensor_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/internal/prim"
	"github.com/nabla-go/nabla/tensor"
)

// TestBatchNormPrimitivesMatchComposedOps checks the batch-norm
// primitives against the same formulas written with elementwise ops and
// reductions, in float64, on inputs of every accepted rank.
func TestBatchNormPrimitivesMatchComposedOps(t *testing.T) {
	gen := tensor.NewGenerator(21)
	o := tensor.Of(tensor.Float64).WithGenerator(gen)
	for _, shape := range [][]int{{6, 4}, {3, 2, 5}, {2, 3, 4, 5}} {
		x := o.Randn(shape...).Mul(3).Add(7)
		c := shape[1]
		dims := []int{0}
		bshape := []int{1, c}
		for d := 2; d < len(shape); d++ {
			dims = append(dims, d)
			bshape = append(bshape, 1)
		}
		mean, variance := tensorOps.BatchNormStats(x)
		require.Equal(t, []int{c}, mean.Shape())
		require.InDeltaSlice(t, x.Mean(dims...).Float64s(), mean.Float64s(), 1e-12)
		require.InDeltaSlice(t, x.VarCorrected(0, false, dims...).Float64s(), variance.Float64s(), 1e-12)

		invstd := variance.Add(1e-5).Rsqrt()
		w, b := o.Randn(c), o.Randn(c)
		y, xhat := tensorOps.BatchNormForward(x, mean, invstd, w, b, true)
		wantXhat := x.Sub(mean.Reshape(bshape...)).Mul(invstd.Reshape(bshape...))
		require.Equal(t, shape, y.Shape())
		require.InDeltaSlice(t, wantXhat.Float64s(), xhat.Float64s(), 1e-12)
		require.InDeltaSlice(t, wantXhat.Mul(w.Reshape(bshape...)).Add(b.Reshape(bshape...)).Float64s(), y.Float64s(), 1e-12)
		plain, none := tensorOps.BatchNormForward(x, mean, invstd, nil, nil, false)
		require.Nil(t, none)
		require.InDeltaSlice(t, wantXhat.Float64s(), plain.Float64s(), 1e-12)

		g := o.Randn(shape...)
		m := float64(x.Numel() / c)
		gw := g.Mul(w.Reshape(bshape...))
		sg, sgx := gw.SumKeepDim(dims...), gw.Mul(xhat).SumKeepDim(dims...)
		for _, training := range []bool{true, false} {
			dx, dw, db := tensorOps.BatchNormBackward(g, xhat, invstd, w, training, prim.BatchNormGrads{X: true, Weight: true, Bias: true})
			want := gw.Mul(invstd.Reshape(bshape...))
			if training {
				want = gw.Sub(sg.Add(xhat.Mul(sgx)).Div(m)).Mul(invstd.Reshape(bshape...))
			}
			require.InDeltaSlice(t, want.Float64s(), dx.Float64s(), 1e-12, "training %v", training)
			require.InDeltaSlice(t, g.Mul(xhat).Sum(dims...).Float64s(), dw.Float64s(), 1e-12)
			require.InDeltaSlice(t, g.Sum(dims...).Float64s(), db.Float64s(), 1e-12)
		}
		dx, dw, db := tensorOps.BatchNormBackward(g, xhat, invstd, nil, true, prim.BatchNormGrads{X: true})
		require.Nil(t, dw)
		require.Nil(t, db)
		require.Equal(t, shape, dx.Shape())
	}
}

func TestBatchNormPrimitiveErrors(t *testing.T) {
	x := tensor.Zeros(4, 3, 2)
	v3, v4 := tensor.Zeros(3), tensor.Zeros(4)
	cases := []struct {
		name string
		f    func()
		kind error
		msg  string
	}{
		{"rank", func() { tensorOps.BatchNormStats(tensor.Zeros(5)) }, tensor.ErrShape, "[N, C, ...]"},
		{"dtype", func() { tensorOps.BatchNormStats(x.As(tensor.Int64)) }, tensor.ErrDType, "int64"},
		{"mean shape", func() { tensorOps.BatchNormForward(x, v4, v3, nil, nil, false) }, tensor.ErrShape, "mean must be [3]"},
		{"weight dtype", func() { tensorOps.BatchNormForward(x, v3, v3, v3.As(tensor.Float64), nil, false) }, tensor.ErrDType, "weight is float64"},
		{"bias shape", func() { tensorOps.BatchNormForward(x, v3, v3, nil, tensor.Zeros(3, 1), false) }, tensor.ErrShape, "bias must be [3]"},
		{"missing invstd", func() { tensorOps.BatchNormForward(x, v3, nil, nil, nil, false) }, tensor.ErrArgument, "invstd is required"},
		{"xhat shape", func() {
			tensorOps.BatchNormBackward(x, tensor.Zeros(4, 3), v3, nil, true, prim.BatchNormGrads{X: true})
		}, tensor.ErrShape, "pass the xhat"},
		{"xhat dtype", func() {
			tensorOps.BatchNormBackward(x, x.As(tensor.Float64), v3, nil, true, prim.BatchNormGrads{X: true})
		}, tensor.ErrDType, "differ"},
		{"invstd shape", func() { tensorOps.BatchNormBackward(x, x, v4, nil, false, prim.BatchNormGrads{Bias: true}) }, tensor.ErrShape, "invstd must be [3]"},
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
