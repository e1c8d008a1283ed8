package tensor

import (
	"math"
	"math/bits"
	"slices"

	"github.com/nabla-go/nabla/device"
)

// inferShape resolves one -1 entry of shape so the total is numel.
func inferShape(op string, shape []int, numel int) []int {
	shape = slices.Clone(shape)
	infer, known := -1, 1
	for i, d := range shape {
		switch {
		case d == -1 && infer < 0:
			infer = i
		case d < 0:
			fail(op, ErrShape, "invalid shape %v: only one dimension may be -1 and none may be negative", shape)
		default:
			hi, lo := bits.Mul64(uint64(known), uint64(d))
			if hi != 0 || lo > math.MaxInt {
				// The product would wrap around and could match numel.
				fail(op, ErrShape, "shape %v has too many elements: their number overflows int", shape)
			}
			known = int(lo)
		}
	}
	if infer >= 0 {
		if known == 0 || numel%known != 0 {
			fail(op, ErrShape, "cannot infer the -1 in shape %v for %d elements", shape, numel)
		}
		shape[infer] = numel / known
	} else if known != numel {
		fail(op, ErrShape, "shape %v holds %d elements, the tensor has %d", shape, known, numel)
	}
	checkShape(op, shape) // the strides of [0, huge, huge] overflow although it holds nothing
	return shape
}

// viewStrides computes strides that present t's memory with newShape
// without copying, or reports false when the layout does not allow it
// (dimensions being merged must be contiguous with each other).
func viewStrides(old device.Layout, newShape []int) ([]int, bool) {
	if old.Numel() == 0 {
		return device.ContiguousStrides(newShape), true
	}
	// Drop size-1 dims of the old layout: they constrain nothing.
	var os, ost []int
	for i, d := range old.Shape {
		if d != 1 {
			os = append(os, d)
			ost = append(ost, old.Strides[i])
		}
	}
	strides := make([]int, len(newShape))
	oi, ni := 0, 0
	for ni < len(newShape) || oi < len(os) {
		if ni < len(newShape) && newShape[ni] == 1 {
			strides[ni] = 1
			if ni+1 < len(newShape) {
				strides[ni] = 0 // filled below from the neighbour
			}
			ni++
			continue
		}
		if oi >= len(os) || ni >= len(newShape) {
			return nil, false
		}
		// Take a chunk of old dims [oi, oj) whose product equals a chunk of new dims [ni, nj).
		oj, nj := oi+1, ni+1
		op, np := os[oi], newShape[ni]
		for op != np {
			if op < np {
				if oj >= len(os) {
					return nil, false
				}
				op *= os[oj]
				oj++
			} else {
				if nj >= len(newShape) {
					return nil, false
				}
				np *= newShape[nj]
				nj++
			}
		}
		for k := oi; k+1 < oj; k++ {
			if ost[k] != ost[k+1]*os[k+1] {
				return nil, false
			}
		}
		s := ost[oj-1]
		for k := nj - 1; k >= ni; k-- {
			strides[k] = s
			s *= newShape[k]
		}
		oi, ni = oj, nj
	}
	// Size-1 dims take the stride their neighbour would give them, which
	// keeps contiguous results reporting as contiguous.
	for i := len(newShape) - 1; i >= 0; i-- {
		if newShape[i] == 1 {
			if i+1 < len(newShape) {
				strides[i] = strides[i+1] * newShape[i+1]
			} else {
				strides[i] = 1
			}
		}
	}
	return strides, true
}

// View returns t with a new shape, sharing memory; one dimension may be -1.
// It panics when t's layout cannot be viewed that way without a copy; use
// Reshape, which copies when it must.
func (t *Tensor) View(shape ...int) *Tensor {
	shape = inferShape("View", shape, t.Numel())
	strides, ok := viewStrides(t.layout, shape)
	if !ok {
		fail("View", ErrShape, "a tensor of shape %v and strides %v cannot be viewed as %v without a copy; call .Contiguous() first or use Reshape",
			t.layout.Shape, t.layout.Strides, shape)
	}
	return t.withLayout(device.Layout{Shape: shape, Strides: strides, Offset: t.layout.Offset})
}

// Reshape returns t with a new shape (one dimension may be -1): a view when
// the layout allows it, a contiguous copy otherwise.
func (t *Tensor) Reshape(shape ...int) *Tensor {
	shape = inferShape("Reshape", shape, t.Numel())
	if strides, ok := viewStrides(t.layout, shape); ok {
		return t.withLayout(device.Layout{Shape: shape, Strides: strides, Offset: t.layout.Offset})
	}
	return t.Contiguous().View(shape...)
}

