package tensor_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/tensor"
)

// testValues returns n deterministic values in [-3, 3], none of them zero,
// all exactly representable in float32.
func testValues(n, seed int) []float64 {
	out := make([]float64, n)
	for k := range out {
		out[k] = float64((k*37+seed*11)%13)/2 - 3 + 0.25
	}
	return out
}

// smallInts returns n deterministic values in {-2, ..., 2}, so that
// comparisons see ties.
func smallInts(n, seed int) []float64 {
	out := make([]float64, n)
	for k := range out {
		out[k] = float64((k*7+seed*3)%5 - 2)
	}
	return out
}

// broadcastPairs are operand shapes that broadcast, covering 0-d, size-1,
// empty and mixed-rank cases.
var broadcastPairs = []struct{ a, b []int }{
	{[]int{3}, []int{3}},
	{[]int{2, 3}, []int{2, 3}},
	{[]int{2, 3}, []int{3}},
	{[]int{3}, []int{2, 3}},
	{[]int{2, 1}, []int{1, 3}},
	{[]int{4, 1, 3}, []int{2, 1}},
	{[]int{}, []int{2, 3}},
	{[]int{2, 3}, []int{}},
	{[]int{}, []int{}},
	{[]int{1}, []int{4}},
	{[]int{1, 1}, []int{}},
	{[]int{0}, []int{1}},
	{[]int{2, 0}, []int{2, 1}},
	{[]int{0, 3}, []int{3}},
	{[]int{5, 1, 1, 2}, []int{3, 1}},
	{[]int{2, 3, 4}, []int{2, 3, 4}},
}

type binaryCase struct {
	name string
	op   func(a *tensor.Tensor, b any) *tensor.Tensor
	ref  func(x, y float64) float64
	// positive asks for positive left operands (Pow).
	positive bool
}

var arithmetic = []binaryCase{
	{"Add", (*tensor.Tensor).Add, func(x, y float64) float64 { return x + y }, false},
	{"Sub", (*tensor.Tensor).Sub, func(x, y float64) float64 { return x - y }, false},
	{"Mul", (*tensor.Tensor).Mul, func(x, y float64) float64 { return x * y }, false},
	{"Div", (*tensor.Tensor).Div, func(x, y float64) float64 { return x / y }, false},
	{"Pow", (*tensor.Tensor).Pow, math.Pow, true},
	{"RSub", (*tensor.Tensor).RSub, func(x, y float64) float64 { return y - x }, false},
	{"RDiv", (*tensor.Tensor).RDiv, func(x, y float64) float64 { return y / x }, false},
	{"Minimum", (*tensor.Tensor).Minimum, math.Min, false},
	{"Maximum", (*tensor.Tensor).Maximum, math.Max, false},
}

// makeOperand builds a tensor of dtype dt with the given values, either
// contiguous or through a non-contiguous layout.
func makeOperand(vals []float64, shape []int, dt tensor.DType, strided bool) *tensor.Tensor {
	x := tensor.FromSlice(vals).Reshape(shape...).As(dt)
	if strided {
		x = nonContiguous(x)
	}
	return x
}

func TestBinaryArithmeticBroadcast(t *testing.T) {
	for _, op := range arithmetic {
		for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
			tol := 1e-6
			if dt == tensor.Float64 {
				tol = 1e-14
			}
			for _, p := range broadcastPairs {
				for _, strided := range []bool{false, true} {
					av, bv := testValues(numel(p.a), 1), testValues(numel(p.b), 2)
					if op.positive {
						for i := range av {
							av[i] = math.Abs(av[i]) + 0.5
						}
					}
					a := makeOperand(av, p.a, dt, strided)
					b := makeOperand(bv, p.b, dt, strided)
					want := refBinary(ref{p.a, av}, ref{p.b, bv}, op.ref)
					got := op.op(a, b)
					require.Equal(t, dt, got.DType())
					requireClose(t, want.data, want.shape, got, tol, "%s %v %v %v strided=%v", op.name, dt, p.a, p.b, strided)
				}
			}
		}
	}
}

