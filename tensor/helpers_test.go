package tensor_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/internal/prim"
	"github.com/nabla-go/nabla/tensor"
)

// tensorOps reaches the primitives that tensor registers for autograd, nn
// and optim instead of exporting them.
var tensorOps = prim.TensorOps[*tensor.Tensor, *tensor.Generator]()

// values returns any tensor's elements as float64 (Bool as 0/1), in
// row-major order.
func values(t *tensor.Tensor) []float64 {
	if t.DType() == tensor.Int64 {
		out := make([]float64, t.Numel())
		for i, v := range t.Int64s() {
			out[i] = float64(v)
		}
		return out
	}
	return t.As(tensor.Float64).Float64s()
}

// requireClose checks got's shape and values against want with a
// tolerance relative to the magnitude of each expected value. NaNs and
// infinities must match exactly.
func requireClose(t *testing.T, want []float64, shape []int, got *tensor.Tensor, tol float64, msgAndArgs ...any) {
	t.Helper()
	require.Equal(t, shape, got.Shape(), msgAndArgs...)
	g := values(got)
	require.Len(t, g, len(want), msgAndArgs...)
	for i := range want {
		w := want[i]
		switch {
		case math.IsNaN(w):
			require.True(t, math.IsNaN(g[i]), "element %d: want NaN, got %v %v", i, g[i], msgAndArgs)
		case math.IsInf(w, 0):
			require.Equal(t, w, g[i], "element %d %v", i, msgAndArgs)
		default:
			require.InDelta(t, w, g[i], tol*max(1, math.Abs(w)), "element %d %v", i, msgAndArgs)
		}
	}
}

// requireExact checks shape and exact values.
func requireExact(t *testing.T, want []float64, shape []int, got *tensor.Tensor, msgAndArgs ...any) {
	t.Helper()
	require.Equal(t, shape, got.Shape(), msgAndArgs...)
	require.Equal(t, want, values(got), msgAndArgs...)
}

// requireFails runs f and checks that it panics with a *tensor.Error
// wrapping kind whose message contains every fragment.
func requireFails(t *testing.T, kind error, f func(), fragments ...string) error {
	t.Helper()
	err := tensor.Catch(f)
	require.Error(t, err, "expected a tensor error")
	require.ErrorIs(t, err, kind, "error %q", err)
	var te *tensor.Error
	require.ErrorAs(t, err, &te)
	for _, frag := range fragments {
		require.Contains(t, err.Error(), frag)
	}
	return err
}

// requireOK runs f and fails the test if it panics with a tensor error.
func requireOK(t *testing.T, f func()) {
	t.Helper()
	require.NoError(t, tensor.Catch(f))
}

// seq returns the Float64 tensor 0, 1, 2, ... of the given shape.
func seq(shape ...int) *tensor.Tensor {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return tensor.Of(tensor.Float64).Arange(0, float64(n), 1).Reshape(shape...)
}

// seq32 is seq in Float32.
func seq32(shape ...int) *tensor.Tensor { return seq(shape...).As(tensor.Float32) }

// ref is a naive strided-free reference array: row-major data with a shape.
type ref struct {
	shape []int
	data  []float64
}

func refOf(t *tensor.Tensor) ref { return ref{shape: t.Shape(), data: values(t)} }

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// index converts a multi-index into a flat row-major offset.
func flatIndex(shape, idx []int) int {
	off := 0
	for i, d := range shape {
		off = off*d + idx[i]
	}
	return off
}

// unflatten converts a flat offset into a multi-index of shape.
func unflatten(shape []int, k int) []int {
	idx := make([]int, len(shape))
	for i := len(shape) - 1; i >= 0; i-- {
		if shape[i] > 0 {
			idx[i] = k % shape[i]
			k /= shape[i]
		}
	}
	return idx
}

