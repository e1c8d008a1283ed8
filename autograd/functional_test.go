package autograd

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/tensor"
)

func uniform(gen *tensor.Generator, lo, hi float64, shape ...int) *tensor.Tensor {
	return tensor.Of(tensor.Float64).WithGenerator(gen).Uniform(lo, hi, shape...)
}

type gradCase struct {
	name string
	in   func(g *tensor.Generator) []*tensor.Tensor
	f    func(x []*Var) *Var
}

func randns(shapes ...[]int) func(g *tensor.Generator) []*tensor.Tensor {
	return func(g *tensor.Generator) []*tensor.Tensor {
		out := make([]*tensor.Tensor, len(shapes))
		for i, s := range shapes {
			out[i] = randn(g, s...)
		}
		return out
	}
}

func runGradCases(t *testing.T, cases []gradCase) {
	t.Helper()
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			gen := tensor.NewGenerator(uint64(100 + i))
			require.NoError(t, GradCheck(c.f, c.in(gen)...))
		})
	}
}

func s(d ...int) []int { return d }

func TestGradCheckLinear(t *testing.T) {
	runGradCases(t, []gradCase{
		{"1-D input", randns(s(3), s(4, 3), s(4)), func(x []*Var) *Var { return Linear(x[0], x[1], x[2]) }},
		{"batch", randns(s(5, 3), s(2, 3), s(2)), func(x []*Var) *Var { return Linear(x[0], x[1], x[2]) }},
		{"3-D no bias", randns(s(2, 3, 3), s(4, 3)), func(x []*Var) *Var { return Linear(x[0], x[1], nil) }},
		{"transposed input", randns(s(3, 5), s(2, 3), s(2)), func(x []*Var) *Var { return Linear(x[0].T(), x[1], x[2]) }},
	})
}

func TestGradCheckConv2d(t *testing.T) {
	conv := func(o Conv2dOptions) func(x []*Var) *Var {
		return func(x []*Var) *Var { return Conv2d(x[0], x[1], x[2], o) }
	}
	runGradCases(t, []gradCase{
		{"3x3", randns(s(2, 3, 5, 5), s(4, 3, 3, 3), s(4)), conv(Conv2dOptions{})},
		{"stride 2 pad 1", randns(s(2, 2, 5, 6), s(3, 2, 3, 3), s(3)), conv(Conv2dOptions{Stride: [2]int{2, 2}, Padding: [2]int{1, 1}})},
		{"rect dilated", randns(s(1, 2, 6, 7), s(2, 2, 2, 3), s(2)), conv(Conv2dOptions{Stride: [2]int{2, 1}, Padding: [2]int{0, 2}, Dilation: [2]int{1, 2}})},
		{"1x1", randns(s(2, 3, 3, 2), s(2, 3, 1, 1), s(2)), conv(Conv2dOptions{})},
		{"pad 2 stride 3", randns(s(1, 1, 4, 4), s(2, 1, 3, 3), s(2)), conv(Conv2dOptions{Stride: [2]int{3, 3}, Padding: [2]int{2, 2}})},
		{"no bias", randns(s(2, 2, 4, 4), s(3, 2, 2, 2)), func(x []*Var) *Var {
			return Conv2d(x[0], x[1], nil, Conv2dOptions{Padding: [2]int{1, 0}})
		}},
		{"strided input", randns(s(2, 2, 5, 4), s(3, 2, 3, 2), s(3)), func(x []*Var) *Var {
			return Conv2d(x[0].Transpose(2, 3), x[1], x[2], Conv2dOptions{Padding: [2]int{1, 1}})
		}},
	})
}

