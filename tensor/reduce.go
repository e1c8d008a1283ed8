package tensor

import (
	"math"
	"slices"

	"github.com/nabla-go/nabla/device"
)

// ReduceOp names a reduction for Reduce; see device.ReduceOp.
type ReduceOp = device.ReduceOp

// normDims validates and sorts a set of dimensions; none means all.
func (t *Tensor) normDims(op string, dims []int) []int {
	if len(dims) == 0 {
		all := make([]int, t.Dim())
		for i := range all {
			all[i] = i
		}
		return all
	}
	if t.Dim() == 0 {
		// As in PyTorch, a scalar reduces over its "dimension" 0 (or -1)
		// to itself.
		for _, d := range dims {
			scalarDim(op, d)
		}
		return nil
	}
	seen := make([]bool, t.Dim())
	out := make([]int, 0, len(dims))
	for _, d := range dims {
		d = t.normDim(op, d)
		if seen[d] {
			fail(op, ErrArgument, "dimension %d appears twice in %v", d, dims)
		}
		seen[d] = true
		out = append(out, d)
	}
	slices.Sort(out)
	return out
}

// Reduce applies op over dims (all dimensions when none are given). With
// keepDim the reduced dimensions stay as size 1. Sum and Prod of integer
// or Bool tensors give Int64; ArgMax and ArgMin give Int64 indices into
// the flattened reduced dimensions.
func (t *Tensor) Reduce(op ReduceOp, keepDim bool, dims ...int) *Tensor {
	name := reduceName(op)
	dims = t.normDims(name, dims)
	dt := t.DType()
	outDT := dt
	switch op {
	case device.Mean, device.LogSumExp, device.Var:
		requireFloat(name, t)
	case device.Sum, device.Prod:
		if !dt.IsFloat() {
			outDT = Int64
		}
	case device.ArgMax, device.ArgMin:
		outDT = Int64
		if dt == Bool {
			fail(name, ErrDType, "is not defined for Bool tensors")
		}
	case device.Max, device.Min:
		if dt == Bool {
			fail(name, ErrDType, "is not defined for Bool tensors; use LogicalOr reductions via .As(tensor.Int64).Sum()")
		}
	}
	reduced := make([]bool, t.Dim())
	for _, d := range dims {
		reduced[d] = true
		if t.layout.Shape[d] == 0 && (op == device.Max || op == device.Min || op == device.ArgMax || op == device.ArgMin) {
			fail(name, ErrShape, "cannot reduce over the empty dimension %d of shape %v", d, t.layout.Shape)
		}
	}
	// Move the reduced dimensions last; the backend reduces trailing dims.
	perm := make([]int, 0, t.Dim())
	var kept []int
	for d := range t.Dim() {
		if !reduced[d] {
			perm = append(perm, d)
			kept = append(kept, t.layout.Shape[d])
		}
	}
	perm = append(perm, dims...)
	src := t.Permute(perm...)
	out := t.emptyLike(name, outDT, kept)
	check(name, t.be.Reduce(op, out.view(), src.view(), len(dims)))
	if keepDim {
		shape := slices.Clone(t.layout.Shape)
		for _, d := range dims {
			shape[d] = 1
		}
		out = out.View(shape...)
	}
	return out
}

func reduceName(op ReduceOp) string {
	switch op {
	case device.Sum:
		return "Sum"
	case device.Mean:
		return "Mean"
	case device.Prod:
		return "Prod"
	case device.Max:
		return "Max"
	case device.Min:
		return "Min"
	case device.ArgMax:
		return "ArgMax"
	case device.ArgMin:
		return "ArgMin"
	case device.LogSumExp:
		return "LogSumExp"
	case device.Var:
		return "Var"
	}
	return "Reduce"
}

// Sum adds the elements over dims (all when none are given).
func (t *Tensor) Sum(dims ...int) *Tensor { return t.Reduce(device.Sum, false, dims...) }