// at reads r at a multi-index that may have more leading dimensions than
// r (broadcasting): dimensions of size 1 read index 0.
func (r ref) at(idx []int) float64 {
	lead := len(idx) - len(r.shape)
	own := make([]int, len(r.shape))
	for i := range r.shape {
		if r.shape[i] != 1 {
			own[i] = idx[lead+i]
		}
	}
	return r.data[flatIndex(r.shape, own)]
}

// refBroadcastShape is the textbook NumPy rule, written independently of
// tensor.BroadcastShapes.
func refBroadcastShape(shapes ...[]int) ([]int, bool) {
	rank := 0
	for _, s := range shapes {
		rank = max(rank, len(s))
	}
	out := make([]int, rank)
	for k := 1; k <= rank; k++ { // k-th dimension from the right
		size := 1
		for _, s := range shapes {
			if k > len(s) {
				continue
			}
			d := s[len(s)-k]
			if d < 0 {
				return nil, false
			}
			if d == 1 {
				continue
			}
			if size != 1 && size != d {
				return nil, false
			}
			size = d
		}
		out[rank-k] = size
	}
	return out, true
}

// refBinary applies f elementwise with broadcasting.
func refBinary(a, b ref, f func(x, y float64) float64) ref {
	shape, ok := refBroadcastShape(a.shape, b.shape)
	if !ok {
		panic("refBinary: shapes do not broadcast")
	}
	out := ref{shape: shape, data: make([]float64, numel(shape))}
	for k := range out.data {
		idx := unflatten(shape, k)
		out.data[k] = f(a.at(idx), b.at(idx))
	}
	return out
}

// refReduce reduces r over the given (non-negative, distinct) dims with
// f, which receives the values of one reduced block in row-major order.
func refReduce(r ref, dims []int, keepDim bool, f func([]float64) float64) ref {
	reduced := make([]bool, len(r.shape))
	for _, d := range dims {
		reduced[d] = true
	}
	if len(dims) == 0 {
		for i := range reduced {
			reduced[i] = true
		}
	}
	var outShape, keptShape []int
	for i, d := range r.shape {
		if !reduced[i] {
			outShape = append(outShape, d)
			keptShape = append(keptShape, d)
		} else if keepDim {
			outShape = append(outShape, 1)
		}
	}
	if outShape == nil {
		outShape = []int{}
	}
	groups := make([][]float64, numel(keptShape))
	for k, v := range r.data {
		idx := unflatten(r.shape, k)
		var kept []int
		for i, x := range idx {
			if !reduced[i] {
				kept = append(kept, x)
			}
		}
		g := flatIndex(keptShape, kept)
		groups[g] = append(groups[g], v)
	}
	out := ref{shape: outShape, data: make([]float64, len(groups))}
	for g, vals := range groups {
		out.data[g] = f(vals)
	}
	return out
}

// refMatMul multiplies two matrices given as row-major m×k and k×n data.
func refMatMul(a []float64, b []float64, m, k, n int) []float64 {
	c := make([]float64, m*n)
	for i := range m {
		for j := range n {
			var s float64
			for p := range k {
				s += a[i*k+p] * b[p*n+j]
			}
			c[i*n+j] = s
		}
	}
	return c
}

// nonContiguous returns a tensor with t's values and shape whose memory
// layout is not row-major (built through a transpose), for checking that
// ops read strides correctly.
func nonContiguous(t *tensor.Tensor) *tensor.Tensor {
	if t.Dim() < 2 {
		// Every other element of a twice-as-long tensor.
		n := t.Numel()
		s := tensor.Cat([]*tensor.Tensor{t.Reshape(n, 1), tensor.ZerosLike(t).Reshape(n, 1)}, 1)
		return s.Select(1, 0).Reshape(t.Shape()...)
	}
	out := t.Transpose(-2, -1).Contiguous().Transpose(-2, -1)
	if out.IsContiguous() && t.Numel() > 1 {
		return t // all but one dims of size 1: nothing to rearrange
	}
	return out
}
