package autograd

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/tensor"
)

func TestGradCheckCatchesAWrongRule(t *testing.T) {
	wrong := func(x []*Var) *Var { return record("BadExp", x[0].data.Exp(), identityRule, x[0]) }
	err := GradCheck(wrong, randn(tensor.NewGenerator(3), 4))
	require.ErrorContains(t, err, "analytic gradient")
}

func TestGradientsAccumulateUntilZeroGrad(t *testing.T) {
	x := Param(tensor.FromSlice([]float64{1, 2, 3}))
	for range 2 {
		x.Mul(x).Sum().Backward()
	}
	require.Equal(t, []float64{4, 8, 12}, x.Grad().Float64s())
	x.ZeroGrad()
	require.Nil(t, x.Grad())
	x.Sum().Backward()
	require.Equal(t, []float64{1, 1, 1}, x.Grad().Float64s())
}

func TestBackwardWithUpstreamGradient(t *testing.T) {
	x := Param(tensor.FromSlice([]float64{1, 2, 3}))
	y := x.Mul(x)
	y.BackwardWith(tensor.FromSlice([]float64{1, 0, -1}))
	require.Equal(t, []float64{2, 0, -6}, x.Grad().Float64s())
}

func TestBackwardErrors(t *testing.T) {
	x := Param(tensor.FromSlice([]float64{1, 2}))
	err := tensor.Catch(func() { x.Mul(2).Backward() })
	require.ErrorIs(t, err, tensor.ErrShape)
	require.ErrorContains(t, err, "needs a scalar")

	c := Const(tensor.FromSlice([]float64{1, 2}))
	err = tensor.Catch(func() { c.Sum().Backward() })
	require.ErrorContains(t, err, "does not require gradients")

	err = tensor.Catch(func() { Param(tensor.FromSlice([]int64{1})) })
	require.ErrorIs(t, err, tensor.ErrDType)
}

func TestConstsTakeNoGradient(t *testing.T) {
	x := Param(tensor.FromSlice([]float64{1, 2}))
	c := Const(tensor.FromSlice([]float64{3, 4}))
	x.Mul(c).Sum().Backward()
	require.Nil(t, c.Grad())
	require.Equal(t, []float64{3, 4}, x.Grad().Float64s())
}

func TestDetachSharesMemoryAndLeavesTheGraph(t *testing.T) {
	x := Param(tensor.FromSlice([]float32{1, 2}))
	y := x.Mul(3)
	d := y.Detach()
	require.Equal(t, []float32{3, 6}, d.Float32s())
	require.True(t, x.Detach().SharesMemory(x.Detach()))
	require.False(t, Const(d).RequiresGrad())
}

func TestNoGrad(t *testing.T) {
	x := Param(tensor.FromSlice([]float64{1, 2}))
	var y *Var
	NoGrad(func() {
		require.False(t, IsGradEnabled())
		NoGrad(func() { require.False(t, IsGradEnabled()) })
		require.False(t, IsGradEnabled())
		y = x.Mul(2)
	})
	require.True(t, IsGradEnabled())
	require.False(t, y.RequiresGrad())
}

// TestNoGradIsPerGoroutine runs one goroutine inside NoGrad while another
// trains: the second must still record its graph.
func TestNoGradIsPerGoroutine(t *testing.T) {
	inside, release := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		NoGrad(func() {
			close(inside)
			<-release
		})
	}()
	<-inside
	x := Param(tensor.FromSlice([]float64{1, 2}))
	y := x.Mul(x).Sum()
	require.True(t, IsGradEnabled())
	require.True(t, y.RequiresGrad())
	y.Backward()
	require.Equal(t, []float64{2, 4}, x.Grad().Float64s())
	close(release)
	wg.Wait()
}

// TestClassicTwoTwoTwoNetwork reproduces the well-known worked example of
// backpropagation: a 2-2-2 sigmoid network without biases, squared error
// halved (E_total), one gradient step with learning rate 0.5.
func TestClassicTwoTwoTwoNetwork(t *testing.T) {
	x := Const(tensor.FromSlice([]float64{0.1, 0.2}, 1, 2))
	target := Const(tensor.FromSlice([]float64{0.4, 0.6}, 1, 2))
	// Rows are output units: w1, w2 feed h1; w3, w4 feed h2; w5, w6 feed o1; w7, w8 feed o2.
	w1 := Param(tensor.FromSlice([]float64{0.3, 0.25, 0.4, 0.35}, 2, 2))
	w2 := Param(tensor.FromSlice([]float64{0.45, 0.4, 0.7, 0.6}, 2, 2))

	h := x.MatMul(w1.T()).Sigmoid()
	out := h.MatMul(w2.T()).Sigmoid()
	loss := out.Sub(target).Square().Sum().Mul(0.5)
	require.InDelta(t, 0.02397190, loss.Item(), 5e-9)

	loss.Backward()
	const lr = 0.5
	newW2 := w2.Detach().Sub(w2.Grad().Mul(lr)).Float64s()
	newW1 := w1.Detach().Sub(w1.Grad().Mul(lr)).Float64s()
	require.InDelta(t, 0.43703857, newW2[0], 5e-9) // w5
	require.InDelta(t, 0.38685205, newW2[1], 5e-9) // w6
	require.InDelta(t, 0.29959556, newW1[0], 5e-9) // w1
	require.InDelta(t, 0.24919112, newW1[1], 5e-9) // w2
}

func TestVarString(t *testing.T) {
	x := Param(tensor.FromSlice([]float32{1, 2}))
	require.Equal(t, "tensor([1., 2.], grad_fn=<Param>)", x.String())
	require.Equal(t, "tensor([2., 4.], grad_fn=<MulBackward>)", x.Mul(2).String())
	require.Equal(t, "tensor([1., 2.])", Const(x.Detach()).String())
}
