package tensor_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/tensor"
)

// byteSource hands out fuzz input a byte at a time, then zeros.
type byteSource []byte

func (b *byteSource) next() int {
	if len(*b) == 0 {
		return 0
	}
	v := (*b)[0]
	*b = (*b)[1:]
	return int(v)
}

// FuzzBroadcastShapes compares BroadcastShapes with the textbook rule on
// up to three shapes of rank up to 5 (dimensions -1 to 6), and checks that
// broadcasting tensors of those shapes agrees.
func FuzzBroadcastShapes(f *testing.F) {
	f.Add([]byte{2, 2, 3, 1, 3})
	f.Add([]byte{3, 4, 1, 3, 2, 2, 1})
	f.Add([]byte{0, 1, 1})
	f.Add([]byte{2, 0, 2, 2, 2, 1, 3, 2})
	f.Add([]byte{3, 5, 1, 1, 2, 0, 3, 3, 1, 0, 1})
	f.Add([]byte{1, 1, 1, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		src := byteSource(data)
		n := src.next() % 4
		shapes := make([][]int, n)
		for i := range shapes {
			rank := src.next() % 6
			shapes[i] = make([]int, rank)
			for j := range shapes[i] {
				shapes[i][j] = src.next()%8 - 1
			}
		}
		want, ok := refBroadcastShape(shapes...)
		got, err := tensor.BroadcastShapes(shapes...)
		if !ok {
			require.Error(t, err, "%v", shapes)
			require.ErrorIs(t, err, tensor.ErrShape)
			return
		}
		require.NoError(t, err, "%v", shapes)
		require.Equal(t, want, got, "%v", shapes)

		// Tensors of those shapes broadcast to the same shape, with the
		// reference's values.
		if len(shapes) != 2 || numel(want) > 4096 {
			return
		}
		a := tensor.FromSlice(testValues(numel(shapes[0]), 1)).Reshape(shapes[0]...)
		b := tensor.FromSlice(testValues(numel(shapes[1]), 2)).Reshape(shapes[1]...)
		sum := a.Add(b)
		wantSum := refBinary(refOf(a), refOf(b), func(x, y float64) float64 { return x + y })
		require.Equal(t, want, sum.Shape())
		require.Equal(t, wantSum.data, values(sum))
		require.Equal(t, want, a.Expand(want...).Add(b).Shape())
	})
}

// addresses lists the buffer offsets of t's elements in row-major order.
func addresses(shape, strides []int, offset int) []int {
	out := make([]int, numel(shape))
	for k := range out {
		idx := unflatten(shape, k)
		a := offset
		for i, x := range idx {
			a += x * strides[i]
		}
		out[k] = a
	}
	return out
}

// viewable decides by brute force whether the elements at addrs (row-major
// order of some tensor) can be presented with shape without a copy: every
// dimension must step through memory by one fixed stride.
func viewable(addrs []int, shape []int) bool {
	if len(addrs) == 0 {
		return true
	}
	strides := make([]int, len(shape))
	for k, d := range shape {
		if d > 1 {
			unit := make([]int, len(shape))
			unit[k] = 1
			strides[k] = addrs[flatIndex(shape, unit)] - addrs[0]
		}
	}
	return slices.Equal(addrs, addresses(shape, strides, addrs[0]))
}

// FuzzReshapeView builds a strided tensor (a permuted, possibly stepped
// and unsqueezed view of a contiguous one) and a new shape for it. View
// must succeed exactly when the brute-force check says a copy-free view
// exists, and then address exactly the same memory; otherwise it fails
// with ErrShape. Reshape always gives the values of a flat copy.
func FuzzReshapeView(f *testing.F) {
	f.Add([]byte{2, 3, 4, 1, 0, 0, 2, 6, 4, 0})
	f.Add([]byte{3, 2, 3, 4, 5, 1, 1, 0, 3, 2, 2, 1, 0})
	f.Add([]byte{1, 6, 0, 2, 1, 3, 1, 3, 2, 1})
	f.Add([]byte{4, 2, 1, 2, 3, 9, 0, 1, 5, 1, 2, 2, 2, 2, 1})
	f.Add([]byte{2, 0, 3, 0, 0, 0, 1, 2, 0})
	f.Add([]byte{0, 0, 1, 1, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		src := byteSource(data)
		rank := src.next() % 5
		base := make([]int, rank)
		for i := range base {
			base[i] = src.next() % 5
		}
		x := seq(base...)
		// A permutation of the dimensions.
		perm := make([]int, rank)
		for i := range perm {
			perm[i] = i
		}
		for i := rank - 1; i > 0; i-- {
			j := src.next() % (i + 1)
			perm[i], perm[j] = perm[j], perm[i]
		}
		x = x.Permute(perm...)
		// Optionally a stepped slice of one dimension.
		if rank > 0 && src.next()%2 == 1 {
			d := src.next() % rank
			step := src.next()%3 + 1
			start := src.next() % (x.Size(d) + 1)
			x = x.Slice(d, start, x.Size(d), step)
		}
		// Optionally a size-1 dimension somewhere.
		if src.next()%3 == 2 {
			x = x.Unsqueeze(src.next() % (x.Dim() + 1))
		}

		// A target shape: factors of numel, with 1s sprinkled in and
		// perhaps one -1.
		total := x.Numel()
		var shape []int
		rest := total
		for len(shape) < 6 {
			c := src.next()
			if c%4 == 3 || rest == 1 {
				if c%8 == 7 && len(shape) < 5 {
					shape = append(shape, 1)
					continue
				}
				break
			}
			var divs []int
			for d := 1; d <= rest; d++ {
				if rest%d == 0 {
					divs = append(divs, d)
				}
			}
			if rest == 0 {
				divs = []int{0, 1, 2, 3}
			}
			d := divs[src.next()%len(divs)]
			shape = append(shape, d)
			if d != 0 {
				rest /= d
			} else {
				rest = 1
			}
		}
		if numel(shape) != total {
			shape = append(shape, rest)
		}
		if numel(shape) != total {
			return // 0 elements reached through a 0 factor: skip
		}
		resolved := append([]int{}, shape...)
		if len(shape) > 0 && total > 0 && src.next()%2 == 1 {
			shape[src.next()%len(shape)] = -1
		}

		want := values(x.Contiguous())
		addrs := addresses(x.Shape(), x.Strides(), x.Offset())

		var v *tensor.Tensor
		err := tensor.Catch(func() { v = x.View(shape...) })
		if viewable(addrs, resolved) {
			require.NoError(t, err, "view %v (strides %v) as %v", x.Shape(), x.Strides(), shape)
			require.Equal(t, resolved, v.Shape())
			require.True(t, v.SharesMemory(x))
			if total > 0 {
				require.Equal(t, addrs, addresses(v.Shape(), v.Strides(), v.Offset()),
					"view %v (strides %v) as %v: strides %v", x.Shape(), x.Strides(), shape, v.Strides())
			}
			require.Equal(t, want, values(v))
			require.Equal(t, values(x.Contiguous().Reshape(shape...)), values(v))
			if v.IsContiguous() && total > 0 {
				require.Equal(t, addrs[0], v.Offset())
			}
		} else {
			require.Error(t, err, "view %v (strides %v) as %v should need a copy", x.Shape(), x.Strides(), shape)
			require.True(t, errors.Is(err, tensor.ErrShape), "%v", err)
		}

		r := x.Reshape(shape...)
		require.Equal(t, resolved, r.Shape())
		require.Equal(t, want, values(r))
		require.Equal(t, want, values(x.Flatten()))
	})
}