func TestGradCheckPooling(t *testing.T) {
	pool := func(f func(*Var, Pool2dOptions) *Var, o Pool2dOptions) func(x []*Var) *Var {
		return func(x []*Var) *Var { return f(x[0], o) }
	}
	k := func(kh, kw, sh, sw, ph, pw int) Pool2dOptions {
		return Pool2dOptions{Kernel: [2]int{kh, kw}, Stride: [2]int{sh, sw}, Padding: [2]int{ph, pw}}
	}
	runGradCases(t, []gradCase{
		{"max 2x2", randns(s(2, 2, 4, 4)), pool(MaxPool2d, k(2, 2, 0, 0, 0, 0))},
		{"max 3x3 s2 p1", randns(s(1, 2, 5, 6)), pool(MaxPool2d, k(3, 3, 2, 2, 1, 1))},
		{"max overlapping rect", randns(s(2, 1, 4, 7)), pool(MaxPool2d, k(2, 3, 1, 2, 0, 1))},
		{"avg 2x2", randns(s(2, 2, 4, 4)), pool(AvgPool2d, k(2, 2, 0, 0, 0, 0))},
		{"avg 3x3 s1 p1", randns(s(1, 2, 4, 5)), pool(AvgPool2d, k(3, 3, 1, 1, 1, 1))},
		{"avg rect odd", randns(s(2, 1, 5, 5)), pool(AvgPool2d, k(3, 2, 2, 1, 0, 0))},
	})
}

func TestGradCheckBatchNormPReLUDropout(t *testing.T) {
	bn := func(training, affine bool) func(x []*Var) *Var {
		return func(x []*Var) *Var {
			c := x[0].Size(1)
			rm := tensor.Of(tensor.Float64).Zeros(c).Add(0.3)
			rv := tensor.Of(tensor.Float64).Ones(c).Mul(1.7)
			if affine {
				return BatchNorm(x[0], rm, rv, x[1], x[2], training, 0.1, 1e-5)
			}
			return BatchNorm(x[0], rm, rv, nil, nil, training, 0.1, 1e-5)
		}
	}
	runGradCases(t, []gradCase{
		{"bn1d train", randns(s(5, 3), s(3), s(3)), bn(true, true)},
		{"bn1d 3-D train", randns(s(3, 2, 4), s(2), s(2)), bn(true, true)},
		{"bn2d train", randns(s(2, 3, 2, 3), s(3), s(3)), bn(true, true)},
		{"bn2d train no affine", randns(s(3, 2, 2, 2)), bn(true, false)},
		{"bn2d eval", randns(s(2, 3, 2, 2), s(3), s(3)), bn(false, true)},
		{"prelu shared", randns(s(3, 4), s(1)), func(x []*Var) *Var { return PReLU(x[0], x[1]) }},
		{"prelu per channel", randns(s(2, 3, 2, 2), s(3)), func(x []*Var) *Var { return PReLU(x[0], x[1]) }},
		{"dropout", randns(s(4, 5)), func(x []*Var) *Var { return Dropout(x[0], 0.4, tensor.NewGenerator(7)) }},
	})
}

func TestGradCheckLosses(t *testing.T) {
	labels := tensor.FromSlice([]int64{2, 0, 4, 1})
	kdLabels := tensor.FromSlice([]int64{0, 2, 1, 1, 2, 0, 0, 1}, 2, 2, 2)
	two := func(shape ...int) func(g *tensor.Generator) []*tensor.Tensor { return randns(shape, shape) }
	probs := func(g *tensor.Generator) []*tensor.Tensor {
		return []*tensor.Tensor{uniform(g, 0.1, 0.9, 3, 4), uniform(g, 0, 1, 3, 4)}
	}
	var cases []gradCase
	for _, r := range []Reduction{ReduceMean, ReduceSum, ReduceNone} {
		cases = append(cases,
			gradCase{"mse " + r.String(), two(3, 4), func(x []*Var) *Var { return MSE(x[0], x[1], r) }},
			gradCase{"l1 " + r.String(), two(3, 4), func(x []*Var) *Var { return L1(x[0], x[1], r) }},
			gradCase{"bce " + r.String(), probs, func(x []*Var) *Var { return BCE(x[0], x[1], r) }},
			gradCase{"bce logits " + r.String(), func(g *tensor.Generator) []*tensor.Tensor {
				return []*tensor.Tensor{randn(g, 3, 4).Mul(3), uniform(g, 0, 1, 3, 4)}
			}, func(x []*Var) *Var { return BCEWithLogits(x[0], x[1], r) }},
			gradCase{"cross entropy " + r.String(), randns(s(4, 5)), func(x []*Var) *Var { return CrossEntropy(x[0], labels, r) }},
			gradCase{"cross entropy k-dim " + r.String(), randns(s(2, 3, 2, 2)), func(x []*Var) *Var { return CrossEntropy(x[0], kdLabels, r) }},
			gradCase{"cross entropy unbatched " + r.String(), randns(s(5)), func(x []*Var) *Var { return CrossEntropy(x[0], tensor.Scalar(int64(3)), r) }},
			gradCase{"nll " + r.String(), randns(s(4, 5)), func(x []*Var) *Var { return NLL(x[0].LogSoftmax(1), labels, r) }},
			gradCase{"nll k-dim " + r.String(), randns(s(2, 3, 2, 2)), func(x []*Var) *Var { return NLL(x[0], kdLabels, r) }},
		)
	}
	runGradCases(t, cases)
}

