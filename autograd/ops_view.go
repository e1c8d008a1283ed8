package autograd

import (
	"slices"

	"github.com/nabla-go/nabla/tensor"
)

// Reshape returns v with a new shape (one dimension may be -1).
func (v *Var) Reshape(shape ...int) *Var {
	return record("Reshape", v.data.Reshape(shape...), reshapeRule(v.Shape()), v)
}

// View is Reshape; it exists for PyTorch familiarity.
func (v *Var) View(shape ...int) *Var { return v.Reshape(shape...) }

// Flatten returns v as 1-D.
func (v *Var) Flatten() *Var { return v.Reshape(-1) }

// FlattenDims merges dimensions start..end inclusive.
func (v *Var) FlattenDims(start, end int) *Var {
	return record("Flatten", v.data.FlattenDims(start, end), reshapeRule(v.Shape()), v)
}

// Squeeze removes size-1 dimensions (the given ones, or all).
func (v *Var) Squeeze(dims ...int) *Var {
	return record("Squeeze", v.data.Squeeze(dims...), reshapeRule(v.Shape()), v)
}

// Unsqueeze inserts a size-1 dimension at d.
func (v *Var) Unsqueeze(d int) *Var {
	return record("Unsqueeze", v.data.Unsqueeze(d), reshapeRule(v.Shape()), v)
}

// Transpose swaps two dimensions.
func (v *Var) Transpose(a, b int) *Var {
	return record("Transpose", v.data.Transpose(a, b), transposeRule(a, b), v)
}

// T transposes the last two dimensions.
func (v *Var) T() *Var {
	if v.Dim() < 2 {
		return v
	}
	return v.Transpose(-2, -1)
}

// Permute reorders the dimensions.
func (v *Var) Permute(dims ...int) *Var {
	norm := make([]int, len(dims))
	for i, d := range dims {
		if d < 0 {
			d += v.Dim()
		}
		norm[i] = d
	}
	return record("Permute", v.data.Permute(dims...), permuteRule(norm), v)
}

// Expand broadcasts size-1 dimensions to shape without copying.
func (v *Var) Expand(shape ...int) *Var {
	return record("Expand", v.data.Expand(shape...), expandRule(v.Shape()), v)
}

// Contiguous returns v with a row-major layout.
func (v *Var) Contiguous() *Var {
	if v.data.IsContiguous() {
		return v
	}
	return record("Contiguous", v.data.Contiguous(), identityRule, v)
}

// Narrow returns length elements of dimension dim from start.
func (v *Var) Narrow(dim, start, length int) *Var {
	region := func(t *tensor.Tensor) *tensor.Tensor { return t.Narrow(dim, start, length) }
	return record("Narrow", region(v.data), placeRule(v.data, region), v)
}

// Slice returns elements start:end:step of dimension dim (Python rules).
func (v *Var) Slice(dim, start, end, step int) *Var {
	region := func(t *tensor.Tensor) *tensor.Tensor { return t.Slice(dim, start, end, step) }
	return record("Slice", region(v.data), placeRule(v.data, region), v)
}

// Select returns index i of dimension dim, removing the dimension.
func (v *Var) Select(dim, i int) *Var {
	region := func(t *tensor.Tensor) *tensor.Tensor { return t.Select(dim, i) }
	return record("Select", region(v.data), placeRule(v.data, region), v)
}

// IndexSelect returns the entries of dim listed by the Int64 tensor idx.
func (v *Var) IndexSelect(dim int, idx *tensor.Tensor) *Var {
	return record("IndexSelect", v.data.IndexSelect(dim, idx), indexSelectRule(v.data, idx, dim), v)
}

// Gather returns values of v along dim at the Int64 positions idx.
func (v *Var) Gather(dim int, idx *tensor.Tensor) *Var {
	return record("Gather", v.data.Gather(dim, idx), gatherRule(v.data, idx, dim), v)
}

// MaskedFill returns v with value where mask is true; no gradient flows to
// the filled positions.
func (v *Var) MaskedFill(mask *tensor.Tensor, value float64) *Var {
	return Where(mask, value, v)
}

// Where returns a where cond is true and b elsewhere; a and b are Vars,
// tensors or Go numbers.
func Where(cond *tensor.Tensor, a, b any) *Var {
	like := pickLike(a, b)
	if like == nil {
		panic(&tensor.Error{Op: "Where", Kind: tensor.ErrArgument, Msg: "needs at least one Var or tensor among a and b"})
	}
	av, bv := like.operand("Where", a), like.operand("Where", b)
	out := tensor.Where(cond, av.data, bv.data)
	return record("Where", out, whereRule(cond, av.Shape(), bv.Shape()), av, bv)
}

// Cat concatenates Vars along dim.
func Cat(vs []*Var, dim int) *Var {
	ts := make([]*tensor.Tensor, len(vs))
	sizes := make([]int, len(vs))
	for i, v := range vs {
		ts[i] = v.data
	}
	out := tensor.Cat(ts, dim)
	d := dim
	if d < 0 {
		d += out.Dim()
	}
	for i, v := range vs {
		sizes[i] = v.data.Size(d)
	}
	return record("Cat", out, catRule(sizes, d), slices.Clone(vs)...)
}

// Stack joins Vars of one shape along a new dimension dim.
func Stack(vs []*Var, dim int) *Var {
	parts := make([]*Var, len(vs))
	for i, v := range vs {
		d := dim
		if d < 0 {
			d += v.Dim() + 1
		}
		parts[i] = v.Unsqueeze(d)
	}
	return Cat(parts, dim)
}

// pickLike chooses the operand whose dtype and device scalars should take:
// a Var before a tensor.
func pickLike(xs ...any) *Var {
	for _, x := range xs {
		if v, ok := x.(*Var); ok {
			return v
		}
	}
	for _, x := range xs {
		if t, ok := x.(*tensor.Tensor); ok {
			return Const(t)
		}
	}
	return nil
}
