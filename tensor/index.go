package tensor

import (
	"slices"

	"github.com/nabla-go/nabla/device"
)

func requireIndex(op string, idx *Tensor) {
	if idx.DType() != Int64 {
		fail(op, ErrDType, "indices must be Int64, got %v; convert with .As(tensor.Int64)", idx.DType())
	}
}

// IndexSelect returns the entries of dimension dim listed by the 1-D Int64
// tensor idx, as torch.index_select.
func (t *Tensor) IndexSelect(dim int, idx *Tensor) *Tensor {
	const op = "IndexSelect"
	sameDevice(op, t, idx)
	requireIndex(op, idx)
	if idx.Dim() > 1 {
		fail(op, ErrShape, "needs a 0-D or 1-D index, got shape %v", idx.layout.Shape)
	}
	if t.Dim() == 0 {
		fail(op, ErrShape, "cannot index a 0-D tensor")
	}
	dim = t.normDim(op, dim)
	idx = idx.Reshape(-1)
	shape := slices.Clone(t.layout.Shape)
	shape[dim] = idx.layout.Shape[0]
	// Present idx with the output's shape: stride 0 everywhere but dim.
	il := device.Layout{Shape: shape, Strides: make([]int, len(shape)), Offset: idx.layout.Offset}
	il.Strides[dim] = idx.layout.Strides[0]
	out := t.emptyLike(op, t.DType(), shape)
	src := t.view()
	check(op, t.be.Gather(out.view(), src, device.View{Buf: idx.buf, Layout: il}, dim))
	return out
}

// Gather returns out[i][j][k] = t[i][idx[i][j][k]][k] for dim 1 (and
// likewise for other dims), as torch.gather. idx is Int64 with t's rank
// and no larger than t in the other dimensions.
func (t *Tensor) Gather(dim int, idx *Tensor) *Tensor {
	const op = "Gather"
	sameDevice(op, t, idx)
	requireIndex(op, idx)
	dim = t.normDim(op, dim)
	src := t.fitIndex(op, dim, idx)
	out := t.emptyLike(op, t.DType(), idx.layout.Shape)
	check(op, t.be.Gather(out.view(), src.view(), idx.view(), dim))
	return out
}

// fitIndex checks idx against t for Gather/ScatterAdd and narrows t to
// idx's extent in every dimension but dim.
func (t *Tensor) fitIndex(op string, dim int, idx *Tensor) *Tensor {
	if idx.Dim() != t.Dim() {
		fail(op, ErrShape, "index of shape %v must have the rank of the tensor's shape %v", idx.layout.Shape, t.layout.Shape)
	}
	src := t
	for d := range t.Dim() {
		if d == dim {
			continue
		}
		if idx.layout.Shape[d] > t.layout.Shape[d] {
			fail(op, ErrShape, "index shape %v exceeds tensor shape %v in dimension %d", idx.layout.Shape, t.layout.Shape, d)
		}
		src = src.Narrow(d, 0, idx.layout.Shape[d])
	}
	return src
}

// ScatterAdd returns a copy of t with src's elements added at the
// positions idx names along dim (duplicates accumulate), as
// torch.scatter_add. idx and src share a shape.
func (t *Tensor) ScatterAdd(dim int, idx, src *Tensor) *Tensor {
	const op = "ScatterAdd"
	sameDevice(op, t, idx, src)
	sameDType(op, t, src)
	requireIndex(op, idx)
	dim = t.normDim(op, dim)
	if !slices.Equal(idx.layout.Shape, src.layout.Shape) {
		fail(op, ErrShape, "index shape %v and source shape %v differ", idx.layout.Shape, src.layout.Shape)
	}
	out := t.Clone()
	dst := out.fitIndex(op, dim, idx)
	check(op, t.be.ScatterAdd(dst.view(), src.view(), idx.view(), dim))
	return out
}

// IndexAdd returns a copy of t with the slices of src added at the
// positions of the 1-D Int64 idx along dim, as torch.index_add; it is the
// gradient of IndexSelect.
func (t *Tensor) IndexAdd(dim int, idx, src *Tensor) *Tensor {
	const op = "IndexAdd"
	sameDevice(op, t, idx, src)
	sameDType(op, t, src)
	requireIndex(op, idx)
	dim = t.normDim(op, dim)
	idx = idx.Reshape(-1)
	want := slices.Clone(t.layout.Shape)
	want[dim] = idx.layout.Shape[0]
	if !slices.Equal(src.layout.Shape, want) {
		fail(op, ErrShape, "source shape %v should be %v", src.layout.Shape, want)
	}
	il := device.Layout{Shape: want, Strides: make([]int, len(want)), Offset: idx.layout.Offset}
	il.Strides[dim] = idx.layout.Strides[0]
	out := t.Clone()
	check(op, t.be.ScatterAdd(out.view(), src.view(), device.View{Buf: idx.buf, Layout: il}, dim))
	return out
}

// Where returns a where cond is true and b elsewhere, broadcasting all
// three; a and b are tensors or Go numbers (at least one a tensor).
func Where(cond *Tensor, a, b any) *Tensor {
	const op = "Where"
	if cond.DType() != Bool {
		fail(op, ErrDType, "condition must be Bool, got %v; build it with a comparison such as x.Gt(0)", cond.DType())
	}
	at, aok := a.(*Tensor)
	bt, bok := b.(*Tensor)
	switch {
	case aok && !bok:
		bt = at.operand(op, b)
	case bok && !aok:
		at = bt.operand(op, a)
	case !aok && !bok:
		fail(op, ErrArgument, "needs at least one tensor among a and b")
	}
	sameDevice(op, cond, at, bt)
	sameDType(op, at, bt)
	shape := broadcast(op, cond, at, bt)
	out := at.emptyLike(op, at.DType(), shape)
	check(op, at.be.Where(out.view(), cond.viewAs(shape), at.viewAs(shape), bt.viewAs(shape)))
	return out
}

// MaskedFill returns t with value wherever mask (Bool, broadcast to t) is true.
func (t *Tensor) MaskedFill(mask *Tensor, value float64) *Tensor {
	sameDevice("MaskedFill", t, mask)
	if mask.DType() != Bool {
		fail("MaskedFill", ErrDType, "mask must be Bool, got %v; build it with a comparison such as x.Gt(0)", mask.DType())
	}
	shape := broadcast("MaskedFill", t, mask)
	if !slices.Equal(shape, t.layout.Shape) {
		fail("MaskedFill", ErrShape, "mask shape %v does not broadcast to the tensor's shape %v", mask.layout.Shape, t.layout.Shape)
	}
	return Where(mask, value, t)
}
