package conformance

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
)

// lossCase is one loss with the inputs it is defined on.
type lossCase struct {
	name string
	loss func(r nn.Reduction) nn.Loss
	// inputs returns the scores and the target on the CPU, drawn from the
	// default generator; the target is constant (labels or probabilities).
	inputs func(dt tensor.DType) (input, target *tensor.Tensor)
	// targetGrad: the loss is differentiable in its target too.
	targetGrad bool
}

func lossCases() []lossCase {
	randn := func(dt tensor.DType, shape ...int) *tensor.Tensor { return tensor.Of(dt).Randn(shape...) }
	probs := func(dt tensor.DType, shape ...int) *tensor.Tensor {
		return tensor.Of(dt).Rand(shape...).Mul(0.98).Add(0.01)
	}
	labels := func(classes int64, shape ...int) *tensor.Tensor { return tensor.RandInt(0, classes, shape...) }
	return []lossCase{
		{name: "MSE", loss: func(r nn.Reduction) nn.Loss { return nn.MSELoss(r) },
			inputs: func(dt tensor.DType) (*tensor.Tensor, *tensor.Tensor) { return randn(dt, 7, 5), randn(dt, 7, 5) }, targetGrad: true},
		{name: "L1", loss: func(r nn.Reduction) nn.Loss { return nn.L1Loss(r) },
			inputs: func(dt tensor.DType) (*tensor.Tensor, *tensor.Tensor) { return randn(dt, 33), randn(dt, 33) }, targetGrad: true},
		{name: "BCE", loss: func(r nn.Reduction) nn.Loss { return nn.BCELoss(r) },
			inputs: func(dt tensor.DType) (*tensor.Tensor, *tensor.Tensor) { return probs(dt, 9, 2), probs(dt, 9, 2) }, targetGrad: true},
		{name: "BCEWithLogits", loss: func(r nn.Reduction) nn.Loss { return nn.BCEWithLogitsLoss(r) },
			inputs: func(dt tensor.DType) (*tensor.Tensor, *tensor.Tensor) { return randn(dt, 9, 2).Mul(4), probs(dt, 9, 2) }, targetGrad: true},
		{name: "CrossEntropy", loss: func(r nn.Reduction) nn.Loss { return nn.CrossEntropyLoss(r) },
			inputs: func(dt tensor.DType) (*tensor.Tensor, *tensor.Tensor) {
				return randn(dt, 64, 10).Mul(3), labels(10, 64)
			}},
		{name: "CrossEntropy/wide", loss: func(r nn.Reduction) nn.Loss { return nn.CrossEntropyLoss(r) },
			inputs: func(dt tensor.DType) (*tensor.Tensor, *tensor.Tensor) { return randn(dt, 5, 4097), labels(4097, 5) }},
		{name: "CrossEntropy/spatial", loss: func(r nn.Reduction) nn.Loss { return nn.CrossEntropyLoss(r) },
			inputs: func(dt tensor.DType) (*tensor.Tensor, *tensor.Tensor) {
				return randn(dt, 2, 7, 3, 4), labels(7, 2, 3, 4)
			}},
		{name: "NLL", loss: func(r nn.Reduction) nn.Loss { return nn.NLLLoss(r) },
			inputs: func(dt tensor.DType) (*tensor.Tensor, *tensor.Tensor) {
				return randn(dt, 8, 5).LogSoftmax(1), labels(5, 8)
			}},
	}
}

// runLoss evaluates the loss on dev and returns the value and the
// gradients with respect to the input and, where it has one, the target.
func runLoss(c lossCase, r nn.Reduction, dt tensor.DType, dev device.Device) (value, gradIn, gradTarget *tensor.Tensor) {
	tensor.ManualSeed(21)
	in, tg := c.inputs(dt)
	x := autograd.Param(in.To(dev))
	y := autograd.Const(tg.To(dev))
	if c.targetGrad {
		y = autograd.Param(tg.To(dev))
	}
	l := c.loss(r)(x, y)
	// Weight the elements of an unreduced loss so that every one matters.
	w := tensor.Of(dt).Rand(l.Shape()...).Add(0.5).To(dev)
	l.Mul(autograd.Const(w)).Sum().Backward()
	if c.targetGrad {
		gradTarget = y.Grad()
	}
	return l.Detach(), x.Grad(), gradTarget
}

// TestLosses compares every loss and reduction, value and gradients, with
// the CPU.
func TestLosses(t *testing.T) {
	reductions := []nn.Reduction{autograd.ReduceMean, autograd.ReduceSum, autograd.ReduceNone}
	forEachDevice(t, func(t *testing.T, dev device.Device) {
		for _, c := range lossCases() {
			for _, r := range reductions {
				for _, dt := range dtypes {
					t.Run(name(c.name, "/", r, "/", dt), func(t *testing.T) {
						wantV, wantX, wantT := runLoss(c, r, dt, device.CPU())
						gotV, gotX, gotT := runLoss(c, r, dt, dev)
						require.Equal(t, dev, gotV.Device())
						tol := tolerance(dt, 1e-4)
						requireClose(t, "loss", wantV, gotV, tol)
						requireClose(t, "input gradient", wantX, gotX, tol)
						if c.targetGrad {
							requireClose(t, "target gradient", wantT, gotT, tol)
						}
					})
				}
			}
		}
	})
}

// TestBCEDomain checks BCELoss's input on the device as on the CPU: a
// value outside [0, 1] or NaN is an ErrArgument naming it, found by a
// reduction on the device.
func TestBCEDomain(t *testing.T) {
	forEachDevice(t, func(t *testing.T, dev device.Device) {
		for _, dt := range dtypes {
			for _, bad := range []float64{1.5, -1e-30, math.NaN(), math.Inf(-1)} {
				t.Run(name(dt, "/", bad), func(t *testing.T) {
					vals := tensor.Of(tensor.Float64).Full(0.5, 3, 5).Float64s()
					vals[7] = bad
					x := autograd.Param(tensor.FromSlice(vals, 3, 5).As(dt).To(dev))
					y := autograd.Const(tensor.Of(dt).Full(1, 3, 5).To(dev))
					err := tensor.Catch(func() { nn.BCELoss()(x, y) })
					require.ErrorIs(t, err, tensor.ErrArgument)
					require.ErrorContains(t, err, "all elements of input should be between 0 and 1, but element 7")
				})
			}
			x := autograd.Param(tensor.Of(dt).Full(1, 3, 5).To(dev))
			y := autograd.Const(tensor.Of(dt).Full(1, 3, 5).To(dev))
			require.NoError(t, tensor.Catch(func() { nn.BCELoss()(x, y).Backward() }), "1 is a probability")
		}
	})
}
