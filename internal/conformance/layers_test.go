package conformance

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
)

// layerCase is one module configuration and the input shape it takes.
type layerCase struct {
	name  string
	build func() nn.Module
	input []int
	eval  bool // run in evaluation mode (BatchNorm's running statistics)
}

// layerCases covers every layer and activation of package nn, with the
// options that select different kernels (strides, padding, dilation,
// per-channel slopes, odd sizes).
func layerCases() []layerCase {
	bnWarm := func(m *nn.BatchNormModule, shape ...int) nn.Module {
		// Give the running statistics values other than 0 and 1.
		m.Forward(autograd.Const(tensor.Randn(shape...).Mul(3).Add(1)))
		return m
	}
	return []layerCase{
		{name: "Linear", build: func() nn.Module { return nn.Linear(33, 7) }, input: []int{5, 33}},
		{name: "Linear/3-D input", build: func() nn.Module { return nn.Linear(8, 9) }, input: []int{2, 3, 8}},
		{name: "Linear/no bias", build: func() nn.Module { return nn.Linear(16, 1, nn.NoBias()) }, input: []int{64, 16}},
		{name: "Conv2d", build: func() nn.Module { return nn.Conv2d(3, 8, 3) }, input: []int{2, 3, 9, 11}},
		{name: "Conv2d/stride padding", build: func() nn.Module { return nn.Conv2d(2, 5, 3, nn.Stride(2), nn.Padding(1)) }, input: []int{3, 2, 10, 7}},
		{name: "Conv2d/dilation no bias", build: func() nn.Module { return nn.Conv2d(4, 3, 2, nn.Dilation(2), nn.NoBias()) }, input: []int{1, 4, 8, 8}},
		{name: "MaxPool2d", build: func() nn.Module { return nn.MaxPool2d(2, 2) }, input: []int{2, 3, 8, 9}},
		{name: "MaxPool2d/overlapping padded", build: func() nn.Module { return nn.MaxPool2d(3, 2, nn.Padding(1)) }, input: []int{2, 2, 7, 7}},
		{name: "AvgPool2d", build: func() nn.Module { return nn.AvgPool2d(2, 2) }, input: []int{2, 3, 8, 8}},
		{name: "AvgPool2d/padded", build: func() nn.Module { return nn.AvgPool2d(3, 1, nn.Padding(1)) }, input: []int{1, 2, 5, 6}},
		{name: "Flatten", build: func() nn.Module { return nn.Flatten() }, input: []int{4, 2, 3, 3}},
		{name: "Dropout", build: func() nn.Module { return nn.Dropout(0.3) }, input: []int{16, 33}},
		{name: "BatchNorm1d", build: func() nn.Module { return nn.BatchNorm1d(7) }, input: []int{16, 7}},
		{name: "BatchNorm1d/3-D", build: func() nn.Module { return nn.BatchNorm1d(3) }, input: []int{4, 3, 5}},
		{name: "BatchNorm2d", build: func() nn.Module { return nn.BatchNorm2d(4) }, input: []int{3, 4, 5, 6}},
		{name: "BatchNorm2d/eval", build: func() nn.Module { return bnWarm(nn.BatchNorm2d(4), 3, 4, 5, 6) }, input: []int{3, 4, 5, 6}, eval: true},
		{name: "Sigmoid", build: func() nn.Module { return nn.Sigmoid() }, input: []int{7, 9}},
		{name: "Tanh", build: func() nn.Module { return nn.Tanh() }, input: []int{7, 9}},
		{name: "ReLU", build: func() nn.Module { return nn.ReLU() }, input: []int{7, 9}},
		{name: "LeakyReLU", build: func() nn.Module { return nn.LeakyReLU(0.1) }, input: []int{7, 9}},
		{name: "ELU", build: func() nn.Module { return nn.ELU(1.5) }, input: []int{7, 9}},
		{name: "GELU", build: func() nn.Module { return nn.GELU() }, input: []int{7, 9}},
		{name: "Softplus", build: func() nn.Module { return nn.Softplus() }, input: []int{7, 9}},
		{name: "Threshold", build: func() nn.Module { return nn.Threshold(0.2, -1) }, input: []int{7, 9}},
		{name: "Softmax", build: func() nn.Module { return nn.Softmax(1) }, input: []int{5, 10}},
		{name: "Softmin", build: func() nn.Module { return nn.Softmin(0) }, input: []int{5, 10}},
		{name: "LogSoftmax", build: func() nn.Module { return nn.LogSoftmax(-1) }, input: []int{5, 1000}},
		{name: "PReLU", build: func() nn.Module { return nn.PReLU() }, input: []int{6, 4}},
		{name: "PReLU/channels", build: func() nn.Module { return nn.PReLUChannels(3) }, input: []int{2, 3, 4, 4}},
		// No bias before the batch norm: its gradient would be zero in
		// exact arithmetic, rounding noise in practice (see smallCNN).
		{name: "Sequential/CNN block", build: func() nn.Module {
			return nn.Sequential(nn.Conv2d(1, 4, 3, nn.Padding(1), nn.NoBias()), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2, 2),
				nn.Flatten(), nn.Linear(4*4*4, 10), nn.Dropout(0.2), nn.Tanh(), nn.Linear(10, 3))
		}, input: []int{5, 1, 8, 8}},
		{name: "Sequential/MLP", build: func() nn.Module {
			return nn.Sequential(nn.Flatten(), nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 8), nn.Sigmoid(), nn.Linear(8, 4))
		}, input: []int{9, 3, 4}},
	}
}

