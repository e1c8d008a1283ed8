package autograd

import (
	"slices"

	"github.com/nabla-go/nabla/tensor"
)

// Reduction says how a loss function combines the losses of the elements
// of a batch, PyTorch's reduction argument.
type Reduction int

// The reductions. ReduceMean is the default of every loss.
const (
	ReduceMean Reduction = iota // the mean over all elements: reduction='mean'
	ReduceSum                   // the sum over all elements: reduction='sum'
	ReduceNone                  // one loss per element, not reduced: reduction='none'
)

// String returns PyTorch's name of the reduction: "mean", "sum" or "none".
func (r Reduction) String() string {
	switch r {
	case ReduceMean:
		return "mean"
	case ReduceSum:
		return "sum"
	case ReduceNone:
		return "none"
	}
	return "reduction?"
}

// reduceLoss applies r to elementwise losses.
func reduceLoss(op string, l *Var, r Reduction) *Var {
	switch r {
	case ReduceMean:
		return l.Mean()
	case ReduceSum:
		return l.Sum()
	case ReduceNone:
		return l
	}
	failf(op, tensor.ErrArgument, "unknown reduction %d (want ReduceMean, ReduceSum or ReduceNone)", int(r))
	return nil
}

// sameShape panics unless input and target have one shape. Losses do not
// broadcast: a [N, 1] prediction against a [N] target would silently
// compare every prediction with every target.
func sameShape(op string, input, target *Var) {
	if !slices.Equal(input.Shape(), target.Shape()) {
		failf(op, tensor.ErrShape, "input shape %v and target shape %v differ; reshape one (e.g. target.Reshape(-1, 1)) so they match", input.Shape(), target.Shape())
	}
	sameFloat(op, input, target)
}

// MSE returns the squared error (input - target)², reduced by r
// (F.mse_loss). The target may take gradients too.
func MSE(input, target *Var, r Reduction) *Var {
	sameShape("MSELoss", input, target)
	return reduceLoss("MSELoss", input.Sub(target).Square(), r)
}

// L1 returns the absolute error |input - target|, reduced by r
// (F.l1_loss).
func L1(input, target *Var, r Reduction) *Var {
	sameShape("L1Loss", input, target)
	return reduceLoss("L1Loss", input.Sub(target).Abs(), r)
}

// BCE returns the binary cross-entropy -(t·ln p + (1-t)·ln(1-p)) of
// probabilities p = input in [0, 1] against targets t, reduced by r
// (F.binary_cross_entropy). As in PyTorch each logarithm is clamped to at
// least -100, so p = 0 or 1 gives a large finite loss rather than ∞, and
// an input outside [0, 1] or NaN is an error (ErrArgument), on every
// device, rather than a NaN loss. Prefer BCEWithLogits on raw scores: it
// is exact where Sigmoid saturates.
func BCE(input, target *Var, r Reduction) *Var {
	const op = "BCELoss"
	sameShape(op, input, target)
	p, t := input.data, target.data
	checkProbabilities(op, p)
	logP := p.Log().ClampMin(-100)
	log1mP := p.RSub(1).Log().ClampMin(-100)
	l := log1mP.Add(t.Mul(logP.Sub(log1mP))).Neg()
	return reduceLoss(op, record(op, l, bceRule(p, t, logP, log1mP), input, target), r)
}

// checkProbabilities panics unless every element of p lies in [0, 1], as
// PyTorch's binary_cross_entropy requires ("all elements of input should
// be between 0 and 1"). The test is a clamp, a comparison and a count on
// p's device, one number read back; NaN fails it, since NaN equals
// nothing. Only when it fails does p come to the host, to name an
// offending element.
func checkProbabilities(op string, p *tensor.Tensor) {
	if p.Numel() == 0 {
		return
	}
	if p.Clamp(0, 1).Ne(p).Sum().Item() == 0 {
		return
	}
	vals := p.CPU().As(tensor.Float64).Contiguous().Float64s()
	for i, v := range vals {
		if !(v >= 0 && v <= 1) {
			failf(op, tensor.ErrArgument, "all elements of input should be between 0 and 1, but element %d (of shape %v) is %v; apply Sigmoid first, or use BCEWithLogitsLoss on the raw scores",
				i, p.Shape(), v)
		}
	}
	// The device found a value the host does not: report it as such.
	failf(op, tensor.ErrArgument, "all elements of input should be between 0 and 1, but %v found some outside that the host copy does not show", p.Device())
}

