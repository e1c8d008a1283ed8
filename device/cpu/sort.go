package cpu

import (
	"fmt"
	"slices"

	"github.com/nabla-go/nabla/device"
)

// Sort implements device.Backend.Sort: each row is copied out, its positions are
// ordered by a stable merge sort (slices.SortStableFunc) and the result is
// written back; rows are spread over goroutines.
func (c *host) Sort(values, indices, src device.View, descending bool) error {
	switch src.Buf.DType() {
	case device.Float32:
		return sortRows[float32](values, indices, src, descending)
	case device.Float64:
		return sortRows[float64](values, indices, src, descending)
	case device.Int64:
		return sortRows[int64](values, indices, src, descending)
	case device.Uint8:
		return sortRows[uint8](values, indices, src, descending)
	}
	return unsupported("sort", src.Buf.DType())
}

// sortOrder compares a and b in ascending order with NaN above every
// number (and equal to NaN), PyTorch's order for sorting.
func sortOrder[T number](a, b T) int {
	if an, bn := a != a, b != b; an || bn {
		switch {
		case an && bn:
			return 0
		case an:
			return 1
		}
		return -1
	}
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func sortRows[T number](values, indices, src device.View, descending bool) error {
	const op = "sort"
	rank := len(src.Shape)
	if rank == 0 {
		return fmt.Errorf("device: cpu: %s needs a view with at least one dimension", op)
	}
	s, err := slice[T](op, src)
	if err != nil {
		return err
	}
	ix, err := slice[int64](op, indices)
	if err != nil {
		return err
	}
	var vs []T
	if values.Buf != nil {
		if vs, err = slice[T](op, values); err != nil {
			return err
		}
	}
	n := src.Shape[rank-1]
	rows := device.Numel(src.Shape[:rank-1])
	if n == 0 || rows == 0 {
		return nil
	}
	sStride, iStride := src.Strides[rank-1], indices.Strides[rank-1]
	parallelFor(rows, max(1, grainElems/max(n, 1)), func(lo, hi int) {
		keys := make([]T, n)
		order := make([]int, n)
		for r := lo; r < hi; r++ {
			so := rowOffset(src.Layout, r)
			for i := range keys {
				keys[i] = s[so+i*sStride]
				order[i] = i
			}
			slices.SortStableFunc(order, func(a, b int) int {
				if descending {
					return sortOrder(keys[b], keys[a])
				}
				return sortOrder(keys[a], keys[b])
			})
			io := rowOffset(indices.Layout, r)
			for i, p := range order {
				ix[io+i*iStride] = int64(p)
			}
			if vs != nil {
				vo, vStride := rowOffset(values.Layout, r), values.Strides[rank-1]
				for i, p := range order {
					vs[vo+i*vStride] = keys[p]
				}
			}
		}
	})
	return nil
}

// rowOffset is the element offset of row r of l, the rows being the
// positions of every dimension but the last, in row-major order.
func rowOffset(l device.Layout, r int) int {
	off := l.Offset
	for d := len(l.Shape) - 2; d >= 0; d-- {
		off += (r % l.Shape[d]) * l.Strides[d]
		r /= l.Shape[d]
	}
	return off
}
