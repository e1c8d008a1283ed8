package tensor

import (
	"slices"

	"github.com/nabla-go/nabla/device"
)

// Repeat returns t tiled repeats[i] times along dimension i, as
// torch.Tensor.repeat: a [2, 3] tensor repeated (2, 1) is [4, 3], its rows
// twice over. When repeats has more entries than t has dimensions, t
// gains leading dimensions of size 1 first.
func (t *Tensor) Repeat(repeats ...int) *Tensor {
	const op = "Repeat"
	if len(repeats) < t.Dim() {
		fail(op, ErrArgument, "got %d repeats %v for a tensor of rank %d; give one per dimension (1 keeps a dimension)", len(repeats), repeats, t.Dim())
	}
	for _, r := range repeats {
		if r < 0 {
			fail(op, ErrArgument, "repeats %v must not be negative", repeats)
		}
	}
	lead := len(repeats) - t.Dim()
	shape := slices.Concat(slices.Repeat([]int{1}, lead), t.layout.Shape)
	x := t.Reshape(shape...)
	// Interleave a stride-0 dimension of size repeats[i] before each
	// dimension i, copy, and merge the pairs.
	l := device.Layout{Offset: x.layout.Offset}
	out := make([]int, len(shape))
	for i, s := range shape {
		l.Shape = append(l.Shape, repeats[i], s)
		l.Strides = append(l.Strides, 0, x.layout.Strides[i])
		out[i] = repeats[i] * s
	}
	return x.withLayout(l).Clone().View(out...)
}
