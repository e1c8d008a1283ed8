package tensor

import "github.com/nabla-go/nabla/device"

// Sort returns t's elements sorted along dim (negative counts from the
// end) and their Int64 positions along dim, as torch.sort(dim,
// descending, stable=True): equal elements keep their order, and NaN
// sorts above +∞ (last ascending, first descending). Bool tensors sort
// false before true.
//
//	vals, idx := scores.Sort(1, true) // each row, best first
func (t *Tensor) Sort(dim int, descending bool) (values, indices *Tensor) {
	return t.sort("Sort", dim, descending, true)
}

// ArgSort returns the Int64 positions that sort t along dim, as
// torch.argsort(dim, descending, stable=True): t.Gather(dim,
// t.ArgSort(dim, false)) is t sorted.
func (t *Tensor) ArgSort(dim int, descending bool) *Tensor {
	_, indices := t.sort("ArgSort", dim, descending, false)
	return indices
}

// TopK returns the k largest elements along dim (the k smallest when
// largest is false), in order, and their Int64 positions, as
// torch.topk(k, dim, largest, sorted=True). Among equal elements the
// earlier comes first.
//
//	_, top5 := logits.TopK(5, 1, true)
//	hit := top5.Eq(labels.Unsqueeze(1)).Any(1) // top-5 accuracy
func (t *Tensor) TopK(k, dim int, largest bool) (values, indices *Tensor) {
	const op = "TopK"
	size := 1
	if t.Dim() > 0 {
		size = t.layout.Shape[t.normDim(op, dim)]
	}
	if k < 0 || k > size {
		fail(op, ErrArgument, "k = %d is outside [0, %d], the size of dimension %d of shape %v", k, size, dim, t.layout.Shape)
	}
	values, indices = t.sort(op, dim, largest, true)
	if t.Dim() == 0 {
		return values, indices
	}
	return values.Narrow(dim, 0, k), indices.Narrow(dim, 0, k)
}

// sort runs the backend's Sort over dim, moved last by a transposed view
// of t and of the outputs (which have t's shape); withValues false
// computes the positions only.
func (t *Tensor) sort(op string, dim int, descending, withValues bool) (values, indices *Tensor) {
	if t.Dim() == 0 {
		scalarDim(op, dim)
		values, indices = t.Reshape(1).sort(op, 0, descending, withValues)
		if values != nil {
			values = values.Reshape()
		}
		return values, indices.Reshape()
	}
	dim = t.normDim(op, dim)
	if t.DType() == Bool {
		_, indices = t.As(Uint8).sort(op, dim, descending, false)
		if withValues {
			values = t.Gather(dim, indices)
		}
		return values, indices
	}
	last := t.Dim() - 1
	indices = t.emptyLike(op, Int64, t.layout.Shape)
	var vView device.View
	if withValues {
		values = t.emptyLike(op, t.DType(), t.layout.Shape)
		vView = values.Transpose(dim, last).view()
	}
	check(op, t.be.Sort(vView, indices.Transpose(dim, last).view(), t.Transpose(dim, last).view(), descending))
	return values, indices
}
