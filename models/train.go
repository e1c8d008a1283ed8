package models

import (
	"fmt"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/data"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/optim"
	"github.com/nabla-go/nabla/tensor"
)

// StepStats describes one training step, for progress reporting and for
// stopping an epoch early.
type StepStats struct {
	Step    int // batch number within the epoch, from 0
	Samples int // samples in this batch

	// loss is the batch's mean loss: a detached scalar on the model's
	// device, read only when the caller asks (see Loss).
	loss *tensor.Tensor
}

// Loss returns the batch's mean loss. It copies one number from the
// model's device to the host, so on a GPU it waits for the step, and every
// step queued before it, to finish: a progress display that calls it after
// every step keeps the host from running ahead of the GPU. Call it only on
// the steps that report it (say every 50th, or once a second). Each call
// reads the device again.
func (s StepStats) Loss() float64 { return s.loss.Item() }

// TrainEpoch runs one epoch of mini-batch training of a classifier with
// cross-entropy loss: for each batch, forward, backward and an optimizer
// step. Batches must hold (inputs, Int64 labels) on the model's device.
// onStep, when not nil, is called after every step; returning false stops
// the epoch early (for Ctrl-C handling). It returns the mean loss over the
// batches run.
//
// The loop never reads the device on its own accord until the epoch ends,
// so on a GPU the host queues step after step without waiting for one to
// finish: the losses are summed on the model's device and the sum is read
// once, at the end. The sum is kept in float64 (each float32 loss
// converted exactly, then added in step order), so the mean is the same
// number, bit for bit, as summing the losses' Item values in a float64 on
// the host; the cost is two one-element kernels per step.
func TrainEpoch(model nn.Module, loader *data.Loader, opt optim.Optimizer, onStep func(StepStats) bool) (float64, error) {
	model.Train()
	lossFn := nn.CrossEntropyLoss()
	var sum *tensor.Tensor // the running loss sum, Float64, on the model's device
	steps := 0
	for b, err := range loader.All() {
		if err != nil {
			return 0, err
		}
		x, y := b.Tensors[0], b.Tensors[1]
		opt.ZeroGrad()
		loss := lossFn(model.Forward(autograd.Const(x)), autograd.Const(y))
		loss.Backward()
		opt.Step()
		l := loss.Detach()
		if sum == nil {
			// 0 + l is l exactly: the first loss starts the sum.
			sum = l.As(tensor.Float64)
		} else {
			sum = sum.Add(l.As(tensor.Float64))
		}
		steps++
		if onStep != nil && !onStep(StepStats{Step: b.Seq, Samples: x.Size(0), loss: l}) {
			break
		}
	}
	if steps == 0 {
		return 0, fmt.Errorf("models: the loader produced no batches")
	}
	return sum.Item() / float64(steps), nil
}

// Predict returns the predicted class of every sample the loader yields,
// in loader order, and the labels, evaluated in eval mode without
// recording gradients.
func Predict(model nn.Module, loader *data.Loader) (pred, labels []int64, err error) {
	model.Eval()
	defer model.Train()
	for b, err := range loader.All() {
		if err != nil {
			return nil, nil, err
		}
		var p *tensor.Tensor
		autograd.NoGrad(func() {
			p = model.Forward(autograd.Const(b.Tensors[0])).Detach().ArgMax(1)
		})
		pred = append(pred, p.CPU().Int64s()...)
		labels = append(labels, b.Tensors[1].CPU().Int64s()...)
	}
	return pred, labels, nil
}

// Accuracy returns the fraction of samples the model classifies correctly.
func Accuracy(model nn.Module, loader *data.Loader) (float64, error) {
	pred, labels, err := Predict(model, loader)
	if err != nil {
		return 0, err
	}
	if len(labels) == 0 {
		return 0, fmt.Errorf("models: the loader produced no samples")
	}
	correct := 0
	for i := range pred {
		if pred[i] == labels[i] {
			correct++
		}
	}
	return float64(correct) / float64(len(labels)), nil
}