// BCEWithLogits returns the binary cross-entropy of Sigmoid(input) against
// target in the stable form max(x, 0) - x·t + ln(1 + e^-|x|), reduced by r
// (F.binary_cross_entropy_with_logits). Its gradient is Sigmoid(x) - t.
func BCEWithLogits(input, target *Var, r Reduction) *Var {
	const op = "BCEWithLogitsLoss"
	sameShape(op, input, target)
	x, t := input.data, target.data
	l := x.Relu().Sub(x.Mul(t)).Add(x.Abs().Neg().Softplus())
	return reduceLoss(op, record(op, l, bceWithLogitsRule(x, t), input, target), r)
}

// classLabels checks Int64 class labels against scores [N, C, d1, ...]
// (or [C] with a scalar label) and returns the scores as [M, C], the labels
// as [M], and the shape of the unreduced loss.
func classLabels(op string, scores *Var, labels *tensor.Tensor) (*Var, *tensor.Tensor, []int) {
	if labels == nil {
		failf(op, tensor.ErrArgument, "nil labels")
	}
	if labels.DType() != tensor.Int64 {
		failf(op, tensor.ErrDType, "class labels must be Int64, got %v; convert with .As(tensor.Int64)", labels.DType())
	}
	if scores.Device() != labels.Device() {
		failf(op, tensor.ErrDevice, "scores are on %v but labels on %v; move the labels with .To(%v)", scores.Device(), labels.Device(), scores.Device())
	}
	sameFloat(op, scores)
	shape := scores.Shape()
	switch {
	case len(shape) == 1:
		if labels.Dim() != 0 {
			failf(op, tensor.ErrShape, "unbatched scores of shape %v need a 0-D label, got shape %v", shape, labels.Shape())
		}
		return scores.Reshape(1, shape[0]), labels.Reshape(1), []int{}
	case len(shape) >= 2:
		want := append([]int{shape[0]}, shape[2:]...)
		if !slices.Equal(labels.Shape(), want) {
			failf(op, tensor.ErrShape, "scores of shape %v need labels of shape %v, got %v", shape, want, labels.Shape())
		}
		if len(shape) == 2 {
			return scores, labels, want
		}
		// [N, C, d1, ...] -> [N, d1, ..., C] -> [M, C]
		perm := []int{0}
		for d := 2; d < len(shape); d++ {
			perm = append(perm, d)
		}
		perm = append(perm, 1)
		return scores.Permute(perm...).Reshape(-1, shape[1]), labels.Reshape(-1), want
	}
	failf(op, tensor.ErrShape, "scores must be [C] or [N, C, ...], got a 0-D tensor")
	return nil, nil, nil
}

// pick returns s[i, labels[i]] for s [M, C], reporting a label outside
// 0..C-1 as an ErrIndex error of op.
func pick(op string, s *Var, labels *tensor.Tensor) *Var {
	idx := labels.Unsqueeze(1)
	var out *Var
	if err := tensor.Catch(func() { out = s.Gather(1, idx) }); err != nil {
		failf(op, tensor.ErrIndex, "a class label is outside [0, %d): %v", s.Size(1), err)
	}
	return out.Reshape(-1)
}

// CrossEntropy returns the cross-entropy of raw scores (logits) against
// Int64 class labels, reduced by r (F.cross_entropy): for a row x and label
// k, logsumexp(x) - x[k]. Scores are [N, C] with labels [N], or [N, C, d1,
// ...] with labels [N, d1, ...], or [C] with a 0-D label. It is computed in
// one fused, stable pass over the scores whose
// gradient, Softmax(x) - onehot(k), is another single pass, so it must not
// be preceded by Softmax or LogSoftmax.
func CrossEntropy(logits *Var, labels *tensor.Tensor, r Reduction) *Var {
	const op = "CrossEntropyLoss"
	x, lab, shape := classLabels(op, logits, labels)
	var l, lse *tensor.Tensor
	// classLabels has checked everything but the labels' values, so an
	// error here is a label out of range (found at once on the CPU; a GPU
	// reports it when a result is next read).
	if err := tensor.Catch(func() { l, lse = tensorOps.CrossEntropy(x.data, lab) }); err != nil {
		failf(op, tensor.ErrIndex, "a class label is outside [0, %d): %v", x.Size(1), err)
	}
	v := record(op, l, crossEntropyRule(x.data, lse, lab), x)
	return reduceLoss(op, v.Reshape(shape...), r)
}

// NLL returns the negative log-likelihood -x[k] of log-probabilities x
// (the output of LogSoftmax) for Int64 class labels k, reduced by r
// (F.nll_loss); shapes as CrossEntropy. LogSoftmax followed by NLL equals
// CrossEntropy.
func NLL(logProbs *Var, labels *tensor.Tensor, r Reduction) *Var {
	const op = "NLLLoss"
	x, lab, shape := classLabels(op, logProbs, labels)
	return reduceLoss(op, pick(op, x, lab).Neg().Reshape(shape...), r)
}
