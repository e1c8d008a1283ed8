package autograd

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/tensor"
)

// floatBits returns a float tensor's values as raw bits, so that -0, NaN
// and every rounding difference count.
func floatBits(t *testing.T, x *tensor.Tensor) []uint64 {
	t.Helper()
	vals := x.As(tensor.Float64).Float64s()
	out := make([]uint64, len(vals))
	for i, v := range vals {
		out[i] = math.Float64bits(v)
	}
	return out
}

// TestDropoutMask checks that the fused dropout, forward and backward,
// gives bit for bit x and its gradient times the scaled mask of the
// Philox counters it reserved, and that it advances the generator's
// Philox counter by one per element: checkpoints and seeded runs keep
// their random streams. (That the mask is Bernoulli(1-p) of those
// counters is checked at the backend, in package device.)
func TestDropoutMask(t *testing.T) {
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		for _, c := range []struct {
			shape      []int
			p          float64
			transposed bool
		}{
			{[]int{7}, 0.5, false},
			{[]int{64, 33}, 0.1, false},
			{[]int{33, 64}, 0.3, true},
			{[]int{2, 3, 5}, 0.9, false},
		} {
			t.Run(fmt.Sprintf("%v/%v/p=%v/T=%v", dt, c.shape, c.p, c.transposed), func(t *testing.T) {
				src := tensor.Of(dt).WithGenerator(tensor.NewGenerator(3))
				x, g := src.Randn(c.shape...), src.Randn(c.shape...)
				if c.transposed {
					x = x.T()
					g = src.Randn(x.Shape()...).T().Contiguous().T()
				}
				shape := x.Shape()
				gen := tensor.NewGenerator(42)
				tensor.Options{}.WithGenerator(gen).Rand(5) // the Mersenne Twister moves; the Philox counter does not
				seed, offset := gen.PhiloxState()

				xv := Param(x)
				y := Dropout(xv, c.p, gen)
				y.BackwardWith(g)

				// The mask of counters offset.. under seed, applied to ones.
				mask := tensorOps.DropoutWith(tensor.Of(dt).Ones(shape...), c.p, seed, offset)
				if x.Numel() >= 1000 {
					kept := mask.Ne(0.0).As(tensor.Float64).Mean().Item()
					require.InDelta(t, 1-c.p, kept, 0.05, "share kept")
				}
				require.Equal(t, floatBits(t, x.Mul(mask)), floatBits(t, y.Detach()), "forward")
				require.Equal(t, floatBits(t, g.Mul(mask)), floatBits(t, xv.Grad()), "backward")
				s1, o1 := gen.PhiloxState()
				require.Equal(t, [2]uint64{seed, offset + uint64(x.Numel())}, [2]uint64{s1, o1}, "Philox counters used")
			})
		}
	}
}

// TestDropoutDefaultGenerator checks that a nil generator draws from, and
// advances, the default one's Philox counter, and only that.
func TestDropoutDefaultGenerator(t *testing.T) {
	x := tensor.Randn(10, 20)
	tensor.ManualSeed(9)
	before := tensor.DefaultGenerator().State()
	y := Dropout(Const(x), 0.4, nil).Detach()
	seed, off := tensor.DefaultGenerator().PhiloxState()
	require.Equal(t, [2]uint64{9, 200}, [2]uint64{seed, off})
	after := tensor.DefaultGenerator().State()
	require.Equal(t, before[:5056], after[:5056], "dropout leaves the Mersenne Twister where it was")
	mask := tensorOps.DropoutWith(tensor.OnesLike(x), 0.4, 9, 0)
	require.Equal(t, floatBits(t, x.Mul(mask)), floatBits(t, y))
}

// TestActivationGradFallbacks covers the gradients that do not take the
// fused path in full: LeakyRelu and Elu with negative parameters decide
// their branch from the input.
func TestActivationGradFallbacks(t *testing.T) {
	gen := tensor.NewGenerator(5)
	for _, c := range []struct {
		name string
		f    func(x []*Var) *Var
	}{
		{"leaky relu negative slope", func(x []*Var) *Var { return x[0].LeakyRelu(-0.3) }},
		{"elu negative alpha", func(x []*Var) *Var { return x[0].Elu(-0.5) }},
		{"elu zero alpha", func(x []*Var) *Var { return x[0].Elu(0) }},
		{"relu of a transposed input", func(x []*Var) *Var { return x[0].T().Relu() }},
		{"clamp min", func(x []*Var) *Var { return x[0].ClampMin(0.2) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			require.NoError(t, GradCheck(c.f, randn(gen, 4, 5)))
		})
	}
}

// TestReluGradientAtZero pins PyTorch's convention: the gradient of relu
// at exactly 0 is 0, and a NaN input passes no gradient.
func TestReluGradientAtZero(t *testing.T) {
	x := Param(tensor.FromSlice([]float32{-1, 0, 2, float32(math.NaN())}))
	x.Relu().BackwardWith(tensor.FromSlice([]float32{5, 5, 5, 5}))
	require.Equal(t, []float32{0, 0, 5, 0}, x.Grad().Float32s())
}

func TestActivationGradErrors(t *testing.T) {
	g := tensor.Randn(3)
	for _, c := range []struct {
		name string
		f    func()
		kind error
		msg  string
	}{
		{"no fused gradient", func() { tensorOps.ActivationGrad(device.Exp, g, g, 0, 0) }, tensor.ErrArgument, "exp has no fused gradient"},
		{"negative elu alpha", func() { tensorOps.ActivationGrad(device.Elu, g, g, -1, 0) }, tensor.ErrArgument, "needs alpha >= 0"},
		{"shapes", func() { tensorOps.ActivationGrad(device.Relu, g, tensor.Randn(4), 0, 0) }, tensor.ErrShape, "differ in shape"},
		{"dtypes", func() { tensorOps.ActivationGrad(device.Relu, g, g.As(tensor.Float64), 0, 0) }, tensor.ErrDType, "dtypes float32 and float64 differ"},
		{"ints", func() { tensorOps.ActivationGrad(device.Relu, g.As(tensor.Int64), g.As(tensor.Int64), 0, 0) }, tensor.ErrDType, "needs a float32 or float64 tensor"},
		{"dropout p", func() { tensorOps.DropoutWith(g, -1, 0, 0) }, tensor.ErrArgument, "outside [0, 1]"},
		{"dropout ints", func() { tensorOps.Dropout(g.As(tensor.Int64), 0.5, nil) }, tensor.ErrDType, "needs a float32 or float64 tensor"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := tensor.Catch(c.f)
			require.ErrorIs(t, err, c.kind)
			require.ErrorContains(t, err, c.msg)
		})
	}
}