func TestComparisonsBroadcast(t *testing.T) {
	cmps := []binaryCase{
		{"Eq", (*tensor.Tensor).Eq, func(x, y float64) float64 { return b2f(x == y) }, false},
		{"Ne", (*tensor.Tensor).Ne, func(x, y float64) float64 { return b2f(x != y) }, false},
		{"Lt", (*tensor.Tensor).Lt, func(x, y float64) float64 { return b2f(x < y) }, false},
		{"Le", (*tensor.Tensor).Le, func(x, y float64) float64 { return b2f(x <= y) }, false},
		{"Gt", (*tensor.Tensor).Gt, func(x, y float64) float64 { return b2f(x > y) }, false},
		{"Ge", (*tensor.Tensor).Ge, func(x, y float64) float64 { return b2f(x >= y) }, false},
	}
	for _, op := range cmps {
		for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64, tensor.Int64, tensor.Uint8} {
			for _, p := range broadcastPairs {
				av, bv := smallInts(numel(p.a), 1), smallInts(numel(p.b), 2)
				if dt == tensor.Uint8 {
					for i := range av {
						av[i] += 2
					}
					for i := range bv {
						bv[i] += 2
					}
				}
				a := makeOperand(av, p.a, dt, true)
				b := makeOperand(bv, p.b, dt, false)
				got := op.op(a, b)
				require.Equal(t, tensor.Bool, got.DType(), "comparisons produce Bool")
				want := refBinary(ref{p.a, av}, ref{p.b, bv}, op.ref)
				requireExact(t, want.data, want.shape, got, "%s %v %v %v", op.name, dt, p.a, p.b)
			}
		}
	}
	// Bool tensors compare for equality.
	a := tensor.FromSlice([]bool{true, false, true})
	b := tensor.FromSlice([]bool{true, true, false})
	require.Equal(t, []bool{true, false, false}, a.Eq(b).Bools())
	require.Equal(t, []bool{false, true, true}, a.Ne(b).Bools())
	require.Equal(t, []bool{true, false, true}, a.Eq(true).Bools())
	// NaN compares unequal to everything.
	n := tensor.FromSlice([]float64{math.NaN(), 1})
	require.Equal(t, []bool{false, true}, n.Eq(n).Bools())
	require.Equal(t, []bool{true, false}, n.Ne(n).Bools())
	requireFails(t, tensor.ErrBackend, func() { a.Lt(b) }, "lt")
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func TestLogical(t *testing.T) {
	a := tensor.FromSlice([]bool{true, true, false, false}, 2, 2)
	b := tensor.FromSlice([]bool{true, false, true, false}, 2, 2)
	require.Equal(t, []bool{true, false, false, false}, a.LogicalAnd(b).Bools())
	require.Equal(t, []bool{true, true, true, false}, a.LogicalOr(b).Bools())
	require.Equal(t, []bool{false, true, true, false}, a.LogicalXor(b).Bools())
	require.Equal(t, []bool{false, false, true, true}, a.LogicalNot().Bools())
	// Broadcasting, a transposed operand and a Go bool.
	require.Equal(t, []bool{true, false, true, false}, a.T().LogicalAnd(tensor.FromSlice([]bool{true, false})).Bools())
	require.Equal(t, []bool{true, true, false, false}, a.LogicalAnd(true).Bools())
	require.Equal(t, []bool{true, true, true, true}, a.LogicalOr(true).Bools())
	require.Equal(t, []bool{false}, tensor.Scalar(true).LogicalNot().Reshape(1).Bools())

	requireFails(t, tensor.ErrDType, func() { tensor.Ones(2).LogicalAnd(tensor.Ones(2)) }, "tensor: LogicalAnd: needs Bool operands, got float32")
	requireFails(t, tensor.ErrDType, func() { tensor.Ones(2).LogicalNot() }, "tensor: LogicalNot: needs a Bool tensor, got float32")
	requireFails(t, tensor.ErrDType, func() { a.Add(b) }, "tensor: Add: is not defined for Bool tensors")
	requireFails(t, tensor.ErrDType, func() { a.Add(1) }, "Bool")
	requireFails(t, tensor.ErrDType, func() { a.Neg() }, "tensor: Neg: is not defined for bool tensors")
	requireFails(t, tensor.ErrDType, func() { a.Maximum(b) }, "Bool")
}