func TestCrossEntropyEqualsLogSoftmaxNLL(t *testing.T) {
	x := Param(randn(tensor.NewGenerator(5), 6, 4))
	labels := tensor.FromSlice([]int64{3, 0, 1, 2, 2, 0})
	ce := CrossEntropy(x, labels, ReduceMean)
	ce.Backward()
	gce := x.Grad().Float64s()
	x.ZeroGrad()
	nll := NLL(x.LogSoftmax(1), labels, ReduceMean)
	nll.Backward()
	require.InDelta(t, nll.Item(), ce.Item(), 1e-12)
	require.InDeltaSlice(t, x.Grad().Float64s(), gce, 1e-12)
}

func TestLossesAreStable(t *testing.T) {
	// Huge logits overflow a naive softmax or sigmoid; the fused forms stay exact.
	x := Param(tensor.FromSlice([]float64{1000, -1000, 0, 2000}, 2, 2))
	ce := CrossEntropy(x, tensor.FromSlice([]int64{1, 0}), ReduceSum)
	require.InDelta(t, 2000+2000, ce.Item(), 1e-9)
	ce.Backward()
	require.InDeltaSlice(t, []float64{1, -1, -1, 1}, x.Grad().Float64s(), 1e-12)

	z := Param(tensor.FromSlice([]float64{800, -800}))
	bl := BCEWithLogits(z, Const(tensor.FromSlice([]float64{0, 0})), ReduceNone)
	require.Equal(t, []float64{800, 0}, bl.Detach().Float64s())

	// BCE clamps the logarithms at -100, like PyTorch.
	p := Param(tensor.FromSlice([]float64{0, 1}))
	b := BCE(p, Const(tensor.FromSlice([]float64{1, 1})), ReduceNone)
	require.Equal(t, []float64{100, 0}, b.Detach().Float64s())
	b.Sum().Backward()
	require.False(t, math.IsNaN(p.Grad().Float64s()[0]))
}

