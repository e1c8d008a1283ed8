package cpu

import (
	"fmt"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/backend"
)

// indexPlan walks the positions of a shape, yielding for each one the
// offsets into three layouts (dst, src, idx) and the coordinate along dim.
func walkIndexed(shape []int, dim int, ls [3]device.Layout, fn func(offs [3]int, coord int) error) error {
	n := device.Numel(shape)
	if n == 0 {
		return nil
	}
	idx := make([]int, len(shape))
	offs := [3]int{ls[0].Offset, ls[1].Offset, ls[2].Offset}
	for k := 0; k < n; k++ {
		if err := fn(offs, idx[dim]); err != nil {
			return err
		}
		for d := len(shape) - 1; d >= 0; d-- {
			idx[d]++
			for j := range offs {
				offs[j] += ls[j].Strides[d]
			}
			if idx[d] < shape[d] {
				break
			}
			for j := range offs {
				offs[j] -= idx[d] * ls[j].Strides[d]
			}
			idx[d] = 0
		}
	}
	return nil
}

func (c *host) Gather(dst, src, idx device.View, dim int) error {
	switch dst.Buf.DType() {
	case device.Float32:
		return runGather[float32](dst, src, idx, dim)
	case device.Float64:
		return runGather[float64](dst, src, idx, dim)
	case device.Int64:
		return runGather[int64](dst, src, idx, dim)
	case device.Bool:
		return runGather[bool](dst, src, idx, dim)
	case device.Uint8:
		return runGather[uint8](dst, src, idx, dim)
	}
	return unsupported("gather", dst.Buf.DType())
}

func (c *host) ScatterAdd(dst, src, idx device.View, dim int) error {
	switch dst.Buf.DType() {
	case device.Float32:
		return runScatterAdd[float32](dst, src, idx, dim)
	case device.Float64:
		return runScatterAdd[float64](dst, src, idx, dim)
	case device.Int64:
		return runScatterAdd[int64](dst, src, idx, dim)
	}
	return unsupported("scatter_add", dst.Buf.DType())
}

func indexError(op string, i int64, dim, size int) error {
	return fmt.Errorf("device: cpu: %s: index %d is out of range for dimension %d of size %d", op, i, dim, size)
}

func runGather[T any](dst, src, idx device.View, dim int) error {
	d, err := slice[T]("gather", dst)
	if err != nil {
		return err
	}
	s, err := slice[T]("gather", src)
	if err != nil {
		return err
	}
	ix, err := slice[int64]("gather", idx)
	if err != nil {
		return err
	}
	size, stride := src.Shape[dim], src.Strides[dim]
	if gatherBlocks(d, dst, s, src, ix, idx, dim) {
		return checkIndexError(ix, idx, dim, size, "gather")
	}
	// src is walked with its stride along dim zeroed; the index supplies it.
	sl := src.Layout.Clone()
	sl.Strides[dim] = 0
	return walkIndexed(dst.Shape, dim, [3]device.Layout{dst.Layout, sl, idx.Layout}, func(o [3]int, _ int) error {
		i := ix[o[2]]
		if i < 0 || i >= int64(size) {
			return indexError("gather", i, dim, size)
		}
		d[o[0]] = s[o[1]+int(i)*stride]
		return nil
	})
}

func runScatterAdd[T number](dst, src, idx device.View, dim int) error {
	d, err := slice[T]("scatter_add", dst)
	if err != nil {
		return err
	}
	s, err := slice[T]("scatter_add", src)
	if err != nil {
		return err
	}
	ix, err := slice[int64]("scatter_add", idx)
	if err != nil {
		return err
	}
	size, stride := dst.Shape[dim], dst.Strides[dim]
	dl := dst.Layout.Clone()
	dl.Strides[dim] = 0
	return walkIndexed(src.Shape, dim, [3]device.Layout{dl, src.Layout, idx.Layout}, func(o [3]int, _ int) error {
		i := ix[o[2]]
		if i < 0 || i >= int64(size) {
			return indexError("scatter_add", i, dim, size)
		}
		d[o[0]+int(i)*stride] += s[o[1]]
		return nil
	})
}