func TestScalarOperands(t *testing.T) {
	type celsius float64
	type count int
	x := tensor.FromSlice([]float32{1, 2, 4}, 3)
	scalars := []struct {
		name string
		v    any
		f    float64
	}{
		{"int", 2, 2},
		{"int8", int8(-3), -3},
		{"int16", int16(5), 5},
		{"int32", int32(-1), -1},
		{"int64", int64(7), 7},
		{"uint", uint(3), 3},
		{"uint8", uint8(9), 9},
		{"uint16", uint16(4), 4},
		{"uint32", uint32(6), 6},
		{"uint64", uint64(8), 8},
		{"float32", float32(0.5), 0.5},
		{"float64", 2.5, 2.5},
		{"bool", true, 1},
		{"named float", celsius(1.5), 1.5},
		{"named int", count(3), 3},
	}
	for _, s := range scalars {
		t.Run(s.name, func(t *testing.T) {
			xs := []float64{1, 2, 4}
			for _, op := range arithmetic {
				want := make([]float64, 3)
				for i, v := range xs {
					want[i] = op.ref(v, s.f)
				}
				got := op.op(x, s.v)
				require.Equal(t, tensor.Float32, got.DType(), "the scalar takes the tensor's dtype")
				requireClose(t, want, []int{3}, got, 1e-6, "%s with %T", op.name, s.v)
				// A scalar operand behaves like a 0-d tensor.
				requireClose(t, want, []int{3}, op.op(x, tensor.Scalar(float32(s.f))), 1e-6, "%s with 0-d", op.name)
			}
			require.Equal(t, []bool{s.f == 1, s.f == 2, s.f == 4}, x.Eq(s.v).Bools())
			require.Equal(t, []bool{1 > s.f, 2 > s.f, 4 > s.f}, x.Gt(s.v).Bools())
		})
	}
	// A 0-d tensor stays 0-d.
	z := tensor.Scalar(3.0)
	requireExact(t, []float64{5}, []int{}, z.Add(2))
	requireExact(t, []float64{5}, []int{}, z.Add(tensor.Scalar(2.0)))
	// Division by scalars is exact division, not multiplication by an
	// inexact reciprocal: 49/7 == 7 exactly, in float32 as in PyTorch.
	require.Equal(t, []float32{7, 1}, tensor.FromSlice([]float32{49, 7}).Div(7).Float32s())
	require.Equal(t, []float32{0.25, 0.5}, tensor.FromSlice([]float32{1, 2}).Div(4).Float32s())
	require.Equal(t, []float64{math.Inf(1), math.Inf(-1)}, tensor.FromSlice([]float64{1, -1}).Div(0).Float64s())
	require.True(t, math.IsNaN(tensor.FromSlice([]float64{0}).Div(0).Float64s()[0]))
	// Pow special cases.
	p := tensor.FromSlice([]float64{4, 9, -1})
	requireClose(t, []float64{4, 9, -1}, []int{3}, p.Pow(1), 0)
	requireClose(t, []float64{16, 81, 1}, []int{3}, p.Pow(2), 0)
	requireClose(t, []float64{2, 3, math.NaN()}, []int{3}, p.Pow(0.5), 0)
	requireClose(t, []float64{0.25, 1.0 / 9, -1}, []int{3}, p.Pow(-1), 1e-15)
	requireClose(t, []float64{1, 1, 1}, []int{3}, p.Pow(0), 0)
	require.False(t, p.Pow(1).SharesMemory(p), "Pow(1) returns a copy")

	requireFails(t, tensor.ErrArgument, func() { x.Add("one") }, "tensor: Add: operand of type string is neither a *Tensor nor a Go number")
	requireFails(t, tensor.ErrArgument, func() { x.Mul(nil) }, "operand of type <nil>")
	requireFails(t, tensor.ErrArgument, func() { x.Sub((*tensor.Tensor)(nil)) }, "tensor: Sub: nil tensor operand")
	requireFails(t, tensor.ErrArgument, func() { x.Eq([]float32{1}) }, "[]float32")
}

