package tensor_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/tensor"
)

// refMatMulND is NumPy's matmul on reference arrays, written from the
// definition: 1-D operands are promoted to matrices and the promoted
// dimension removed afterwards; batch dimensions broadcast.
func refMatMulND(a, b ref) ref {
	as, bs := a.shape, b.shape
	if len(as) == 1 {
		as = []int{1, as[0]}
	}
	if len(bs) == 1 {
		bs = []int{bs[0], 1}
	}
	m, k, n := as[len(as)-2], as[len(as)-1], bs[len(bs)-1]
	batch, ok := refBroadcastShape(as[:len(as)-2], bs[:len(bs)-2])
	if !ok {
		panic("batch does not broadcast")
	}
	ra, rb := ref{as, a.data}, ref{bs, b.data}
	full := append(append([]int{}, batch...), m, n)
	out := make([]float64, numel(full))
	for o := range out {
		idx := unflatten(full, o)
		i, j := idx[len(idx)-2], idx[len(idx)-1]
		var s float64
		for p := range k {
			ia := append(append([]int{}, idx[:len(batch)]...), i, p)
			ib := append(append([]int{}, idx[:len(batch)]...), p, j)
			s += ra.at(ia) * rb.at(ib)
		}
		out[o] = s
	}
	shape := append([]int{}, batch...)
	if len(a.shape) > 1 {
		shape = append(shape, m)
	}
	if len(b.shape) > 1 {
		shape = append(shape, n)
	}
	return ref{shape, out}
}

func TestMatMulShapes(t *testing.T) {
	cases := []struct {
		a, b, want []int
	}{
		{[]int{4}, []int{4}, []int{}},
		{[]int{3, 4}, []int{4}, []int{3}},
		{[]int{4}, []int{4, 5}, []int{5}},
		{[]int{3, 4}, []int{4, 5}, []int{3, 5}},
		{[]int{1, 1}, []int{1, 1}, []int{1, 1}},
		{[]int{2, 3, 4}, []int{2, 4, 5}, []int{2, 3, 5}},
		{[]int{2, 3, 4}, []int{4, 5}, []int{2, 3, 5}},
		{[]int{3, 4}, []int{2, 4, 5}, []int{2, 3, 5}},
		{[]int{2, 1, 3, 4}, []int{5, 4, 2}, []int{2, 5, 3, 2}},
		{[]int{1, 3, 4}, []int{6, 4, 2}, []int{6, 3, 2}},
		{[]int{2, 3, 4}, []int{4}, []int{2, 3}},
		{[]int{4}, []int{2, 4, 5}, []int{2, 5}},
		{[]int{3, 0}, []int{0, 5}, []int{3, 5}}, // k = 0: zeros
		{[]int{0, 4}, []int{4, 5}, []int{0, 5}},
		{[]int{3, 4}, []int{4, 0}, []int{3, 0}},
		{[]int{0, 3, 4}, []int{4, 5}, []int{0, 3, 5}},
		{[]int{17, 33}, []int{33, 65}, []int{17, 65}},
		{[]int{67, 129}, []int{129, 45}, []int{67, 45}},
		{[]int{3, 2, 70, 9}, []int{1, 9, 130}, []int{3, 2, 70, 130}},
	}
	for _, c := range cases {
		for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
			for _, strided := range []bool{false, true} {
				av, bv := testValues(numel(c.a), 1), testValues(numel(c.b), 2)
				a := makeOperand(av, c.a, dt, strided)
				b := makeOperand(bv, c.b, dt, strided)
				want := refMatMulND(ref{c.a, av}, ref{c.b, bv})
				require.Equal(t, c.want, want.shape)
				got := a.MatMul(b)
				require.Equal(t, dt, got.DType())
				tol := 1e-5
				if dt == tensor.Float64 {
					tol = 1e-12
				}
				requireClose(t, want.data, want.shape, got, tol, "%v · %v %v strided=%v", c.a, c.b, dt, strided)
				requireClose(t, want.data, want.shape, tensor.MatMul(a, b), tol)
			}
		}
	}
}