// Flatten returns t as a 1-D tensor.
func (t *Tensor) Flatten() *Tensor { return t.Reshape(-1) }

// FlattenDims merges dimensions start..end (inclusive, negative counts from
// the end) into one, as torch.flatten(start_dim, end_dim).
func (t *Tensor) FlattenDims(start, end int) *Tensor {
	if t.Dim() == 0 {
		return t.Reshape(1)
	}
	s, e := t.normDim("FlattenDims", start), t.normDim("FlattenDims", end)
	if s > e {
		fail("FlattenDims", ErrArgument, "start dimension %d comes after end dimension %d", start, end)
	}
	shape := slices.Clone(t.layout.Shape[:s])
	shape = append(shape, device.Numel(t.layout.Shape[s:e+1]))
	shape = append(shape, t.layout.Shape[e+1:]...)
	return t.Reshape(shape...)
}

// Permute reorders the dimensions: result dimension i is t's dims[i].
func (t *Tensor) Permute(dims ...int) *Tensor {
	if len(dims) != t.Dim() {
		fail("Permute", ErrArgument, "got %d dimensions %v for a tensor of rank %d", len(dims), dims, t.Dim())
	}
	seen := make([]bool, t.Dim())
	l := device.Layout{Shape: make([]int, len(dims)), Strides: make([]int, len(dims)), Offset: t.layout.Offset}
	for i, d := range dims {
		d = t.normDim("Permute", d)
		if seen[d] {
			fail("Permute", ErrArgument, "dimension %d appears twice in %v", d, dims)
		}
		seen[d] = true
		l.Shape[i], l.Strides[i] = t.layout.Shape[d], t.layout.Strides[d]
	}
	return t.withLayout(l)
}

// Transpose swaps dimensions a and b.
func (t *Tensor) Transpose(a, b int) *Tensor {
	if t.Dim() == 0 {
		scalarDim("Transpose", a)
		scalarDim("Transpose", b)
		return t
	}
	a, b = t.normDim("Transpose", a), t.normDim("Transpose", b)
	l := t.layout.Clone()
	l.Shape[a], l.Shape[b] = l.Shape[b], l.Shape[a]
	l.Strides[a], l.Strides[b] = l.Strides[b], l.Strides[a]
	return t.withLayout(l)
}

// T returns the transpose of a matrix (the last two dimensions swapped);
// a 0-d or 1-D tensor is returned as is.
func (t *Tensor) T() *Tensor {
	if t.Dim() < 2 {
		return t
	}
	return t.Transpose(-2, -1)
}

// Squeeze removes the given size-1 dimensions, or all of them when none
// are given. Naming a dimension whose size is not 1 leaves it, as PyTorch.
func (t *Tensor) Squeeze(dims ...int) *Tensor {
	if t.Dim() == 0 {
		for _, d := range dims {
			scalarDim("Squeeze", d)
		}
		return t
	}
	drop := make([]bool, t.Dim())
	if len(dims) == 0 {
		for i, d := range t.layout.Shape {
			drop[i] = d == 1
		}
	}
	for _, d := range dims {
		d = t.normDim("Squeeze", d)
		drop[d] = t.layout.Shape[d] == 1
	}
	l := device.Layout{Offset: t.layout.Offset, Shape: []int{}, Strides: []int{}}
	for i := range drop {
		if !drop[i] {
			l.Shape = append(l.Shape, t.layout.Shape[i])
			l.Strides = append(l.Strides, t.layout.Strides[i])
		}
	}
	return t.withLayout(l)
}

// Unsqueeze inserts a size-1 dimension at position d (0..Dim(); negative
// counts from the end, so -1 appends).
func (t *Tensor) Unsqueeze(d int) *Tensor {
	d = normDim("Unsqueeze", d, t.Dim()+1)
	stride := 1
	if d < t.Dim() {
		stride = t.layout.Strides[d] * t.layout.Shape[d]
	}
	l := device.Layout{Offset: t.layout.Offset}
	l.Shape = slices.Insert(slices.Clone(t.layout.Shape), d, 1)
	l.Strides = slices.Insert(slices.Clone(t.layout.Strides), d, stride)
	return t.withLayout(l)
}