func TestIntegerArithmetic(t *testing.T) {
	a := tensor.FromSlice([]int64{7, -7, 7, -7, 0, 9})
	b := tensor.FromSlice([]int64{2, 2, -2, -2, 5, 3})
	require.Equal(t, []int64{9, -5, 5, -9, 5, 12}, a.Add(b).Int64s())
	require.Equal(t, []int64{5, -9, 9, -5, -5, 6}, a.Sub(b).Int64s())
	require.Equal(t, []int64{14, -14, -14, 14, 0, 27}, a.Mul(b).Int64s())
	// Division truncates toward zero: torch.div(a, b, rounding_mode='trunc').
	require.Equal(t, []int64{3, -3, -3, 3, 0, 3}, a.Div(b).Int64s())
	require.Equal(t, []int64{3, -3, 3, -3, 0, 4}, a.Div(2).Int64s())
	require.Equal(t, []int64{2, -7, -2, -7, 0, 3}, a.Minimum(b).Int64s())
	require.Equal(t, []int64{7, 2, 7, -2, 5, 9}, a.Maximum(b).Int64s())
	require.Equal(t, []int64{10, -4, 10, -4, 3, 12}, a.Add(3).Int64s())
	require.Equal(t, []int64{4, -10, 4, -10, -3, 6}, a.Sub(int32(3)).Int64s())
	require.Equal(t, []int64{-14, 14, -14, 14, 0, -18}, a.Mul(-2).Int64s())
	require.Equal(t, []int64{-6, 8, -6, 8, 1, -8}, a.RSub(1).Int64s())
	require.Equal(t, []int64{2, -2, 2, -2}, a.Narrow(0, 0, 4).RDiv(int64(14)).Int64s())
	require.Equal(t, []int64{7, -7}, a.Narrow(0, 0, 2).Add(2.0).Sub(2).Int64s(), "integral floats are accepted")
	require.Equal(t, tensor.Int64, a.Add(b).DType())
	// Large values stay exact.
	big := tensor.FromSlice([]int64{1 << 60})
	require.Equal(t, []int64{1<<60 + 1}, big.Add(1).Int64s())

	// Uint8 wraps around.
	u := tensor.FromSlice([]uint8{1, 2, 250})
	v := tensor.FromSlice([]uint8{2, 1, 10})
	require.Equal(t, []uint8{255, 1, 240}, u.Sub(v).Uint8s())
	require.Equal(t, []uint8{3, 3, 4}, u.Add(v).Uint8s())
	require.Equal(t, []uint8{0, 1, 249}, u.Sub(1).Uint8s())
	require.Equal(t, []uint8{3, 4, 252}, u.Add(2).Uint8s())
	require.Equal(t, []uint8{0, 2, 25}, u.Div(v).Uint8s())

	// Division by zero is an error, not a crash.
	err := requireFails(t, tensor.ErrBackend, func() { a.Div(tensor.FromSlice([]int64{1, 0, 1, 1, 1, 1})) }, "tensor: Div: ", "integer division by zero")
	require.NotNil(t, err)
	requireFails(t, tensor.ErrBackend, func() { a.Div(0) }, "integer division by zero")
	requireFails(t, tensor.ErrBackend, func() { u.Div(uint8(0)) }, "integer division by zero")

	// Scalars that an integer dtype cannot hold are dtype errors, not
	// silent truncation.
	requireFails(t, tensor.ErrDType, func() { a.Add(0.5) }, "tensor: Add: the scalar 0.5 cannot be represented as int64; convert the tensor with .As(tensor.Float32) first")
	requireFails(t, tensor.ErrDType, func() { a.Mul(1.5) }, "Mul")
	requireFails(t, tensor.ErrDType, func() { a.Div(2.5) }, "Div")
	requireFails(t, tensor.ErrDType, func() { a.Gt(0.5) }, "Gt")
	requireFails(t, tensor.ErrDType, func() { a.Add(math.NaN()) }, "NaN")
	requireFails(t, tensor.ErrDType, func() { a.Add(math.Inf(1)) }, "+Inf")
	requireFails(t, tensor.ErrDType, func() { u.Add(-1) }, "cannot be represented as uint8")
	requireFails(t, tensor.ErrDType, func() { u.Mul(256) }, "uint8")
	requireFails(t, tensor.ErrDType, func() { a.Pow(b) }, "tensor: Pow: needs float operands, got int64")
	requireFails(t, tensor.ErrDType, func() { a.Pow(2) }, "tensor: Pow: needs a float32 or float64 tensor, got int64")
}