// layerRun is what one forward and backward pass produced.
type layerRun struct {
	out, gradIn *tensor.Tensor
	state       []nn.NamedTensor // parameters and buffers after the pass
	grads       []*tensor.Tensor // parameter gradients, in NamedParameters order
}

// runLayer builds the case's module under a fixed seed, moves it and the
// input to dev, runs forward and backward with random output weights,
// and returns everything on dev.
func runLayer(c layerCase, dt tensor.DType, dev device.Device) layerRun {
	tensor.ManualSeed(11)
	m := nn.Cast(c.build(), dt).To(dev)
	if c.eval {
		m.Eval()
	}
	x := autograd.Param(tensor.Randn(c.input...).As(dt).To(dev))
	tensor.ManualSeed(12) // the same dropout masks on every device
	out := m.Forward(x)
	weights := tensor.Of(dt).Rand(out.Shape()...).Add(0.5).To(dev)
	out.Mul(autograd.Const(weights)).Sum().Backward()
	r := layerRun{out: out.Detach(), gradIn: x.Grad(), state: nn.StateDict(m)}
	for _, p := range m.NamedParameters() {
		r.grads = append(r.grads, p.Var.Grad())
	}
	return r
}

// TestLayers runs every layer forward and backward on each device and on
// the CPU from the same weights and inputs and compares outputs, input
// gradients, parameter gradients and the state after the pass (BatchNorm's
// running statistics).
func TestLayers(t *testing.T) {
	forEachDevice(t, func(t *testing.T, dev device.Device) {
		for _, c := range layerCases() {
			for _, dt := range dtypes {
				t.Run(name(c.name, "/", dt), func(t *testing.T) {
					want := runLayer(c, dt, device.CPU())
					got := runLayer(c, dt, dev)
					require.Equal(t, dev, got.out.Device(), "output device")
					tol := tolerance(dt, 1e-4)
					requireClose(t, "output", want.out, got.out, tol)
					requireClose(t, "input gradient", want.gradIn, got.gradIn, tol)
					require.Len(t, got.grads, len(want.grads))
					for i := range want.grads {
						requireClose(t, name("gradient ", i), want.grads[i], got.grads[i], tol)
					}
					require.Len(t, got.state, len(want.state))
					for i, s := range want.state {
						require.Equal(t, s.Name, got.state[i].Name)
						require.Equal(t, dev, got.state[i].Tensor.Device(), s.Name)
						requireClose(t, s.Name, s.Tensor, got.state[i].Tensor, tol)
					}
				})
			}
		}
	})
}