func TestFunctionalErrors(t *testing.T) {
	x4 := Const(tensor.Of(tensor.Float64).Zeros(2, 3, 5, 5))
	w := Const(tensor.Of(tensor.Float64).Zeros(4, 3, 3, 3))
	cases := []struct {
		name string
		f    func()
		kind error
		msg  string
	}{
		{"linear features", func() { Linear(Const(tensor.Zeros(2, 3)), Const(tensor.Zeros(4, 5)), nil) }, tensor.ErrShape, "input features"},
		{"linear bias", func() { Linear(Const(tensor.Zeros(2, 3)), Const(tensor.Zeros(4, 3)), Const(tensor.Zeros(3))) }, tensor.ErrShape, "bias must be [4]"},
		{"linear dtype", func() { Linear(Const(tensor.Zeros(2, 3)), Const(tensor.Of(tensor.Float64).Zeros(4, 3)), nil) }, tensor.ErrDType, "differ"},
		{"conv channels", func() { Conv2d(Const(tensor.Of(tensor.Float64).Zeros(2, 2, 5, 5)), w, nil, Conv2dOptions{}) }, tensor.ErrShape, "channels"},
		{"conv rank", func() { Conv2d(Const(tensor.Zeros(3, 5, 5)), w, nil, Conv2dOptions{}) }, tensor.ErrShape, "[N, C, H, W]"},
		{"conv too small", func() { Conv2d(Const(tensor.Of(tensor.Float64).Zeros(1, 3, 2, 2)), w, nil, Conv2dOptions{}) }, tensor.ErrShape, "larger than the input"},
		{"conv negative padding", func() { Conv2d(x4, w, nil, Conv2dOptions{Padding: [2]int{-1, 0}}) }, tensor.ErrArgument, "padding"},
		{"pool padding", func() { MaxPool2d(x4, Pool2dOptions{Kernel: [2]int{2, 2}, Padding: [2]int{2, 0}}) }, tensor.ErrArgument, "half the kernel"},
		{"pool kernel", func() { AvgPool2d(x4, Pool2dOptions{}) }, tensor.ErrArgument, "kernel size"},
		{"dropout p", func() { Dropout(x4, 1.5, nil) }, tensor.ErrArgument, "outside [0, 1]"},
		{"bn one value", func() {
			BatchNorm(Const(tensor.Zeros(1, 3)), nil, nil, nil, nil, true, 0.1, 1e-5)
		}, tensor.ErrShape, "more than 1 value per channel"},
		{"bn eval no stats", func() { BatchNorm(Const(tensor.Zeros(2, 3)), nil, nil, nil, nil, false, 0.1, 1e-5) }, tensor.ErrArgument, "running statistics"},
		{"mse shapes", func() { MSE(Const(tensor.Zeros(4, 1)), Const(tensor.Zeros(4)), ReduceMean) }, tensor.ErrShape, "differ"},
		{"ce label dtype", func() { CrossEntropy(Const(tensor.Zeros(2, 3)), tensor.Zeros(2), ReduceMean) }, tensor.ErrDType, "Int64"},
		{"ce label shape", func() { CrossEntropy(Const(tensor.Zeros(2, 3)), tensor.FromSlice([]int64{1, 2, 0}), ReduceMean) }, tensor.ErrShape, "labels of shape [2]"},
		{"ce label range", func() { CrossEntropy(Const(tensor.Zeros(2, 3)), tensor.FromSlice([]int64{1, 3}), ReduceMean) }, tensor.ErrIndex, "outside [0, 3)"},
		{"nll label range", func() { NLL(Const(tensor.Zeros(2, 3)), tensor.FromSlice([]int64{-1, 0}), ReduceMean) }, tensor.ErrIndex, "outside [0, 3)"},
		{"reduction", func() { MSE(Const(tensor.Zeros(2)), Const(tensor.Zeros(2)), Reduction(9)) }, tensor.ErrArgument, "unknown reduction"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := tensor.Catch(c.f)
			require.Error(t, err)
			require.ErrorIs(t, err, c.kind)
			require.ErrorContains(t, err, c.msg)
		})
	}
}

func TestDropoutScalesAndIsReproducible(t *testing.T) {
	x := Const(tensor.Ones(200, 50))
	a := Dropout(x, 0.3, tensor.NewGenerator(11)).Detach().Float32s()
	b := Dropout(x, 0.3, tensor.NewGenerator(11)).Detach().Float32s()
	require.Equal(t, a, b)
	kept := 0
	for _, v := range a {
		if v != 0 {
			require.InDelta(t, 1/0.7, v, 1e-6)
			kept++
		}
	}
	frac := float64(kept) / float64(len(a))
	require.InDelta(t, 0.7, frac, 0.03, "kept fraction %v", frac)
	require.Same(t, x, Dropout(x, 0, nil))
	require.Equal(t, 0.0, Dropout(x, 1, nil).Detach().Sum().Item())
}

func TestConvSkipsUnneededInputGradient(t *testing.T) {
	// The input of the first layer takes no gradient: the rule must not
	// compute (or return) one, and the weight gradient must still be right.
	x := Const(randn(tensor.NewGenerator(1), 1, 1, 3, 3))
	w := Param(tensor.Of(tensor.Float64).Ones(1, 1, 2, 2))
	Conv2d(x, w, nil, Conv2dOptions{}).Sum().Backward()
	xs := x.Detach().Float64s()
	want := []float64{
		xs[0] + xs[1] + xs[3] + xs[4], xs[1] + xs[2] + xs[4] + xs[5],
		xs[3] + xs[4] + xs[6] + xs[7], xs[4] + xs[5] + xs[7] + xs[8],
	}
	require.InDeltaSlice(t, want, w.Grad().Float64s(), 1e-12)
	require.Nil(t, x.Grad())
}