func TestMatMulLayouts(t *testing.T) {
	a := seq(5, 3).Mul(0.5).Sub(2)  // [5 3]
	b := seq(4, 3).Mul(0.25).Add(1) // [4 3]
	want := refMatMul(values(a), values(b.T().Contiguous()), 5, 3, 4)

	// A transposed right operand is read in place.
	requireClose(t, want, []int{5, 4}, a.MatMul(b.T()), 1e-12)
	// Both transposed: (bᵀ... ) c = (b aᵀ)ᵀ.
	requireClose(t, values(b.MatMul(a.T()).T().Contiguous()), []int{5, 4}, b.MatMul(a.T()).T(), 0)
	requireClose(t, want, []int{5, 4}, a.T().T().MatMul(b.T()), 1e-12)
	at := a.T().Contiguous().T() // column-major a
	requireClose(t, want, []int{5, 4}, at.MatMul(b.T()), 1e-12)

	// Batched operands from a permute (batch stride not outermost).
	x := seq(3, 2, 4).Mul(0.1) // [3 2 4] read as batch 2 of [3 4] via permute
	xb := x.Permute(1, 0, 2)   // [2 3 4], strides [4 8 1]
	y := seq(2, 4, 5).Mul(0.2)
	requireClose(t, refMatMulND(refOf(xb.Contiguous()), refOf(y)).data, []int{2, 3, 5}, xb.MatMul(y), 1e-12)

	// Batch dimensions that cannot merge into one stride (copied first).
	p := seq(3, 2, 4, 5).Permute(1, 0, 2, 3) // [2 3 4 5], batch strides [20 40]
	q := seq(5, 6).Mul(0.5)
	requireClose(t, refMatMulND(refOf(p.Contiguous()), refOf(q)).data, []int{2, 3, 4, 6}, p.MatMul(q), 1e-12)

	// An expanded (stride 0) batch operand.
	e := seq(4, 5).Unsqueeze(0).Expand(3, 4, 5)
	requireClose(t, refMatMulND(refOf(e.Contiguous()), refOf(q)).data, []int{3, 4, 6}, e.MatMul(q), 1e-12)
	f := seq(1, 3, 4).Expand(2, 3, 3, 4)
	g := seq(3, 4, 2)
	requireClose(t, refMatMulND(refOf(f.Contiguous()), refOf(g)).data, []int{2, 3, 3, 2}, f.MatMul(g), 1e-12)

	// A sliced operand with an offset and a row stride larger than its width.
	s := seq(6, 8).Slice(0, 1, 6, 2).Narrow(1, 2, 5) // [3 5]
	requireClose(t, refMatMulND(refOf(s.Contiguous()), refOf(q)).data, []int{3, 6}, s.MatMul(q), 1e-12)

	// The identity.
	requireClose(t, values(a), []int{5, 3}, a.MatMul(tensor.Of(tensor.Float64).Eye(3)), 0)
	requireClose(t, values(a), []int{5, 3}, tensor.Of(tensor.Float64).Eye(5).MatMul(a), 0)

	// The result is a fresh contiguous tensor.
	r := a.MatMul(b.T())
	require.True(t, r.IsContiguous())
	require.False(t, r.SharesMemory(a))
}

func TestMatMulErrors(t *testing.T) {
	a := tensor.Zeros(4, 3)
	b := tensor.Zeros(2, 5)
	err := requireFails(t, tensor.ErrShape, func() { a.MatMul(b) })
	require.Equal(t, "tensor: MatMul: shapes [4 3] and [2 5] do not match (inner 3 != 2)", err.Error())
	var te *tensor.Error
	require.ErrorAs(t, err, &te)
	require.Equal(t, "MatMul", te.Op)
	require.Equal(t, tensor.ErrShape, te.Kind)

	requireFails(t, tensor.ErrShape, func() { tensor.Zeros(3).MatMul(tensor.Zeros(4)) }, "shapes [3] and [4] do not match (inner 3 != 4)")
	requireFails(t, tensor.ErrShape, func() { tensor.Zeros(2, 3, 4).MatMul(tensor.Zeros(3, 4, 5)) },
		"tensor: MatMul: batch dimensions of shapes [2 3 4] and [3 4 5] do not broadcast")
	requireFails(t, tensor.ErrShape, func() { tensor.Scalar(float32(2)).MatMul(tensor.Zeros(3)) },
		"tensor: MatMul: needs operands of rank 1 or more, got shapes [] and [3]; use Mul for scalars")
	requireFails(t, tensor.ErrDType, func() { tensor.Of(tensor.Int64).Ones(2, 2).MatMul(tensor.Of(tensor.Int64).Ones(2, 2)) },
		"tensor: MatMul: needs a float32 or float64 tensor, got int64")
	requireFails(t, tensor.ErrDType, func() { tensor.Ones(2, 2).MatMul(tensor.Of(tensor.Float64).Ones(2, 2)) },
		"tensor: MatMul: dtypes float32 and float64 differ")
}
