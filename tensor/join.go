package tensor

import (
	"math"
	"slices"
)

// Cat concatenates tensors along dim. All must share device, dtype, rank
// and every other dimension.
func Cat(ts []*Tensor, dim int) *Tensor {
	const op = "Cat"
	if len(ts) == 0 {
		fail(op, ErrArgument, "needs at least one tensor")
	}
	first := ts[0]
	sameDevice(op, ts...)
	sameDType(op, ts...)
	if first.Dim() == 0 {
		fail(op, ErrShape, "cannot concatenate 0-D tensors; use Stack")
	}
	dim = first.normDim(op, dim)
	shape := slices.Clone(first.layout.Shape)
	shape[dim] = 0
	for i, t := range ts {
		if t.Dim() != first.Dim() {
			fail(op, ErrShape, "tensor %d has rank %d, tensor 0 has rank %d", i, t.Dim(), first.Dim())
		}
		for d := range shape {
			if d != dim && t.layout.Shape[d] != first.layout.Shape[d] {
				fail(op, ErrShape, "tensor %d has shape %v, which differs from %v outside dimension %d", i, t.layout.Shape, first.layout.Shape, dim)
			}
		}
		if t.layout.Shape[dim] > math.MaxInt-shape[dim] {
			fail(op, ErrShape, "the tensors' sizes along dimension %d add up to more than an int holds", dim)
		}
		shape[dim] += t.layout.Shape[dim]
	}
	out := first.emptyLike(op, first.DType(), shape)
	at := 0
	for _, t := range ts {
		n := t.layout.Shape[dim]
		if n > 0 {
			check(op, t.be.Copy(out.Narrow(dim, at, n).view(), t.view()))
		}
		at += n
	}
	return out
}

// Stack joins tensors of one shape along a new dimension dim.
func Stack(ts []*Tensor, dim int) *Tensor {
	const op = "Stack"
	if len(ts) == 0 {
		fail(op, ErrArgument, "needs at least one tensor")
	}
	sameDevice(op, ts...)
	sameDType(op, ts...)
	dim = normDim(op, dim, ts[0].Dim()+1)
	parts := make([]*Tensor, len(ts))
	for i, t := range ts {
		if !slices.Equal(t.layout.Shape, ts[0].layout.Shape) {
			fail(op, ErrShape, "tensor %d has shape %v, tensor 0 has %v", i, t.layout.Shape, ts[0].layout.Shape)
		}
		parts[i] = t.Unsqueeze(dim)
	}
	return Cat(parts, dim)
}

// Split cuts t along dim into views of size elements each (the last may be
// smaller), as torch.split with an int.
func (t *Tensor) Split(size, dim int) []*Tensor {
	if size <= 0 {
		fail("Split", ErrArgument, "size must be positive, got %d", size)
	}
	dim = t.normDim("Split", dim)
	n := t.layout.Shape[dim]
	var out []*Tensor
	for at := 0; at < n; at += size {
		out = append(out, t.Narrow(dim, at, min(size, n-at)))
	}
	return out
}

// SplitSizes cuts t along dim into views of the given sizes, which must
// add up to the dimension's length.
func (t *Tensor) SplitSizes(sizes []int, dim int) []*Tensor {
	dim = t.normDim("SplitSizes", dim)
	total := 0
	for _, s := range sizes {
		if s < 0 {
			fail("SplitSizes", ErrArgument, "negative size in %v", sizes)
		}
		total += s
	}
	if total != t.layout.Shape[dim] {
		fail("SplitSizes", ErrShape, "sizes %v add up to %d, dimension %d has length %d", sizes, total, dim, t.layout.Shape[dim])
	}
	out := make([]*Tensor, len(sizes))
	at := 0
	for i, s := range sizes {
		out[i] = t.Narrow(dim, at, s)
		at += s
	}
	return out
}

// Chunk cuts t along dim into n views of nearly equal size (the last may
// be smaller), as torch.chunk.
func (t *Tensor) Chunk(n, dim int) []*Tensor {
	if n <= 0 {
		fail("Chunk", ErrArgument, "number of chunks must be positive, got %d", n)
	}
	size := t.layout.Shape[t.normDim("Chunk", dim)]
	return t.Split(max(1, (size+n-1)/n), dim)
}
