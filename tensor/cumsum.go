package tensor

import "github.com/nabla-go/nabla/device"

// CumSum returns the running sums of t along dim (negative counts from
// the end): out[i] = t[0] + ... + t[i], as torch.cumsum. Float tensors
// keep their dtype; Int64, Uint8 and Bool tensors give Int64, as in
// PyTorch.
//
// The sums are formed in log2(n) passes of elementwise additions (each
// pass adds the partial sums 2^s positions back), so every device runs
// the same additions in the same order; for floats the rounding differs
// from a left-to-right loop by at most a few units in the last place, and
// the error grows with log2(n) rather than n.
func (t *Tensor) CumSum(dim int) *Tensor {
	const op = "CumSum"
	if t.Dim() == 0 {
		scalarDim(op, dim)
		return t.Reshape(1).CumSum(0).Reshape()
	}
	dim = t.normDim(op, dim)
	src := t
	if !t.DType().IsFloat() {
		src = t.As(Int64)
	}
	a := src.Clone()
	n := a.layout.Shape[dim]
	if n <= 1 {
		return a
	}
	b := a.emptyLike(op, a.DType(), a.layout.Shape)
	for s := 1; s < n; s *= 2 {
		check(op, a.be.Binary(device.Add, b.Narrow(dim, s, n-s).view(), a.Narrow(dim, s, n-s).view(), a.Narrow(dim, 0, n-s).view()))
		check(op, a.be.Copy(b.Narrow(dim, 0, s).view(), a.Narrow(dim, 0, s).view()))
		a, b = b, a
	}
	return a
}
