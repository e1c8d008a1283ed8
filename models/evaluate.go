package models

import (
	"fmt"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/data"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
)

// Metrics are a classifier's mean loss and accuracy over a data set.
type Metrics struct {
	Loss     float64 // mean cross-entropy loss per sample
	Accuracy float64 // fraction of samples classified correctly
	Samples  int     // samples evaluated
}

// Evaluate returns the mean cross-entropy loss and the accuracy of model
// over every sample the loader yields (batches of inputs and Int64
// labels on the model's device), in evaluation mode without recording
// gradients, then puts the model back in training mode, as Predict does.
// The loss and the count of correct predictions are summed on the device
// and read once at the end; the loss sum is kept in float64, so the mean
// does not depend on the batch size beyond float32 rounding of each
// batch's losses.
func Evaluate(model nn.Module, loader *data.Loader) (Metrics, error) {
	model.Eval()
	defer model.Train()
	lossFn := nn.CrossEntropyLoss(nn.None)
	var lossSum, correct *tensor.Tensor
	n := 0
	for b, err := range loader.All() {
		if err != nil {
			return Metrics{}, err
		}
		x, y := b.Tensors[0], b.Tensors[1]
		autograd.NoGrad(func() {
			logits := model.Forward(autograd.Const(x))
			l := lossFn(logits, autograd.Const(y)).Detach().As(tensor.Float64).Sum()
			c := logits.Detach().ArgMax(1).Eq(y).Sum()
			if lossSum == nil {
				lossSum, correct = l, c
			} else {
				lossSum, correct = lossSum.Add(l), correct.Add(c)
			}
		})
		n += x.Size(0)
	}
	if n == 0 {
		return Metrics{}, fmt.Errorf("models: the loader produced no samples")
	}
	return Metrics{Loss: lossSum.Item() / float64(n), Accuracy: correct.Item() / float64(n), Samples: n}, nil
}