// Expand broadcasts size-1 dimensions to the given shape without copying
// (the expanded dimensions get stride 0); -1 keeps a dimension. New leading
// dimensions may be added.
func (t *Tensor) Expand(shape ...int) *Tensor {
	if len(shape) < t.Dim() {
		fail("Expand", ErrShape, "cannot expand shape %v to fewer dimensions %v", t.layout.Shape, shape)
	}
	shape = slices.Clone(shape)
	lead := len(shape) - t.Dim()
	for i := range lead {
		if shape[i] < 0 {
			fail("Expand", ErrShape, "new leading dimension %d cannot be -1 in %v", i, shape)
		}
	}
	for i := lead; i < len(shape); i++ {
		switch {
		case shape[i] == -1:
			shape[i] = t.layout.Shape[i-lead]
		case shape[i] < 0:
			fail("Expand", ErrShape, "invalid size %d in %v: sizes must be non-negative, or -1 to keep a dimension", shape[i], shape)
		}
	}
	l, ok := expandLayout(t.layout, shape)
	if !ok {
		fail("Expand", ErrShape, "cannot expand shape %v to %v: only size-1 dimensions can grow", t.layout.Shape, shape)
	}
	// A view allocates nothing, but its element count must still fit in
	// an int: every reduction and copy of it counts its elements.
	checkShape("Expand", shape)
	return t.withLayout(l)
}

// ExpandAs expands t to other's shape.
func (t *Tensor) ExpandAs(other *Tensor) *Tensor { return t.Expand(other.layout.Shape...) }

// Narrow returns the view of length elements of dimension dim starting at
// start.
func (t *Tensor) Narrow(dim, start, length int) *Tensor {
	dim = t.normDim("Narrow", dim)
	size := t.layout.Shape[dim]
	if start < 0 {
		start += size
	}
	if start < 0 || length < 0 || start+length > size {
		fail("Narrow", ErrIndex, "range [%d, %d) is outside dimension %d of size %d", start, start+length, dim, size)
	}
	l := t.layout.Clone()
	l.Shape[dim] = length
	if length > 0 {
		l.Offset += start * l.Strides[dim]
	}
	return t.withLayout(l)
}

// Slice returns elements start, start+step, ... before end of dimension
// dim, with Python's rules: negative positions count from the end and
// out-of-range bounds are clamped. step must be positive.
func (t *Tensor) Slice(dim, start, end, step int) *Tensor {
	dim = t.normDim("Slice", dim)
	if step <= 0 {
		fail("Slice", ErrArgument, "step must be positive, got %d", step)
	}
	size := t.layout.Shape[dim]
	clampPos := func(p int) int {
		if p < 0 {
			p += size
		}
		return min(max(p, 0), size)
	}
	start, end = clampPos(start), clampPos(end)
	n := 0
	if end > start {
		n = (end - start + step - 1) / step
	}
	l := t.layout.Clone()
	l.Shape[dim] = n
	if n > 0 {
		l.Offset += start * l.Strides[dim]
	}
	l.Strides[dim] *= step
	return t.withLayout(l)
}

// Select returns the slice at index i of dimension dim, which is removed.
func (t *Tensor) Select(dim, i int) *Tensor {
	dim = t.normDim("Select", dim)
	size := t.layout.Shape[dim]
	if i < -size || i >= size {
		fail("Select", ErrIndex, "index %d is out of range for dimension %d of size %d", i, dim, size)
	}
	if i < 0 {
		i += size
	}
	l := device.Layout{Offset: t.layout.Offset + i*t.layout.Strides[dim]}
	l.Shape = slices.Delete(slices.Clone(t.layout.Shape), dim, dim+1)
	l.Strides = slices.Delete(slices.Clone(t.layout.Strides), dim, dim+1)
	return t.withLayout(l)
}

// Index selects along leading dimensions: t.Index(1, 2) is t[1][2].
func (t *Tensor) Index(indices ...int) *Tensor {
	out := t
	for _, i := range indices {
		out = out.Select(0, i)
	}
	return out
}

// Contiguous returns t when it is already row-major without gaps, and a
// contiguous copy otherwise.
func (t *Tensor) Contiguous() *Tensor {
	if t.IsContiguous() {
		return t
	}
	return t.Clone()
}

// Clone returns a contiguous copy of t on the same device.
func (t *Tensor) Clone() *Tensor {
	out := t.emptyLike("Clone", t.DType(), t.layout.Shape)
	check("Clone", t.be.Copy(out.view(), t.view()))
	return out
}
