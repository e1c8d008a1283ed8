package tensor

import (
	"math"

	"github.com/nabla-go/nabla/device"
)

// Norm returns the vector p-norm over dims (all dimensions when none are
// given), as torch.linalg.vector_norm(ord=p, dim=dims): (Σ|x|^p)^(1/p),
// with p = 2 the Euclidean norm, p = 1 the sum of magnitudes, p = ±Inf
// the largest (smallest) magnitude and p = 0 the number of nonzero
// elements. Float dtypes.
//
//	unit := x.Div(x.NormKeepDim(2, 1)) // each row scaled to length 1
func (t *Tensor) Norm(p float64, dims ...int) *Tensor { return t.norm(p, false, dims) }

// NormKeepDim is Norm keeping the reduced dimensions as size 1.
func (t *Tensor) NormKeepDim(p float64, dims ...int) *Tensor { return t.norm(p, true, dims) }

func (t *Tensor) norm(p float64, keep bool, dims []int) *Tensor {
	const op = "Norm"
	requireFloat(op, t)
	if math.IsNaN(p) {
		fail(op, ErrArgument, "the order p must not be NaN")
	}
	sum := func(x *Tensor) *Tensor { return x.Reduce(device.Sum, keep, dims...) }
	switch {
	case p == 2:
		return sum(t.Square()).Sqrt()
	case p == 1:
		return sum(t.Abs())
	case math.IsInf(p, 1):
		return t.Abs().Reduce(device.Max, keep, dims...)
	case math.IsInf(p, -1):
		return t.Abs().Reduce(device.Min, keep, dims...)
	case p == 0:
		return sum(t.Ne(0).As(t.DType()))
	}
	return sum(t.Abs().Pow(p)).Pow(1 / p)
}
