package optim

import (
	"fmt"
	"math"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/tensor"
)

// clipEps is the term torch.nn.utils.clip_grad_norm_ adds to the norm.
const clipEps = 1e-6

// ClipGradNorm rescales the gradients of params in place so that their
// combined L2 norm is at most maxNorm, as torch.nn.utils.clip_grad_norm_
// does: the total norm is the L2 norm of every gradient's L2 norm, and when
// maxNorm/(total+1e-6) < 1 every gradient is multiplied by that factor.
// Parameters without a gradient are skipped. It returns the total norm
// before clipping (0 when no parameter has a gradient; +Inf or NaN when a
// gradient is not finite, in which case the gradients are scaled by NaN or
// 0 as in PyTorch). It panics when maxNorm is negative or NaN.
func ClipGradNorm(params []*autograd.Var, maxNorm float64) float64 {
	if !(maxNorm >= 0) {
		argPanic("optim.ClipGradNorm", fmt.Sprintf("invalid maxNorm %v: it must be >= 0", maxNorm))
	}
	var grads []*tensor.Tensor
	for _, p := range params {
		if p != nil && p.Grad() != nil {
			grads = append(grads, p.Grad())
		}
	}
	if len(grads) == 0 {
		return 0
	}
	first := grads[0]
	norms := make([]*tensor.Tensor, len(grads))
	mixed := false
	for i, g := range grads {
		norms[i] = g.Square().Sum().Sqrt()
		mixed = mixed || g.DType() != first.DType()
	}
	for i, n := range norms {
		if mixed {
			n = n.As(tensor.Float64)
		}
		norms[i] = n.To(first.Device())
	}
	totalT := tensor.Stack(norms, 0).Square().Sum().Sqrt()
	total := totalT.Item()
	coef := totalT.Add(clipEps).RDiv(maxNorm).Item() // computed in the gradients' dtype, as PyTorch does
	if coef < 1 || math.IsNaN(coef) {
		for _, g := range grads {
			g.CopyFrom(g.Mul(coef))
		}
	}
	return total
}

// ClipGradValue clamps every gradient element of params to
// [-clipValue, clipValue] in place, torch.nn.utils.clip_grad_value_.
// Parameters without a gradient are skipped. It panics when clipValue is
// negative or NaN.
func ClipGradValue(params []*autograd.Var, clipValue float64) {
	if !(clipValue >= 0) {
		argPanic("optim.ClipGradValue", fmt.Sprintf("invalid clipValue %v: it must be >= 0", clipValue))
	}
	for _, p := range params {
		if p != nil && p.Grad() != nil {
			g := p.Grad()
			g.CopyFrom(g.Clamp(-clipValue, clipValue))
		}
	}
}