func TestBinaryErrors(t *testing.T) {
	requireFails(t, tensor.ErrShape, func() { seq(2, 3).Add(seq(4)) },
		"tensor: Add: shapes [2 3] and [4] do not broadcast (dimension -1: 3 vs 4)")
	requireFails(t, tensor.ErrShape, func() { seq(2, 3).Mul(seq(3, 3)) }, "tensor: Mul: shapes [2 3] and [3 3] do not broadcast (dimension -2: 2 vs 3)")
	requireFails(t, tensor.ErrShape, func() { seq(0).Add(seq(2)) }, "do not broadcast")
	requireFails(t, tensor.ErrDType, func() { tensor.Ones(2).Add(tensor.Of(tensor.Float64).Ones(2)) },
		"tensor: Add: dtypes float32 and float64 differ; convert one with .As(tensor.Float32)")
	requireFails(t, tensor.ErrDType, func() { tensor.Of(tensor.Int64).Ones(2).Lt(tensor.Ones(2)) }, "tensor: Lt: dtypes int64 and float32 differ; convert one with .As(tensor.Int64)")
	requireFails(t, tensor.ErrDType, func() { tensor.Ones(2).Eq(tensor.FromSlice([]bool{true, true})) }, "dtypes float32 and bool differ")
}

type unaryCase struct {
	name   string
	op     func(*tensor.Tensor) *tensor.Tensor
	ref    func(float64) float64
	domain func(float64) float64 // maps test values into the op's domain
}

func positive(x float64) float64 { return math.Abs(x) + 0.1 }
func identity(x float64) float64 { return x }

