package device

import "math"

func (c *host) Softmax(dst, src View, log bool) error {
	switch src.Buf.DType() {
	case Float32:
		return runSoftmax[float32](dst, src, log)
	case Float64:
		return runSoftmax[float64](dst, src, log)
	}
	return unsupported("softmax", src.Buf.DType())
}

func runSoftmax[T float](dst, src View, log bool) error {
	d, err := slice[T]("softmax", dst)
	if err != nil {
		return err
	}
	s, err := slice[T]("softmax", src)
	if err != nil {
		return err
	}
	r := src.Rank()
	if r == 0 {
		return runSoftmax[T](View{dst.Buf, Layout{[]int{1}, []int{1}, dst.Offset}}, View{src.Buf, Layout{[]int{1}, []int{1}, src.Offset}}, log)
	}
	cols := src.Shape[r-1]
	ss, ds := src.Strides[r-1], dst.Strides[r-1]
	rowsOf := func(l Layout) Layout {
		return Layout{Shape: l.Shape[:r-1], Strides: l.Strides[:r-1], Offset: l.Offset}
	}
	so, do := rowsOf(src.Layout), rowsOf(dst.Layout)
	rows := so.Numel()
	parallelFor(rows, max(1, grainElems/max(cols, 1)), func(lo, hi int) {
		buf := make([]float64, cols)
		for i := lo; i < hi; i++ {
			sOff, dOff := so.Offset, do.Offset
			rem := i
			for k := r - 2; k >= 0; k-- {
				j := rem % so.Shape[k]
				rem /= so.Shape[k]
				sOff += j * so.Strides[k]
				dOff += j * do.Strides[k]
			}
			m := math.Inf(-1)
			for j := range buf {
				buf[j] = float64(s[sOff+j*ss])
				m = max(m, buf[j])
			}
			var sum float64
			for j, v := range buf {
				e := math.Exp(v - m)
				sum += e
				if !log {
					buf[j] = e
				}
			}
			if log {
				lse := m + math.Log(sum)
				for j, v := range buf {
					d[dOff+j*ds] = T(v - lse)
				}
			} else {
				inv := 1 / sum
				for j, v := range buf {
					d[dOff+j*ds] = T(v * inv)
				}
			}
		}
	})
	return nil
}
