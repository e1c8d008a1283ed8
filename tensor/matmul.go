package tensor

import (
	"slices"

	"github.com/nabla-go/nabla/device"
)

// MatMul returns the matrix product of t and u with NumPy's rules: 1-D·1-D
// is a dot product, 2-D·2-D a matrix product, 1-D operands are treated as
// a row (left) or column (right) vector, and higher ranks are batches of
// matrices whose batch dimensions broadcast. Transposed operands are read
// in place, without copies.
func (t *Tensor) MatMul(u *Tensor) *Tensor {
	const op = "MatMul"
	sameDevice(op, t, u)
	sameDType(op, t, u)
	requireFloat(op, t)
	if t.Dim() == 0 || u.Dim() == 0 {
		fail(op, ErrShape, "needs operands of rank 1 or more, got shapes %v and %v; use Mul for scalars", t.layout.Shape, u.layout.Shape)
	}
	a, b := t, u
	if a.Dim() == 1 {
		a = a.Unsqueeze(0)
	}
	if b.Dim() == 1 {
		b = b.Unsqueeze(1)
	}
	m, k := a.layout.Shape[a.Dim()-2], a.layout.Shape[a.Dim()-1]
	k2, n := b.layout.Shape[b.Dim()-2], b.layout.Shape[b.Dim()-1]
	if k != k2 {
		fail(op, ErrShape, "shapes %v and %v do not match (inner %d != %d)", t.layout.Shape, u.layout.Shape, k, k2)
	}
	batchA, batchB := a.layout.Shape[:a.Dim()-2], b.layout.Shape[:b.Dim()-2]
	batch, err := BroadcastShapes(batchA, batchB)
	if err != nil {
		fail(op, ErrShape, "batch dimensions of shapes %v and %v do not broadcast", t.layout.Shape, u.layout.Shape)
	}
	nb := device.Numel(batch)
	av := a.batched(batch, m, k)
	bv := b.batched(batch, k, n)
	out := t.emptyLike(op, t.DType(), []int{nb, m, n})
	check(op, t.be.MatMul(out.view(), av, bv))

	shape := slices.Clone(batch)
	if t.Dim() > 1 {
		shape = append(shape, m)
	}
	if u.Dim() > 1 {
		shape = append(shape, n)
	}
	return out.View(shape...)
}

// batched presents t (of shape batch'+[r, c], where batch' broadcasts to
// batch) as a 3-D view [Numel(batch), r, c]. The batch dimensions merge
// into one stride when the layout allows; otherwise t is copied first.
func (t *Tensor) batched(batch []int, r, c int) device.View {
	full := append(slices.Clone(batch), r, c)
	l, _ := expandLayout(t.layout, full)
	nb := device.Numel(batch)
	bstride, ok := 0, true
	// find a single stride s with stride[i] == s*Numel(batch[i+1:]) for
	// every batch dim of size > 1
	inner := 1
	first := true
	for i := len(batch) - 1; i >= 0; i-- {
		if batch[i] == 1 {
			continue
		}
		if first {
			bstride = l.Strides[i]
			first = false
		} else if l.Strides[i] != bstride*inner {
			ok = false
		}
		inner *= batch[i]
	}
	if !ok {
		cc := t.Expand(full...).Contiguous()
		return device.View{Buf: cc.buf, Layout: device.Layout{Shape: []int{nb, r, c}, Strides: []int{r * c, c, 1}, Offset: cc.layout.Offset}}
	}
	n := len(full)
	return device.View{Buf: t.buf, Layout: device.Layout{
		Shape:   []int{nb, r, c},
		Strides: []int{bstride, l.Strides[n-2], l.Strides[n-1]},
		Offset:  l.Offset,
	}}
}

// MatMul returns a·b; see Tensor.MatMul.
func MatMul(a, b *Tensor) *Tensor { return a.MatMul(b) }
