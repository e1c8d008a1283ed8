package main

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/data"
	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/optim"
	"github.com/nabla-go/nabla/tensor"
)

// readmeTable runs the nabla column of the README's "From PyTorch" table.
// TestReadmeTable checks that every Go snippet of that column appears
// here, token for token ("..." standing for any code), so the table
// compiles as written.
func readmeTable(t *testing.T) {
	_ = tensor.FromSlice([]float32{1, 2, 3, 4}, 2, 2)
	tensor.ManualSeed(0)
	_ = tensor.Randn(3, 4)
	dev := device.Best()

	x := tensor.Randn(8, 2)
	labels := tensor.FromSlice([]int64{0, 1, 2, 3, 4, 5, 6, 7}, 8)
	model := nn.Sequential(nn.Linear(2, 10), nn.Sigmoid())
	x = x.To(dev)
	model.To(dev)
	x = x.CPU()
	model.To(device.CPU())

	w := autograd.Param(tensor.Zeros(1))
	require.Equal(t, []int{1}, w.Shape())

	out := model.Forward(autograd.Const(x))
	{
		y := autograd.Const(labels)
		loss := nn.CrossEntropyLoss()(out, y)
		opt := optim.Adam(model.Parameters(), 1e-3)
		opt.ZeroGrad()
		loss.Backward()
		opt.Step()
		require.Greater(t, loss.Item(), 0.0)
	}
	v := out
	require.Len(t, v.Detach().CPU().Float32s(), 80)
	autograd.NoGrad(func() {
		_ = model.Forward(autograd.Const(x))
	})
	model.Eval()
	model.Train()
	require.Equal(t, []int{8}, out.ArgMax(1).Shape())

	sd := nn.StateDict(model)
	{
		err := nn.LoadStateDict(model, sd)
		require.NoError(t, err)
	}
	p := filepath.Join(t.TempDir(), "model.safetensors")
	{
		err := nn.Save(p, model)
		require.NoError(t, err)
	}
	{
		err := nn.Load(p, model)
		require.NoError(t, err)
	}

	{
		vals, idx := out.TopK(5, 1, true)
		require.Equal(t, []int{8, 5}, vals.Shape())
		require.Equal(t, []int{8, 5}, idx.Shape())
		sorted, order := x.Sort(1, true)
		require.Equal(t, x.Shape(), sorted.Shape())
		require.Equal(t, x.Shape(), order.Shape())
		y := labels
		require.Equal(t, []int{8, 10}, tensor.OneHot(y, 10).Shape())
		require.Equal(t, x.Shape(), x.CumSum(0).Shape())
		require.Equal(t, x.Shape(), x.Flip(0).Shape())
		require.Equal(t, []int{16, 2}, x.Repeat(2, 1).Shape())
		require.Equal(t, []int{8}, x.Norm(2, 1).Shape())
	}
	{
		mlp := nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
		model := mlp
		fmt.Println(nn.Repr(model))
		summary, err := nn.Summary(model, 64, 784)
		require.NoError(t, err)
		require.Contains(t, summary, "[64, 10]")
	}
	{
		opt := optim.SGD(model.Parameters(), 1)
		sched := optim.SequentialLR(opt, []optim.Scheduler{optim.LinearLR(opt, 0.1, 1, 5), optim.CosineAnnealingLR(opt, 95, 0)}, []int{5})
		sched.Step()
	}
	{
		s := uint64(7)
		g := tensor.NewGenerator(s)
		require.NotNil(t, g)
		require.NotEmpty(t, tensor.DefaultGenerator().State())
	}
	{
		opt := optim.SGD(model.Parameters(), 1)
		sched := optim.ReduceLROnPlateau(opt, optim.Mode("max"), optim.Patience(2))
		acc := 0.5
		sched.Step(acc)
	}

	y := labels
	ds, err := data.TensorDataset(x, y)
	require.NoError(t, err)
	parts, err := data.RandomSplit(ds, []float64{0.8, 0.2}, nil)
	require.NoError(t, err)
	require.Len(t, parts, 2)
	loader, err := data.NewLoader(ds, data.BatchSize(64), data.Shuffle())
	require.NoError(t, err)
	for b, err := range loader.All() {
		x, y := b.X(), b.Y()
		require.NoError(t, err)
		require.Equal(t, 8, x.Size(0))
		require.Equal(t, 8, y.Size(0))
	}
}
