package autograd

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/internal/prim"
	"github.com/nabla-go/nabla/tensor"
)

// fusedActivations covers every kind, and LeakyReLU and ELU with a
// negative parameter, where the backward pass rebuilds the
// pre-activation instead of reading the output.
var fusedActivations = []prim.Activation{
	{Kind: prim.ActNone},
	{Kind: prim.ActRelu},
	{Kind: prim.ActLeakyRelu, Alpha: 0.01},
	{Kind: prim.ActLeakyRelu, Alpha: -0.2},
	{Kind: prim.ActSigmoid},
	{Kind: prim.ActTanh},
	{Kind: prim.ActElu, Alpha: 1},
	{Kind: prim.ActElu, Alpha: -0.5},
	{Kind: prim.ActSoftplus},
	{Kind: prim.ActGelu},
}

// applyVar applies act with the Var methods: the unfused chain.
func applyVar(act prim.Activation, v *Var) *Var {
	switch act.Kind {
	case prim.ActRelu:
		return v.Relu()
	case prim.ActLeakyRelu:
		return v.LeakyRelu(act.Alpha)
	case prim.ActSigmoid:
		return v.Sigmoid()
	case prim.ActTanh:
		return v.Tanh()
	case prim.ActElu:
		return v.Elu(act.Alpha)
	case prim.ActSoftplus:
		return v.Softplus()
	case prim.ActGelu:
		return v.Gelu()
	}
	return v
}

// rawBits returns a float tensor's elements as bits, so that -0 and every
// rounding difference count.
func rawBits(x *tensor.Tensor) []uint64 {
	if x == nil {
		return nil
	}
	v := x.As(tensor.Float64).Contiguous().Float64s()
	out := make([]uint64, len(v))
	for i, f := range v {
		out[i] = math.Float64bits(f)
	}
	return out
}

func TestLinearActivationMatchesUnfused(t *testing.T) {
	gen := tensor.NewGenerator(21)
	o := tensor.Of(tensor.Float64).WithGenerator(gen)
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		for _, act := range fusedActivations {
			for _, xShape := range [][]int{{5, 7}, {2, 3, 7}, {7}} {
				for _, bias := range []bool{true, false} {
					for _, xGrad := range []bool{true, false} {
						name := fmt.Sprintf("%v/%v/x%v/bias=%v/xgrad=%v", dt, act, xShape, bias, xGrad)
						// Values around 0 exercise both branches of the
						// piecewise activations; a zero product exercises ties.
						x := o.Uniform(-3, 3, xShape...).As(dt)
						w := o.Uniform(-1, 1, 6, 7).As(dt)
						b := o.Uniform(-1, 1, 6).As(dt)
						upstream := o.Uniform(-1, 1, x.Numel()/7*6).As(dt)
						run := func(fused bool) (out *tensor.Tensor, grads []*tensor.Tensor) {
							xv, wv, bv := Const(x.Clone()), Param(w.Clone()), Param(b.Clone())
							if xGrad {
								xv = Param(x.Clone())
							}
							if !bias {
								bv = nil
							}
							var y *Var
							if fused {
								y = linearActivation(xv, wv, bv, act)
							} else {
								y = applyVar(act, Linear(xv, wv, bv))
							}
							y.BackwardWith(upstream.Reshape(y.Shape()...))
							grads = []*tensor.Tensor{xv.Grad(), wv.Grad()}
							if bv != nil {
								grads = append(grads, bv.Grad())
							}
							return y.Detach(), grads
						}
						wantOut, wantGrads := run(false)
						gotOut, gotGrads := run(true)
						require.Equal(t, wantOut.Shape(), gotOut.Shape(), name)
						require.Equal(t, wantOut.DType(), gotOut.DType(), name)
						require.Equal(t, rawBits(wantOut), rawBits(gotOut), name+": output")
						for i := range wantGrads {
							require.Equal(t, rawBits(wantGrads[i]), rawBits(gotGrads[i]), "%s: gradient of input %d", name, i)
						}
					}
				}
			}
		}
	}
}

func TestGradCheckLinearActivation(t *testing.T) {
	var cases []gradCase
	for _, act := range fusedActivations {
		cases = append(cases,
			gradCase{act.String() + "/batch", randns(s(5, 3), s(4, 3), s(4)),
				func(x []*Var) *Var { return linearActivation(x[0], x[1], x[2], act) }},
			gradCase{act.String() + "/3-D no bias", randns(s(2, 3, 3), s(4, 3)),
				func(x []*Var) *Var { return linearActivation(x[0], x[1], nil, act) }},
			gradCase{act.String() + "/transposed input", randns(s(3, 5), s(2, 3), s(2)),
				func(x []*Var) *Var { return linearActivation(x[0].T(), x[1], x[2], act) }},
		)
	}
	runGradCases(t, cases)
}

