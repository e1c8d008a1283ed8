package autograd

import (
	"github.com/nabla-go/nabla/internal/prim"
	"github.com/nabla-go/nabla/tensor"
)

// The gradient rules of the neural-network functions in functional.go and
// functional_loss.go, one small function per operation, in the style of
// rules.go. A need flag tells a rule that an input takes no gradient, so
// the work for it (such as the input gradient of the first layer) is
// skipped; the rule then returns nil in its place.

// linearRule: for y = x·wᵀ + b with x flattened to x2 [M, in], dx = g·w,
// dw = gᵀ·x2 and db = Σ g over the rows.
func linearRule(x2, w *tensor.Tensor, xShape []int, needX, hasBias bool) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor {
		g2 := g.Reshape(-1, w.Size(0))
		var gx *tensor.Tensor
		if needX {
			gx = g2.MatMul(w).Reshape(xShape...)
		}
		gw := g2.T().MatMul(x2)
		if !hasBias {
			return pair(gx, gw)
		}
		return []*tensor.Tensor{gx, gw, g2.Sum(0)}
	}
}

// conv2dRule computes the gradients of x, w and (when hasBias) the bias
// with prim's Conv2dBackward, from the forward's input and weight; the
// input's gradient only when needX, the weight's only when needW.
func conv2dRule(x, w *tensor.Tensor, geom tensor.ConvGeometry, needX, needW, hasBias bool) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor {
		gx, gw, gb := tensorOps.Conv2dBackward(g, x, w, geom, needX, needW, hasBias)
		if !hasBias {
			return pair(gx, gw)
		}
		return []*tensor.Tensor{gx, gw, gb}
	}
}

// maxPool2dRule routes each window's gradient to the input position of
// its maximum (idx, from the forward pass).
func maxPool2dRule(idx *tensor.Tensor, xShape []int, geom tensor.ConvGeometry) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor {
		return one(tensorOps.MaxPool2dBackward(g, idx, xShape[2], xShape[3], geom))
	}
}

// avgPool2dRule spreads each window's gradient evenly over its taps.
func avgPool2dRule(xShape []int, geom tensor.ConvGeometry) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor {
		return one(tensorOps.AvgPool2dBackward(g, xShape[2], xShape[3], geom))
	}
}

// mulByRule is the rule of multiplication by a constant tensor (the
// all-zero mask of dropout with p = 1).
func mulByRule(m *tensor.Tensor) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor { return one(g.Mul(m)) }
}

// dropoutRule applies to g the mask that the forward pass drew from the
// Philox counters starting at offset under seed, recomputing it instead
// of keeping it.
func dropoutRule(p float64, seed, offset uint64) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor { return one(tensorOps.DropoutWith(g, p, seed, offset)) }
}

// batchNormRule: with x̂ = (x - μ)·σ⁻¹, w the weight (1 when absent) and
// sums over every dimension but the channels (m values each), training
// mode (μ and σ from the batch) gives
//
//	dx = σ⁻¹·(w·g - w·(Σg + x̂·Σ g·x̂)/m)
//
// and evaluation mode (fixed statistics) dx = σ⁻¹·w·g; dw = Σ g·x̂,
// db = Σ g. One backend primitive computes the gradients want asks for;
// the rule returns them in input order (x, then weight and bias when
// present), nil where not wanted.
func batchNormRule(xhat, invstd, w *tensor.Tensor, training bool, want prim.BatchNormGrads, hasW, hasB bool) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor {
		dx, dw, db := tensorOps.BatchNormBackward(g, xhat, invstd, w, training, want)
		out := []*tensor.Tensor{dx}
		if hasW {
			out = append(out, dw)
		}
		if hasB {
			out = append(out, db)
		}
		return out
	}
}

// bceRule: d/dp = (p - t)/(p·(1-p)), the denominator kept at least 1e-12
// as PyTorch does; d/dt = ln(1-p) - ln p with the clamped logarithms.
func bceRule(p, t, logP, log1mP *tensor.Tensor) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor {
		gp := g.Mul(p.Sub(t)).Div(p.Mul(p.RSub(1)).ClampMin(1e-12))
		return pair(gp, g.Mul(log1mP.Sub(logP)))
	}
}

// bceWithLogitsRule: d/dx = Sigmoid(x) - t, d/dt = -x.
func bceWithLogitsRule(x, t *tensor.Tensor) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor {
		return pair(g.Mul(x.Sigmoid().Sub(t)), g.Mul(x).Neg())
	}
}

// crossEntropyRule: the gradient of logsumexp(x) - x[k] for x [M, C] is
// Softmax(x) - onehot(k), scaled per row by g [M]; one fused pass over x
// from the forward's lse, with no softmax or one-hot tensor in between.
func crossEntropyRule(x, lse, labels *tensor.Tensor) rule {
	return func(g *tensor.Tensor) []*tensor.Tensor {
		return one(tensorOps.CrossEntropyBackward(x, lse, labels, g))
	}
}