// SumKeepDim is Sum keeping the reduced dimensions as size 1.
func (t *Tensor) SumKeepDim(dims ...int) *Tensor { return t.Reduce(device.Sum, true, dims...) }

// Mean averages over dims (all when none are given).
func (t *Tensor) Mean(dims ...int) *Tensor { return t.Reduce(device.Mean, false, dims...) }

// MeanKeepDim is Mean keeping the reduced dimensions as size 1.
func (t *Tensor) MeanKeepDim(dims ...int) *Tensor { return t.Reduce(device.Mean, true, dims...) }

// Prod multiplies the elements over dims.
func (t *Tensor) Prod(dims ...int) *Tensor { return t.Reduce(device.Prod, false, dims...) }

// Max returns the largest element over dims.
func (t *Tensor) Max(dims ...int) *Tensor { return t.Reduce(device.Max, false, dims...) }

// MaxKeepDim is Max keeping the reduced dimensions as size 1.
func (t *Tensor) MaxKeepDim(dims ...int) *Tensor { return t.Reduce(device.Max, true, dims...) }

// Min returns the smallest element over dims.
func (t *Tensor) Min(dims ...int) *Tensor { return t.Reduce(device.Min, false, dims...) }

// MinKeepDim is Min keeping the reduced dimensions as size 1.
func (t *Tensor) MinKeepDim(dims ...int) *Tensor { return t.Reduce(device.Min, true, dims...) }

// ArgMax returns the Int64 index of the first maximum along dim.
func (t *Tensor) ArgMax(dim int) *Tensor { return t.Reduce(device.ArgMax, false, dim) }

// ArgMin returns the Int64 index of the first minimum along dim.
func (t *Tensor) ArgMin(dim int) *Tensor { return t.Reduce(device.ArgMin, false, dim) }

// LogSumExp returns log Σ e^t over dims, computed stably.
func (t *Tensor) LogSumExp(dims ...int) *Tensor { return t.Reduce(device.LogSumExp, false, dims...) }

// Var returns the unbiased (Bessel-corrected) variance over dims, as
// torch.var.
func (t *Tensor) Var(dims ...int) *Tensor { return t.VarCorrected(1, false, dims...) }

// Std returns the unbiased standard deviation over dims, as torch.std.
func (t *Tensor) Std(dims ...int) *Tensor { return t.VarCorrected(1, false, dims...).Sqrt() }

// VarCorrected returns Σ(x-mean)²/(N-correction) over dims: correction 0
// is the population variance, 1 the unbiased estimate.
func (t *Tensor) VarCorrected(correction int, keepDim bool, dims ...int) *Tensor {
	v := t.Reduce(device.Var, keepDim, dims...)
	if correction == 0 {
		return v
	}
	n := 1
	for _, d := range t.normDims("Var", dims) {
		n *= t.layout.Shape[d]
	}
	scale := math.NaN()
	if n > correction {
		scale = float64(n) / float64(n-correction)
	} else if n == correction {
		scale = math.Inf(1)
	}
	return v.Mul(scale)
}

// Softmax returns e^t / Σ e^t along dim, computed stably.
func (t *Tensor) Softmax(dim int) *Tensor { return t.softmax("Softmax", dim, false) }

// LogSoftmax returns t - log Σ e^t along dim, computed stably.
func (t *Tensor) LogSoftmax(dim int) *Tensor { return t.softmax("LogSoftmax", dim, true) }

func (t *Tensor) softmax(name string, dim int, log bool) *Tensor {
	requireFloat(name, t)
	if t.Dim() == 0 {
		scalarDim(name, dim)
		return t.Reshape(1).softmax(name, 0, log).Reshape()
	}
	dim = t.normDim(name, dim)
	out := t.emptyLike(name, t.DType(), t.layout.Shape)
	last := t.Dim() - 1
	check(name, t.be.Softmax(out.Transpose(dim, last).view(), t.Transpose(dim, last).view(), log))
	return out
}
