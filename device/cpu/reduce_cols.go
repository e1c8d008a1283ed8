package cpu

import (
	"math"

	"github.com/nabla-go/nabla/device"
)

// Reductions over leading dimensions (the bias gradient Σ over a batch,
// batch-norm statistics) read the input with a large stride if done one
// output at a time. When the innermost kept dimension is contiguous, it is
// faster to stream through the input row by row and update a whole vector
// of outputs at once: reduceColumns does that for the ops whose state is a
// single number per output.

// columnReducible reports whether op can use reduceColumns.
func columnReducible(op device.ReduceOp) bool {
	return op == device.Sum || op == device.Mean || op == device.Max || op == device.Min
}

// reduceColumns reduces the trailing n dims of src (shape [kept..., red...])
// where the last kept dim has stride 1. It returns false when the layout
// does not fit.
func reduceColumns[T number](op device.ReduceOp, s []T, src device.View, n int, results []float64) bool {
	r := src.Rank() - n
	if r == 0 || n == 0 || src.Strides[r-1] != 1 || src.Shape[r-1] < 8 {
		return false
	}
	cols := src.Shape[r-1]
	outer := device.Layout{Shape: src.Shape[:r-1], Strides: src.Strides[:r-1], Offset: src.Offset}
	red := device.Layout{Shape: src.Shape[r:], Strides: src.Strides[r:]}
	for _, st := range red.Strides {
		if st < cols && st != 0 {
			return false // reduced elements interleave with the columns
		}
	}
	nred := red.Numel()
	redOffsets := make([]int, 0, nred)
	walkOffsets(red, func(off int) { redOffsets = append(redOffsets, off) })

	const chunk = 256 // columns per task: the accumulator stays in L1
	chunksPerRow := (cols + chunk - 1) / chunk
	tasks := outer.Numel() * chunksPerRow
	parallelFor(tasks, max(1, grainElems/max(1, nred*chunk)), func(lo, hi int) {
		var acc [chunk]float64
		for task := lo; task < hi; task++ {
			o, c0 := task/chunksPerRow, (task%chunksPerRow)*chunk
			w := min(chunk, cols-c0)
			base := outer.Offset + c0
			rem := o
			for d := len(outer.Shape) - 1; d >= 0; d-- {
				base += (rem % outer.Shape[d]) * outer.Strides[d]
				rem /= outer.Shape[d]
			}
			a := acc[:w]
			switch op {
			case device.Sum, device.Mean:
				clear(a)
				for _, off := range redOffsets {
					row := s[base+off : base+off+w]
					for j, v := range row {
						a[j] += float64(v)
					}
				}
				if op == device.Mean {
					inv := 1 / float64(nred)
					if nred == 0 {
						inv = math.NaN()
					}
					for j := range a {
						a[j] *= inv
					}
				}
			case device.Max, device.Min:
				row := s[base+redOffsets[0] : base+redOffsets[0]+w]
				for j, v := range row {
					a[j] = float64(v)
				}
				for _, off := range redOffsets[1:] {
					row := s[base+off : base+off+w]
					for j, v := range row {
						f := float64(v)
						if (op == device.Max && f > a[j]) || (op == device.Min && f < a[j]) || (f != f) {
							a[j] = f
						}
					}
				}
			}
			copy(results[o*cols+c0:], a)
		}
	})
	return true
}

// walkOffsets calls fn with the offset of every element of l in row-major
// order.
func walkOffsets(l device.Layout, fn func(off int)) {
	n := l.Numel()
	if n == 0 {
		return
	}
	idx := make([]int, len(l.Shape))
	off := l.Offset
	for k := 0; k < n; k++ {
		fn(off)
		for d := len(idx) - 1; d >= 0; d-- {
			idx[d]++
			off += l.Strides[d]
			if idx[d] < l.Shape[d] {
				break
			}
			off -= idx[d] * l.Strides[d]
			idx[d] = 0
		}
	}
}
