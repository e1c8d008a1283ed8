package tensor_test

import (
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/tensor"
)

func TestCrossEntropy(t *testing.T) {
	// x = torch.tensor([[1., 2., 3.], [0., -1., 5.]]); k = torch.tensor([2, 0])
	// F.cross_entropy(x, k, reduction='none') = [0.40760596, 5.00917448]
	// torch.logsumexp(x, 1) = [3.40760596, 5.00917448]
	x := tensor.FromSlice([]float64{1, 2, 3, 0, -1, 5}, 2, 3)
	k := tensor.FromSlice([]int64{2, 0})
	loss, lse := tensorOps.CrossEntropy(x, k)
	require.InDeltaSlice(t, []float64{0.4076059644443806, 5.0091744845917345}, loss.Float64s(), 1e-12)
	require.InDeltaSlice(t, []float64{3.4076059644443806, 5.0091744845917345}, lse.Float64s(), 1e-12)

	// The gradient is g·(softmax(x) - onehot(k)); against the unfused ops.
	g := tensor.FromSlice([]float64{0.5, -2})
	dx := tensorOps.CrossEntropyBackward(x, lse, k, g)
	onehot := tensor.FromSlice([]float64{0, 0, 1, 1, 0, 0}, 2, 3)
	want := x.Softmax(1).Sub(onehot).Mul(g.Unsqueeze(1))
	require.InDeltaSlice(t, want.Float64s(), dx.Float64s(), 1e-15)

	// A transposed float32 view and the C = 1 and M = 0 edge cases.
	xt := tensor.FromSlice([]float32{1, 0, 2, -1, 3, 5}, 3, 2).T()
	l32, _ := tensorOps.CrossEntropy(xt, k)
	require.InDeltaSlice(t, []float32{0.40760596, 5.0091745}, l32.Float32s(), 1e-6)
	one, oneLSE := tensorOps.CrossEntropy(tensor.FromSlice([]float32{7, -3}, 2, 1), tensor.FromSlice([]int64{0, 0}))
	require.Equal(t, []float32{0, 0}, one.Float32s())
	require.Equal(t, []float32{7, -3}, oneLSE.Float32s())
	empty, _ := tensorOps.CrossEntropy(tensor.Zeros(0, 4), tensor.Of(tensor.Int64).Zeros(0))
	require.Equal(t, []int{0}, empty.Shape())

	// Large logits do not overflow.
	big, _ := tensorOps.CrossEntropy(tensor.FromSlice([]float32{1e4, -1e4, 1e4 - 1}, 1, 3), tensor.FromSlice([]int64{2}))
	require.InDelta(t, 1+math.Log1p(math.Exp(-1)), float64(big.Float32s()[0]), 1e-6)
}

func TestCrossEntropyErrors(t *testing.T) {
	x := tensor.Zeros(2, 3)
	k := tensor.FromSlice([]int64{0, 2})
	cases := []struct {
		name string
		f    func()
		kind error
		msg  string
	}{
		{"1-D logits", func() { tensorOps.CrossEntropy(tensor.Zeros(3), k) }, tensor.ErrShape, "CrossEntropy: needs [M, C] logits, got shape [3]"},
		{"int logits", func() { tensorOps.CrossEntropy(tensor.Of(tensor.Int64).Zeros(2, 3), k) }, tensor.ErrDType, "needs a float32 or float64 tensor"},
		{"float labels", func() { tensorOps.CrossEntropy(x, tensor.Zeros(2)) }, tensor.ErrDType, "class labels must be Int64, got float32"},
		{"label count", func() { tensorOps.CrossEntropy(x, tensor.FromSlice([]int64{0, 1, 2})) }, tensor.ErrShape, "need labels of shape [2], got [3]"},
		{"no classes", func() { tensorOps.CrossEntropy(tensor.Zeros(2, 0), k) }, tensor.ErrShape, "have no classes"},
		{"label range", func() { tensorOps.CrossEntropy(x, tensor.FromSlice([]int64{0, 3})) }, tensor.ErrBackend, "label 3 of row 1 is outside [0, 3)"},
		{"lse dtype", func() { tensorOps.CrossEntropyBackward(x, tensor.Zeros(2).As(tensor.Float64), k, tensor.Zeros(2)) }, tensor.ErrDType, "lse has dtype float64"},
		{"g shape", func() { tensorOps.CrossEntropyBackward(x, tensor.Zeros(2), k, tensor.Zeros(2, 1)) }, tensor.ErrShape, "g must have shape [2]"},
		{"backward label", func() {
			tensorOps.CrossEntropyBackward(x, tensor.Zeros(2), tensor.FromSlice([]int64{-1, 0}), tensor.Zeros(2))
		}, tensor.ErrBackend, "label -1 of row 0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tensor.Catch(tc.f)
			require.Error(t, err)
			require.True(t, errors.Is(err, tc.kind), "%v is not %v", err, tc.kind)
			require.ErrorContains(t, err, tc.msg)
		})
	}
}
