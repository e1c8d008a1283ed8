package nn

import (
	"fmt"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/tensor"
)

// Loss is a loss function: it compares a model's output with the target
// and returns the loss, a scalar unless the reduction is None.
//
//	lossFn := nn.CrossEntropyLoss()
//	loss := lossFn(model.Forward(x), autograd.Const(labels))
//	loss.Backward()
type Loss func(input, target *autograd.Var) *autograd.Var

// Reduction says how a loss combines the per-element losses of a batch:
// Mean (the default), Sum or None.
type Reduction = autograd.Reduction

// The reductions, PyTorch's reduction='mean', 'sum' and 'none'. Pass one
// to a loss constructor, for example nn.MSELoss(nn.Sum).
const (
	Mean = autograd.ReduceMean // the mean over all elements (the default)
	Sum  = autograd.ReduceSum  // the sum over all elements
	None = autograd.ReduceNone // the per-element losses, unreduced
)

// reduction returns the optional reduction argument of a loss constructor.
func reduction(name string, r []Reduction) Reduction {
	switch len(r) {
	case 0:
		return Mean
	case 1:
		if r[0] != Mean && r[0] != Sum && r[0] != None {
			panic(&tensor.Error{Op: name, Kind: tensor.ErrArgument, Msg: fmt.Sprintf("unknown reduction %d (want nn.Mean, nn.Sum or nn.None)", int(r[0]))})
		}
		return r[0]
	}
	panic(&tensor.Error{Op: name, Kind: tensor.ErrArgument, Msg: fmt.Sprintf("takes at most one reduction, got %d", len(r))})
}

// MSELoss returns the mean squared error loss (torch.nn.MSELoss): the
// squared differences of input and target, which must have one shape,
// reduced by the optional reduction (Mean by default).
func MSELoss(r ...Reduction) Loss {
	red := reduction("MSELoss", r)
	return func(input, target *autograd.Var) *autograd.Var { return autograd.MSE(input, target, red) }
}

// L1Loss returns the mean absolute error loss (torch.nn.L1Loss).
func L1Loss(r ...Reduction) Loss {
	red := reduction("L1Loss", r)
	return func(input, target *autograd.Var) *autograd.Var { return autograd.L1(input, target, red) }
}

// BCELoss returns the binary cross-entropy of probabilities (the output
// of a Sigmoid) against targets in [0, 1] (torch.nn.BCELoss); the
// logarithms are clamped to at least -100 as in PyTorch. BCEWithLogitsLoss
// on the raw scores is more accurate.
func BCELoss(r ...Reduction) Loss {
	red := reduction("BCELoss", r)
	return func(input, target *autograd.Var) *autograd.Var { return autograd.BCE(input, target, red) }
}

// BCEWithLogitsLoss returns the binary cross-entropy of Sigmoid(input)
// against target, computed stably from the raw scores
// (torch.nn.BCEWithLogitsLoss).
func BCEWithLogitsLoss(r ...Reduction) Loss {
	red := reduction("BCEWithLogitsLoss", r)
	return func(input, target *autograd.Var) *autograd.Var { return autograd.BCEWithLogits(input, target, red) }
}

// CrossEntropyLoss returns the cross-entropy of raw scores (logits) [N, C]
// against Int64 class labels [N] (torch.nn.CrossEntropyLoss), fused and
// stable: logsumexp(x) - x[label], with gradient Softmax(x) - onehot. The
// target Var holds the labels (autograd.Const(labels)); scores [N, C, d...]
// with labels [N, d...] and unbatched [C] with a 0-D label work too.
func CrossEntropyLoss(r ...Reduction) Loss {
	red := reduction("CrossEntropyLoss", r)
	return func(input, target *autograd.Var) *autograd.Var {
		return autograd.CrossEntropy(input, target.Detach(), red)
	}
}

// NLLLoss returns the negative log-likelihood of log-probabilities (the
// output of LogSoftmax) [N, C] for Int64 class labels [N]
// (torch.nn.NLLLoss); shapes as CrossEntropyLoss.
func NLLLoss(r ...Reduction) Loss {
	red := reduction("NLLLoss", r)
	return func(input, target *autograd.Var) *autograd.Var {
		return autograd.NLL(input, target.Detach(), red)
	}
}
