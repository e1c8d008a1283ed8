package models

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/data"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
)

// TestEvaluate checks Evaluate's loss against the per-sample losses summed
// on the host and its accuracy against Accuracy, for batch sizes that do
// and do not divide the data set, and that the model ends in training
// mode.
func TestEvaluate(t *testing.T) {
	ds := syntheticImages(t, 70)
	tensor.ManualSeed(3)
	model := MLP(0.5)
	x, y := make([]*tensor.Tensor, 0), make([]*tensor.Tensor, 0)
	whole, err := data.NewLoader(ds, data.BatchSize(70))
	require.NoError(t, err)
	for b, err := range whole.All() {
		require.NoError(t, err)
		x, y = append(x, b.Tensors[0]), append(y, b.Tensors[1])
	}
	model.Eval()
	var want float64
	autograd.NoGrad(func() {
		for _, l := range nn.CrossEntropyLoss(nn.None)(model.Forward(autograd.Const(x[0])), autograd.Const(y[0])).Detach().Float32s() {
			want += float64(l)
		}
	})
	want /= 70
	model.Train()
	for _, batch := range []int{70, 32, 7} {
		loader, err := data.NewLoader(ds, data.BatchSize(batch))
		require.NoError(t, err)
		m, err := Evaluate(model, loader)
		require.NoError(t, err)
		require.True(t, model.Training(), "back in training mode")
		require.Equal(t, 70, m.Samples)
		require.InDelta(t, want, m.Loss, 1e-6*want, "batch %d", batch)
		acc, err := Accuracy(model, loader)
		require.NoError(t, err)
		require.Equal(t, acc, m.Accuracy, "batch %d", batch)
	}
	empty, err := data.TensorDataset(tensor.Zeros(0, 1, 28, 28), tensor.Of(tensor.Int64).Zeros(0))
	require.NoError(t, err)
	loader, err := data.NewLoader(empty, data.BatchSize(4))
	require.NoError(t, err)
	_, err = Evaluate(model, loader)
	require.ErrorContains(t, err, "no samples")
}
