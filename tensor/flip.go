package tensor

// Flip returns a copy of t with the order of its elements reversed along
// each of dims (negative counts from the end), as torch.flip.
func (t *Tensor) Flip(dims ...int) *Tensor {
	const op = "Flip"
	if len(dims) == 0 {
		fail(op, ErrArgument, "needs at least one dimension to flip")
	}
	if t.Dim() == 0 {
		for _, d := range dims {
			scalarDim(op, d)
		}
		return t.Clone()
	}
	seen := make([]bool, t.Dim())
	out := t
	for _, d := range dims {
		d = t.normDim(op, d)
		if seen[d] {
			fail(op, ErrArgument, "dimension %d appears twice in %v", d, dims)
		}
		seen[d] = true
		n := t.layout.Shape[d]
		reversed := On(t.Device()).Of(Int64).Arange(float64(n-1), -1, -1)
		out = out.IndexSelect(d, reversed)
	}
	return out
}