var unaryOps = []unaryCase{
	{"Neg", (*tensor.Tensor).Neg, func(x float64) float64 { return -x }, identity},
	{"Abs", (*tensor.Tensor).Abs, math.Abs, identity},
	{"Sign", (*tensor.Tensor).Sign, func(x float64) float64 { return math.Copysign(1, x) }, identity},
	{"Square", (*tensor.Tensor).Square, func(x float64) float64 { return x * x }, identity},
	{"Exp", (*tensor.Tensor).Exp, math.Exp, identity},
	{"Log", (*tensor.Tensor).Log, math.Log, positive},
	{"Sqrt", (*tensor.Tensor).Sqrt, math.Sqrt, positive},
	{"Rsqrt", (*tensor.Tensor).Rsqrt, func(x float64) float64 { return 1 / math.Sqrt(x) }, positive},
	{"Reciprocal", (*tensor.Tensor).Reciprocal, func(x float64) float64 { return 1 / x }, identity},
	{"Sin", (*tensor.Tensor).Sin, math.Sin, identity},
	{"Cos", (*tensor.Tensor).Cos, math.Cos, identity},
	{"Log1p", (*tensor.Tensor).Log1p, math.Log1p, positive},
	{"Expm1", (*tensor.Tensor).Expm1, math.Expm1, identity},
	{"Floor", (*tensor.Tensor).Floor, math.Floor, identity},
	{"Ceil", (*tensor.Tensor).Ceil, math.Ceil, identity},
	{"Round", (*tensor.Tensor).Round, math.RoundToEven, identity},
	{"Erf", (*tensor.Tensor).Erf, math.Erf, identity},
	{"Sigmoid", (*tensor.Tensor).Sigmoid, func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }, identity},
	{"Tanh", (*tensor.Tensor).Tanh, math.Tanh, identity},
	{"Relu", (*tensor.Tensor).Relu, func(x float64) float64 { return math.Max(x, 0) }, identity},
	{"Softplus", (*tensor.Tensor).Softplus, func(x float64) float64 { return math.Log(1 + math.Exp(x)) }, identity},
	{"Gelu", (*tensor.Tensor).Gelu, func(x float64) float64 { return x / 2 * (1 + math.Erf(x/math.Sqrt2)) }, identity},
	{"Step", (*tensor.Tensor).Step, func(x float64) float64 { return b2f(x > 0) }, identity},
	{"LeakyRelu", func(t *tensor.Tensor) *tensor.Tensor { return t.LeakyRelu(0.01) }, func(x float64) float64 {
		if x > 0 {
			return x
		}
		return 0.01 * x
	}, identity},
	{"Elu", func(t *tensor.Tensor) *tensor.Tensor { return t.Elu(1.5) }, func(x float64) float64 {
		if x > 0 {
			return x
		}
		return 1.5 * (math.Exp(x) - 1)
	}, identity},
	{"Threshold", func(t *tensor.Tensor) *tensor.Tensor { return t.Threshold(0.5, -7) }, func(x float64) float64 {
		if x > 0.5 {
			return x
		}
		return -7
	}, identity},
	{"Clamp", func(t *tensor.Tensor) *tensor.Tensor { return t.Clamp(-1, 1.5) }, func(x float64) float64 { return math.Min(math.Max(x, -1), 1.5) }, identity},
	{"ClampMin", func(t *tensor.Tensor) *tensor.Tensor { return t.ClampMin(0.25) }, func(x float64) float64 { return math.Max(x, 0.25) }, identity},
	{"ClampMax", func(t *tensor.Tensor) *tensor.Tensor { return t.ClampMax(-0.25) }, func(x float64) float64 { return math.Min(x, -0.25) }, identity},
	{"Affine", func(t *tensor.Tensor) *tensor.Tensor { return t.Affine(2, -1) }, func(x float64) float64 { return 2*x - 1 }, identity},
	{"PowScalar", func(t *tensor.Tensor) *tensor.Tensor { return t.Pow(1.7) }, func(x float64) float64 { return math.Pow(x, 1.7) }, positive},
}

func TestUnaryOps(t *testing.T) {
	for _, op := range unaryOps {
		for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
			tol := 2e-7
			if dt == tensor.Float64 {
				tol = 1e-14
			}
			for _, shape := range [][]int{{13}, {3, 4}, {2, 3, 5}, {}, {0, 2}} {
				for _, strided := range []bool{false, true} {
					in := testValues(numel(shape), 3)
					for i := range in {
						in[i] = op.domain(in[i])
					}
					x := makeOperand(in, shape, dt, strided)
					want := make([]float64, len(in))
					for i, v := range in {
						if dt == tensor.Float32 {
							v = float64(float32(v))
						}
						want[i] = op.ref(v)
					}
					got := op.op(x)
					require.Equal(t, dt, got.DType())
					require.True(t, got.IsContiguous())
					requireClose(t, want, shape, got, tol, "%s %v %v strided=%v", op.name, dt, shape, strided)
				}
			}
		}
	}
}

