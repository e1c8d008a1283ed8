package tensor

// crossEntropy returns the per-row cross-entropy of logits x, an [M, C]
// float tensor, against labels, an Int64 [M] tensor of class indices:
// loss[i] = logsumexp(x[i, :]) - x[i, labels[i]] (F.cross_entropy with
// reduction='none'), and lse[i] = logsumexp(x[i, :]), both [M] of x's
// dtype, from one fused pass over x. Keep lse for crossEntropyBackward. x
// may be any strided view. A label outside [0, C) panics with an
// ErrBackend error naming it (on a GPU when the result is next read,
// as with Gather).
func crossEntropy(x, labels *Tensor) (loss, lse *Tensor) {
	const op = "CrossEntropy"
	checkCrossEntropy(op, x, labels)
	m := x.layout.Shape[0]
	loss = x.emptyLike(op, x.DType(), []int{m})
	lse = x.emptyLike(op, x.DType(), []int{m})
	check(op, x.be.CrossEntropy(loss.view(), lse.view(), x.view(), labels.view()))
	return loss, lse
}

// crossEntropyBackward returns the gradient [M, C] of crossEntropy's loss
// with respect to x for the upstream gradient g [M]:
// g[i]·(softmax(x[i, :]) - onehot(labels[i])), computed from the lse that
// crossEntropy returned, in one pass over x.
func crossEntropyBackward(x, lse, labels, g *Tensor) *Tensor {
	const op = "CrossEntropyBackward"
	checkCrossEntropy(op, x, labels)
	sameDevice(op, x, lse, g)
	m := x.layout.Shape[0]
	for _, r := range []struct {
		name string
		t    *Tensor
	}{{"lse", lse}, {"g", g}} {
		if r.t.DType() != x.DType() {
			fail(op, ErrDType, "%s has dtype %v but the logits %v; convert with .As(tensor.%s)", r.name, r.t.DType(), x.DType(), goName(x.DType()))
		}
		if r.t.Dim() != 1 || r.t.layout.Shape[0] != m {
			fail(op, ErrShape, "%s must have shape [%d], one value per row of the logits of shape %v; got %v", r.name, m, x.layout.Shape, r.t.layout.Shape)
		}
	}
	dx := x.emptyLike(op, x.DType(), x.layout.Shape)
	check(op, x.be.CrossEntropyBackward(dx.view(), x.view(), lse.view(), labels.view(), g.view()))
	return dx
}

// checkCrossEntropy checks the logits and labels of crossEntropy and
// crossEntropyBackward.
func checkCrossEntropy(op string, x, labels *Tensor) {
	sameDevice(op, x, labels)
	if x.Dim() != 2 {
		fail(op, ErrShape, "needs [M, C] logits, got shape %v; flatten extra dimensions into M first", x.layout.Shape)
	}
	requireFloat(op, x)
	if labels.DType() != Int64 {
		fail(op, ErrDType, "class labels must be Int64, got %v; convert with .As(tensor.Int64)", labels.DType())
	}
	m, c := x.layout.Shape[0], x.layout.Shape[1]
	if labels.Dim() != 1 || labels.layout.Shape[0] != m {
		fail(op, ErrShape, "logits of shape %v need labels of shape [%d], got %v", x.layout.Shape, m, labels.layout.Shape)
	}
	if c == 0 && m > 0 {
		fail(op, ErrShape, "logits of shape %v have no classes, so no label can be valid", x.layout.Shape)
	}
}