// TestLinearActivationNoGrad: without gradients the epilogue runs in place
// and the result is a constant with the same values.
func TestLinearActivationNoGrad(t *testing.T) {
	gen := tensor.NewGenerator(22)
	x, w, b := randn(gen, 4, 3), Param(randn(gen, 2, 3)), Param(randn(gen, 2))
	act := prim.Activation{Kind: prim.ActGelu}
	want := linearActivation(Const(x), w, b, act)
	require.True(t, want.RequiresGrad())
	var got *Var
	NoGrad(func() { got = linearActivation(Const(x), w, b, act) })
	require.False(t, got.RequiresGrad())
	require.Equal(t, rawBits(want.Detach()), rawBits(got.Detach()))
	consts := linearActivation(Const(x), Const(w.Detach()), Const(b.Detach()), act)
	require.False(t, consts.RequiresGrad())
	require.Equal(t, rawBits(want.Detach()), rawBits(consts.Detach()))
}

func TestLinearActivationErrors(t *testing.T) {
	x, w, b := Const(tensor.Ones(2, 3)), Param(tensor.Ones(4, 3)), Param(tensor.Ones(4))
	relu := prim.Activation{Kind: prim.ActRelu}
	cases := []struct {
		name string
		f    func()
		msg  string
	}{
		{"weight rank", func() { linearActivation(x, b, nil, relu) }, "LinearActivation: weight must be [out, in]"},
		{"input features", func() { linearActivation(Const(tensor.Ones(2, 5)), w, b, relu) }, "input of shape [2 5] does not end in the 3 input features"},
		{"bias shape", func() { linearActivation(x, w, Param(tensor.Ones(3)), relu) }, "bias must be [4], got shape [3]"},
		{"dtype", func() { linearActivation(x, w, Param(tensor.Ones(4).As(tensor.Float64)), relu) }, "dtypes"},
		{"activation", func() { linearActivation(x, w, b, prim.Activation{Kind: 77}) }, "unknown activation Activation(77)"},
	}
	for _, c := range cases {
		err := tensor.Catch(c.f)
		require.ErrorContains(t, err, c.msg, c.name)
	}
}

// TestGradAccumulatesInPlace: from the second Backward on, a leaf's
// gradient is added into the tensor the first one made, as PyTorch does,
// and a gradient installed with SetGrad is never written.
func TestGradAccumulatesInPlace(t *testing.T) {
	w := Param(tensor.FromSlice([]float64{1, 2, 3}))
	loss := func() *Var { return w.Mul(w).Sum() } // d/dw = 2w
	loss().Backward()
	first := w.Grad()
	require.Equal(t, []float64{2, 4, 6}, first.Float64s())
	loss().Backward()
	require.Same(t, first, w.Grad(), "the second gradient is added in place")
	require.Equal(t, []float64{4, 8, 12}, first.Float64s())

	// A leaf used twice in one graph gets both contributions.
	w.ZeroGrad()
	w.Add(w).Sum().Backward()
	require.Equal(t, []float64{2, 2, 2}, w.Grad().Float64s())

	// SetGrad's tensor is the caller's: the next sum is a new tensor,
	// which later sums then reuse.
	mine := tensor.FromSlice([]float64{10, 10, 10})
	w.SetGrad(mine)
	loss().Backward()
	require.Equal(t, []float64{10, 10, 10}, mine.Float64s(), "SetGrad's tensor is not written")
	sum := w.Grad()
	require.NotSame(t, mine, sum)
	require.Equal(t, []float64{12, 14, 16}, sum.Float64s())
	loss().Backward()
	require.Same(t, sum, w.Grad())
	require.Equal(t, []float64{14, 18, 22}, sum.Float64s())

	// ZeroGrad and SetData start over with a fresh tensor.
	w.ZeroGrad()
	loss().Backward()
	require.NotSame(t, sum, w.Grad())
	require.Equal(t, []float64{14, 18, 22}, sum.Float64s(), "a cleared gradient is no longer written")
	w.SetData(tensor.FromSlice([]float64{1, 1, 1}))
	loss().Backward()
	require.Equal(t, []float64{2, 2, 2}, w.Grad().Float64s())
}