func TestActivationsMatchTorch(t *testing.T) {
	in := []float64{-3, -1, -0.5, 0, 0.5, 1, 3, 25}
	tests := []struct {
		name string
		op   func(*tensor.Tensor) *tensor.Tensor
		want []float64
	}{
		// torch.sigmoid(x)
		{"Sigmoid", (*tensor.Tensor).Sigmoid, []float64{0.04742587317756678, 0.2689414213699951, 0.3775406687981454, 0.5, 0.6224593312018546, 0.7310585786300049, 0.9525741268224334, 0.999999999986112}},
		// torch.tanh(x)
		{"Tanh", (*tensor.Tensor).Tanh, []float64{-0.9950547536867305, -0.7615941559557649, -0.46211715726000974, 0.0, 0.46211715726000974, 0.7615941559557649, 0.9950547536867305, 1.0}},
		// F.leaky_relu(x, 0.1)
		{"LeakyRelu", func(t *tensor.Tensor) *tensor.Tensor { return t.LeakyRelu(0.1) }, []float64{-0.30000000000000004, -0.1, -0.05, 0.0, 0.5, 1.0, 3.0, 25.0}},
		// F.elu(x, 1.5)
		{"Elu", func(t *tensor.Tensor) *tensor.Tensor { return t.Elu(1.5) }, []float64{-1.4253193974482041, -0.9481808382428365, -0.5902040104310499, 0.0, 0.5, 1.0, 3.0, 25.0}},
		// F.softplus(x)
		{"Softplus", (*tensor.Tensor).Softplus, []float64{0.04858735157374206, 0.31326168751822286, 0.4740769841801067, 0.6931471805599453, 0.9740769841801067, 1.3132616875182228, 3.048587351573742, 25.0}},
		// F.gelu(x)
		{"Gelu", (*tensor.Tensor).Gelu, []float64{-0.00404969409489031, -0.15865525393145702, -0.15426876936299344, 0.0, 0.34573123063700656, 0.841344746068543, 2.99595030590511, 25.0}},
		// torch.erf(x)
		{"Erf", (*tensor.Tensor).Erf, []float64{-0.9999779095030014, -0.8427007929497149, -0.5204998778130465, 0.0, 0.5204998778130465, 0.8427007929497149, 0.9999779095030014, 1.0}},
		// F.threshold(x, 0.5, -2.0)
		{"Threshold", func(t *tensor.Tensor) *tensor.Tensor { return t.Threshold(0.5, -2) }, []float64{-2.0, -2.0, -2.0, -2.0, -2.0, 1.0, 3.0, 25.0}},
		// torch.expm1(x)
		{"Expm1", (*tensor.Tensor).Expm1, []float64{-0.950212931632136, -0.6321205588285577, -0.3934693402873666, 0.0, 0.6487212707001282, 1.7182818284590453, 19.085536923187668, 72004899336.38588}},
		// torch.relu(x)
		{"Relu", (*tensor.Tensor).Relu, []float64{0, 0, 0, 0, 0.5, 1, 3, 25}},
		// torch.heaviside-like step: (x > 0).float()
		{"Step", (*tensor.Tensor).Step, []float64{0, 0, 0, 0, 1, 1, 1, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			requireClose(t, tc.want, []int{8}, tc.op(tensor.FromSlice(in)), 1e-14)
			requireClose(t, tc.want, []int{8}, tc.op(tensor.FromSlice(in).As(tensor.Float32)), 1e-6)
		})
	}
	// Stability at the extremes: F.softplus([-100., 100., 30.]) and
	// torch.sigmoid([-1000., 1000.]).
	requireClose(t, []float64{3.720075976020836e-44, 100, 30}, []int{3}, tensor.FromSlice([]float64{-100, 100, 30}).Softplus(), 1e-14)
	requireExact(t, []float64{0, 1}, []int{2}, tensor.FromSlice([]float32{-1000, 1000}).Sigmoid())
	requireExact(t, []float64{-1, 1}, []int{2}, tensor.FromSlice([]float32{-1000, 1000}).Tanh())
	requireExact(t, []float64{-2, -0}, []int{2}, tensor.FromSlice([]float64{-1000, -0.0}).Elu(2))
	// torch.round: half to even.
	requireExact(t, []float64{0.0, 2.0, 2.0, -0.0, -2.0, -2.0, 2.0, -3.0}, []int{8},
		tensor.FromSlice([]float32{0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, -2.6}).Round())
	// Sign keeps zero and NaN.
	s := tensor.FromSlice([]float64{-2, 0, 3, math.NaN()}).Sign().Float64s()
	require.Equal(t, []float64{-1, 0, 1}, s[:3])
	require.True(t, math.IsNaN(s[3]))
	// Log of zero and negatives.
	requireClose(t, []float64{math.Inf(-1), math.NaN()}, []int{2}, tensor.FromSlice([]float64{0, -1}).Log(), 0)
}

