package autograd

import "github.com/nabla-go/nabla/tensor"

// Sin returns the sine of v.
func (v *Var) Sin() *Var { return record("Sin", v.data.Sin(), sinRule(v.data), v) }

// Cos returns the cosine of v.
func (v *Var) Cos() *Var { return record("Cos", v.data.Cos(), cosRule(v.data), v) }

// Log1p returns ln(1+v), accurate near zero.
func (v *Var) Log1p() *Var { return record("Log1p", v.data.Log1p(), log1pRule(v.data), v) }

// Index selects along leading dimensions: v.Index(1, 2) is v[1][2]. The
// gradient flows back to the selected elements only.
func (v *Var) Index(indices ...int) *Var {
	region := func(t *tensor.Tensor) *tensor.Tensor { return t.Index(indices...) }
	return record("Index", region(v.data), placeRule(v.data, region), v)
}

// Sort returns v sorted along dim and the Int64 positions of the sorted
// elements (see tensor.Tensor.Sort). The gradient of each sorted element
// flows back to the position it came from.
func (v *Var) Sort(dim int, descending bool) (*Var, *tensor.Tensor) {
	values, indices := v.data.Sort(dim, descending)
	return record("Sort", values, gatherRule(v.data, indices, dim), v), indices
}

// TopK returns the k largest (or, with largest false, smallest) elements
// of v along dim and their Int64 positions (see tensor.Tensor.TopK); the
// gradient flows back to those positions.
func (v *Var) TopK(k, dim int, largest bool) (*Var, *tensor.Tensor) {
	values, indices := v.data.TopK(k, dim, largest)
	return record("TopK", values, gatherRule(v.data, indices, dim), v), indices
}

// CumSum returns the running sums of v along dim; the gradient is the
// running sum of the upstream gradient taken from the other end.
func (v *Var) CumSum(dim int) *Var {
	return record("CumSum", v.data.CumSum(dim), cumSumRule(dim), v)
}

// Flip reverses v along each of dims; the gradient is flipped back.
func (v *Var) Flip(dims ...int) *Var {
	return record("Flip", v.data.Flip(dims...), flipRule(dims), v)
}

// Repeat tiles v repeats[i] times along dimension i (see
// tensor.Tensor.Repeat); the gradient of each element is the sum over its
// copies.
func (v *Var) Repeat(repeats ...int) *Var {
	return record("Repeat", v.data.Repeat(repeats...), repeatRule(v.Shape(), repeats), v)
}

// Norm returns the vector p-norm of v over dims (all when none are
// given), as tensor.Tensor.Norm. Its gradient is PyTorch's: zero where the
// norm is zero, and for p = ±Inf shared evenly among the elements of
// largest (smallest) magnitude.
func (v *Var) Norm(p float64, dims ...int) *Var { return v.norm(p, false, dims) }

// NormKeepDim is Norm keeping the reduced dimensions as size 1.
func (v *Var) NormKeepDim(p float64, dims ...int) *Var { return v.norm(p, true, dims) }

func (v *Var) norm(p float64, keep bool, dims []int) *Var {
	var out *tensor.Tensor
	if keep {
		out = v.data.NormKeepDim(p, dims...)
	} else {
		out = v.data.Norm(p, dims...)
	}
	if v.Dim() == 0 {
		dims = nil
	}
	return record("Norm", out, normRule(v.data, out, p, dimsOf(v, dims), keep), v)
}