func (c *host) Random(dst device.View, dist device.Distribution, seed, offset uint64, a, b float64) error {
	switch dst.Buf.DType() {
	case device.Float32:
		if dist == device.Uniform {
			lo, hi := float32(a), float32(b)
			return runRandom(dst, func(k uint64) float32 { return backend.UniformFloat32(seed, offset+k, lo, hi) })
		}
		return runRandom(dst, func(k uint64) float32 { return float32(backend.RandomValue(dist, seed, offset+k, a, b)) })
	case device.Float64:
		return runRandom(dst, func(k uint64) float64 { return backend.RandomValue(dist, seed, offset+k, a, b) })
	case device.Int64:
		return runRandom(dst, func(k uint64) int64 { return int64(backend.RandomValue(dist, seed, offset+k, a, b)) })
	case device.Bool:
		return runRandom(dst, func(k uint64) bool { return backend.RandomValue(dist, seed, offset+k, a, b) != 0 })
	case device.Uint8:
		return runRandom(dst, func(k uint64) uint8 { return uint8(backend.RandomValue(dist, seed, offset+k, a, b)) })
	}
	return unsupported("random", dst.Buf.DType())
}

func runRandom[T any](dst device.View, draw func(k uint64) T) error {
	d, err := slice[T]("random", dst)
	if err != nil {
		return err
	}
	n := dst.Numel()
	if n == 0 {
		return nil
	}
	if dst.IsContiguous() {
		parallelFor(n, grainElems/8, func(lo, hi int) {
			out := d[dst.Offset+lo : dst.Offset+hi]
			for i := range out {
				out[i] = draw(uint64(lo + i))
			}
		})
		return nil
	}
	k := uint64(0)
	return walkIndexed(dst.Shape, 0, [3]device.Layout{dst.Layout, dst.Layout, dst.Layout}, func(o [3]int, _ int) error {
		d[o[0]] = draw(k)
		k++
		return nil
	})
}

// gatherBlocks is Gather's fast path for IndexSelect-shaped indices, whose
// value does not change along the dimensions after dim: each index then
// selects a whole block (the trailing dimensions), copied at once instead
// of element by element. It reports false when the layout does not fit.
// Out-of-range indices are skipped here and reported by the caller.
func gatherBlocks[T any](d []T, dst device.View, s []T, src device.View, ix []int64, idx device.View, dim int) bool {
	r := dst.Rank()
	for k := dim + 1; k < r; k++ {
		if idx.Strides[k] != 0 {
			return false
		}
	}
	inner := device.Layout{Shape: dst.Shape[dim+1:], Strides: dst.Strides[dim+1:]}
	srcInner := device.Layout{Shape: src.Shape[dim+1:], Strides: src.Strides[dim+1:]}
	blockLen := inner.Numel()
	if blockLen < 8 {
		return false
	}
	contiguous := inner.IsContiguous() && srcInner.IsContiguous()
	outer := device.Layout{Shape: dst.Shape[:dim+1], Strides: dst.Strides[:dim+1], Offset: dst.Offset}
	// Walk src with dst's outer shape (they differ along dim) and with a
	// zero stride along dim: the index supplies that coordinate.
	srcOuter := device.Layout{Shape: outer.Shape, Strides: append([]int(nil), src.Strides[:dim+1]...), Offset: src.Offset}
	srcOuter.Strides[dim] = 0
	idxOuter := device.Layout{Shape: idx.Shape[:dim+1], Strides: idx.Strides[:dim+1], Offset: idx.Offset}
	n := outer.Numel()
	size, stride := src.Shape[dim], src.Strides[dim]
	parallelFor(n, max(1, grainElems/blockLen), func(lo, hi int) {
		for k := lo; k < hi; k++ {
			dOff, sOff, iOff := offsetOf(outer, k), offsetOf(srcOuter, k), offsetOf(idxOuter, k)
			i := ix[iOff]
			if i < 0 || i >= int64(size) {
				continue
			}
			sOff += int(i) * stride
			if contiguous {
				copy(d[dOff:dOff+blockLen], s[sOff:sOff+blockLen])
				continue
			}
			dl, sl := inner, srcInner
			dl.Offset, sl.Offset = dOff, sOff
			map1(d, dl, s, sl, func(a, b []T) { copy(a, b) })
		}
	})
	return true
}

// offsetOf returns the buffer offset of the k-th element (row-major) of l.
func offsetOf(l device.Layout, k int) int {
	off := l.Offset
	for d := len(l.Shape) - 1; d >= 0; d-- {
		off += (k % l.Shape[d]) * l.Strides[d]
		k /= l.Shape[d]
	}
	return off
}

// checkIndexError scans the indices for one out of range, for the fast
// paths that skip them.
func checkIndexError(ix []int64, idx device.View, dim, size int, op string) error {
	var bad error
	walkOffsets(idx.Layout, func(off int) {
		if i := ix[off]; bad == nil && (i < 0 || i >= int64(size)) {
			bad = indexError(op, i, dim, size)
		}
	})
	return bad
}