func TestIntegerUnary(t *testing.T) {
	a := tensor.FromSlice([]int64{-3, 0, 2, 5})
	tests := []struct {
		name string
		got  *tensor.Tensor
		want []int64
	}{
		{"Neg", a.Neg(), []int64{3, 0, -2, -5}},
		{"Abs", a.Abs(), []int64{3, 0, 2, 5}},
		{"Sign", a.Sign(), []int64{-1, 0, 1, 1}},
		{"Square", a.Square(), []int64{9, 0, 4, 25}},
		{"Relu", a.Relu(), []int64{0, 0, 2, 5}},
		{"Step", a.Step(), []int64{0, 0, 1, 1}},
		{"Threshold", a.Threshold(1, -1), []int64{-1, -1, 2, 5}},
		{"Clamp", a.Clamp(-1, 3), []int64{-1, 0, 2, 3}},
		{"ClampMin", a.ClampMin(0), []int64{0, 0, 2, 5}},
		{"ClampMax", a.ClampMax(1), []int64{-3, 0, 1, 1}},
		{"ClampFractional", a.Clamp(-1.5, 2.5), []int64{-1, 0, 2, 2}},
		{"ClampHuge", a.Clamp(-1e300, 1e300), []int64{-3, 0, 2, 5}},
		{"Affine", a.Affine(2, 1), []int64{-5, 1, 5, 11}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tensor.Int64, tc.got.DType())
			require.Equal(t, tc.want, tc.got.Int64s())
		})
	}
	u := tensor.FromSlice([]uint8{0, 100, 255})
	require.Equal(t, []uint8{100, 100, 200}, u.Clamp(100, 200).Uint8s())
	require.Equal(t, []uint8{0, 100, 255}, u.ClampMin(-5).Uint8s())
	require.Equal(t, []uint8{0, 100, 200}, u.ClampMax(200).Uint8s())

	for _, f := range []func(){
		func() { a.Exp() }, func() { a.Sqrt() }, func() { a.Sigmoid() }, func() { a.Tanh() },
		func() { a.LeakyRelu(0.1) }, func() { a.Gelu() }, func() { a.Floor() }, func() { a.Reciprocal() },
	} {
		requireFails(t, tensor.ErrDType, f, "is not defined for int64 tensors; convert with .As(tensor.Float32)")
	}
	requireFails(t, tensor.ErrDType, func() { a.Affine(0.5, 0) }, "cannot be represented as int64")
	requireFails(t, tensor.ErrDType, func() { a.Threshold(0, 0.5) }, "cannot be represented as int64")
	requireFails(t, tensor.ErrArgument, func() { a.Clamp(2, 1) }, "tensor: Clamp: lower bound 2 exceeds upper bound 1")
	requireFails(t, tensor.ErrArgument, func() { tensor.Ones(1).Clamp(math.NaN(), 1) }, "NaN")
}
