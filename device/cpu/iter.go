package cpu

import (
	"runtime"

	"github.com/nabla-go/nabla/device"
)

// block is how many elements elementwise kernels process per call: small
// enough that strided operands gathered into stack buffers stay in L1.
const block = 512

// grainElems is the least work, in elements, worth a goroutine of its own.
const grainElems = 1 << 15

// iterSpace is the iteration space shared by several views of one shape,
// with size-1 dimensions dropped and adjacent dimensions merged wherever
// every operand allows it. The last dimension is the inner "row".
type iterSpace struct {
	shape   []int
	strides [][]int
	offsets []int
}

func newIterSpace(shape []int, layouts ...device.Layout) iterSpace {
	sp := iterSpace{strides: make([][]int, len(layouts)), offsets: make([]int, len(layouts))}
	for k, l := range layouts {
		sp.offsets[k] = l.Offset
	}
	for i, d := range shape {
		if d == 1 {
			continue
		}
		if last := len(sp.shape) - 1; last >= 0 {
			mergeable := true
			for k, l := range layouts {
				if sp.strides[k][last] != l.Strides[i]*d {
					mergeable = false
					break
				}
			}
			if mergeable {
				sp.shape[last] *= d
				for k, l := range layouts {
					sp.strides[k][last] = l.Strides[i]
				}
				continue
			}
		}
		sp.shape = append(sp.shape, d)
		for k, l := range layouts {
			sp.strides[k] = append(sp.strides[k], l.Strides[i])
		}
	}
	if len(sp.shape) == 0 {
		sp.shape = []int{1}
		for k := range layouts {
			sp.strides[k] = []int{0}
		}
	}
	return sp
}

// inner is the row length; innerStride the row stride of operand k.
func (sp iterSpace) inner() int            { return sp.shape[len(sp.shape)-1] }
func (sp iterSpace) innerStride(k int) int { return sp.strides[k][len(sp.shape)-1] }

// forRows calls the function that newWorker returns once per goroutine
// for every row segment that goroutine handles. offs holds each operand's
// element offset of the segment's first element, n its length. A single
// huge row is cut into segments so that an elementwise op on one
// contiguous block still uses every core. Per-goroutine set-up (scratch
// buffers) happens in newWorker, not per row, which keeps tiny operations
// cheap.
func (sp iterSpace) forRows(newWorker func() func(offs []int, n int)) {
	inner := sp.inner()
	outer := sp.shape[:len(sp.shape)-1]
	rows := device.Numel(outer)
	if rows == 0 || inner == 0 {
		return
	}
	seg := inner
	if workers := runtime.GOMAXPROCS(0); rows < 2*workers && inner > 2*grainElems {
		parts := (2*workers + rows - 1) / rows
		seg = (inner + parts - 1) / parts
	}
	nseg := (inner + seg - 1) / seg
	units := rows * nseg
	nops := len(sp.offsets)
	parallelFor(units, max(1, grainElems/seg), func(lo, hi int) {
		fn := newWorker()
		var offsBuf [4]int
		offs := offsBuf[:nops:nops]
		if nops > len(offsBuf) {
			offs = make([]int, nops)
		}
		for u := lo; u < hi; u++ {
			row, s := u/nseg, u%nseg
			start := s * seg
			for k := range offs {
				offs[k] = sp.offsets[k] + start*sp.innerStride(k)
			}
			r := row
			for d := len(outer) - 1; d >= 0; d-- {
				i := r % outer[d]
				r /= outer[d]
				for k := range offs {
					offs[k] += i * sp.strides[k][d]
				}
			}
			fn(offs, min(seg, inner-start))
		}
	})
}

// scratch returns a block-sized buffer when an operand with the given
// inner stride must be gathered (stride != 1), and nil otherwise.
func scratch[T any](stride int) []T {
	if stride == 1 {
		return nil
	}
	return make([]T, block)
}

// loadRow returns n elements starting at off with the given stride as a
// contiguous slice: the buffer itself when stride is 1, otherwise tmp
// filled by a gather (a broadcast when stride is 0).
func loadRow[T any](data []T, off, n, stride int, tmp []T) []T {
	if stride == 1 {
		return data[off : off+n]
	}
	t := tmp[:n]
	if stride == 0 {
		v := data[off]
		for i := range t {
			t[i] = v
		}
		return t
	}
	for i := range t {
		t[i] = data[off]
		off += stride
	}
	return t
}

// storeRow scatters src to data from off with the given stride; it does
// nothing when the destination was written in place (stride 1).
func storeRow[T any](data []T, off, stride int, src []T) {
	if stride == 1 {
		return
	}
	for _, v := range src {
		data[off] = v
		off += stride
	}
}

// map1 runs kernel over blocks of dst and src.
func map1[D, S any](dst []D, dv device.Layout, src []S, sv device.Layout, kernel func(d []D, s []S)) {
	sp := newIterSpace(dv.Shape, dv, sv)
	ds, ss := sp.innerStride(0), sp.innerStride(1)
	sp.forRows(func() func(offs []int, n int) {
		td, ts := scratch[D](ds), scratch[S](ss)
		return func(offs []int, n int) {
			for j := 0; j < n; j += block {
				m := min(block, n-j)
				d := loadRow(dst, offs[0]+j*ds, m, ds, td)
				kernel(d, loadRow(src, offs[1]+j*ss, m, ss, ts))
				storeRow(dst, offs[0]+j*ds, ds, d)
			}
		}
	})
}

// map2 runs kernel over blocks of dst, a and b.
func map2[D, A, B any](dst []D, dv device.Layout, a []A, av device.Layout, b []B, bv device.Layout, kernel func(d []D, a []A, b []B)) {
	sp := newIterSpace(dv.Shape, dv, av, bv)
	ds, as, bs := sp.innerStride(0), sp.innerStride(1), sp.innerStride(2)
	sp.forRows(func() func(offs []int, n int) {
		td, ta, tb := scratch[D](ds), scratch[A](as), scratch[B](bs)
		return func(offs []int, n int) {
			for j := 0; j < n; j += block {
				m := min(block, n-j)
				d := loadRow(dst, offs[0]+j*ds, m, ds, td)
				kernel(d, loadRow(a, offs[1]+j*as, m, as, ta), loadRow(b, offs[2]+j*bs, m, bs, tb))
				storeRow(dst, offs[0]+j*ds, ds, d)
			}
		}
	})
}

// map3 runs kernel over blocks of dst, c, a and b.
func map3[D, C, A, B any](dst []D, dv device.Layout, c []C, cv device.Layout, a []A, av device.Layout, b []B, bv device.Layout, kernel func(d []D, c []C, a []A, b []B)) {
	sp := newIterSpace(dv.Shape, dv, cv, av, bv)
	ds, cs, as, bs := sp.innerStride(0), sp.innerStride(1), sp.innerStride(2), sp.innerStride(3)
	sp.forRows(func() func(offs []int, n int) {
		td, tc, ta, tb := scratch[D](ds), scratch[C](cs), scratch[A](as), scratch[B](bs)
		return func(offs []int, n int) {
			for j := 0; j < n; j += block {
				m := min(block, n-j)
				d := loadRow(dst, offs[0]+j*ds, m, ds, td)
				kernel(d, loadRow(c, offs[1]+j*cs, m, cs, tc), loadRow(a, offs[2]+j*as, m, as, ta), loadRow(b, offs[3]+j*bs, m, bs, tb))
				storeRow(dst, offs[0]+j*ds, ds, d)
			}
		}
	})
}
