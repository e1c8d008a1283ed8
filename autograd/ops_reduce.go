package autograd

import (
	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/tensor"
)

// dimsOf returns the sorted, non-negative dimensions that a reduction over
// dims (all when empty) touches.
func dimsOf(v *Var, dims []int) []int {
	rank := v.Dim()
	if len(dims) == 0 {
		all := make([]int, rank)
		for i := range all {
			all[i] = i
		}
		return all
	}
	out := make([]int, 0, len(dims))
	for _, d := range dims {
		if d < 0 {
			d += rank
		}
		out = append(out, d)
	}
	sortInts(out)
	return out
}

func sortInts(a []int) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// Sum adds over dims (all when none are given).
func (v *Var) Sum(dims ...int) *Var { return v.sum(false, dims) }

// SumKeepDim is Sum keeping reduced dimensions as size 1.
func (v *Var) SumKeepDim(dims ...int) *Var { return v.sum(true, dims) }

func (v *Var) sum(keep bool, dims []int) *Var {
	out := v.data.Reduce(device.Sum, keep, dims...)
	if v.Dim() == 0 {
		return record("Sum", out, identityRule, v)
	}
	return record("Sum", out, sumRule(v.Shape(), dimsOf(v, dims), keep), v)
}

// Mean averages over dims (all when none are given).
func (v *Var) Mean(dims ...int) *Var { return v.mean(false, dims) }

// MeanKeepDim is Mean keeping reduced dimensions as size 1.
func (v *Var) MeanKeepDim(dims ...int) *Var { return v.mean(true, dims) }

func (v *Var) mean(keep bool, dims []int) *Var {
	var out *tensor.Tensor
	if keep {
		out = v.data.MeanKeepDim(dims...)
	} else {
		out = v.data.Mean(dims...)
	}
	if v.Dim() == 0 {
		return record("Mean", out, identityRule, v)
	}
	return record("Mean", out, meanRule(v.Shape(), dimsOf(v, dims), keep), v)
}

// Max returns the largest value over dims; the gradient is shared evenly
// among tied maxima.
func (v *Var) Max(dims ...int) *Var {
	out := v.data.Max(dims...)
	return record("Max", out, extremeRule(v.data, out, dimsOf(v, dims), false), v)
}

// MaxKeepDim is Max keeping reduced dimensions as size 1.
func (v *Var) MaxKeepDim(dims ...int) *Var {
	out := v.data.MaxKeepDim(dims...)
	return record("Max", out, extremeRule(v.data, out, dimsOf(v, dims), true), v)
}

// Min returns the smallest value over dims.
func (v *Var) Min(dims ...int) *Var {
	out := v.data.Min(dims...)
	return record("Min", out, extremeRule(v.data, out, dimsOf(v, dims), false), v)
}

// LogSumExp returns log Σ e^v over dims, computed stably.
func (v *Var) LogSumExp(dims ...int) *Var {
	out := v.data.LogSumExp(dims...)
	return record("LogSumExp", out, logSumExpRule(v.data, out, dimsOf(v, dims), false), v)
}

// Var returns the unbiased variance over dims, as torch.var.
func (v *Var) Var(dims ...int) *Var { return v.VarCorrected(1, false, dims...) }

// VarCorrected returns Σ(x-mean)²/(N-correction) over dims.
func (v *Var) VarCorrected(correction int, keepDim bool, dims ...int) *Var {
	out := v.data.VarCorrected(correction, keepDim, dims...)
	return record("Var", out, varRule(v.data, dimsOf(v, dims), correction, keepDim), v)
}

// Std returns the unbiased standard deviation over dims.
func (v *Var) Std(dims ...int) *Var { return v.Var(dims...).Sqrt() }

// Softmax returns e^v / Σ e^v along dim.
func (v *Var) Softmax(dim int) *Var {
	out := v.data.Softmax(dim)
	return record("Softmax", out, softmaxRule(out, dim), v)
}

// LogSoftmax returns v - log Σ e^v along dim.
func (v *Var) LogSoftmax(dim int) *Var {
	out := v.data.LogSoftmax(dim)
	return record("LogSoftmax", out, logSoftmaxRule(out, dim), v)
}

// ArgMax returns the index of the first maximum along dim; indices carry
// no gradient, so the result is a plain tensor.
func (v *Var) ArgMax(dim int) *tensor.Tensor { return v.data.ArgMax(dim) }

// MatMul returns the matrix product with NumPy's rules (see
// tensor.Tensor.MatMul).
func (v *Var) MatMul(other any) *Var {
	u := v.operand("MatMul", other)
	a, b := v, u
	if a.Dim() == 1 {
		a = a.Unsqueeze(0)
	}
	if b.Dim() == 1 {
		b = b.Unsqueeze(1)
	}
	out := record("MatMul", a.data.MatMul(b.data), matmulRule(a.data, b.data), a, b)
	if v.Dim() == 1 {
		out = out.Squeeze(-2)
	}
	if u.Dim() == 1 {
		out = out.Squeeze(-1)
	}
	return out
}
