package cpu

import (
	"math"

	"github.com/nabla-go/nabla/device"
)

func (c *host) Softmax(dst, src device.View, log bool) error {
	switch src.Buf.DType() {
	case device.Float32:
		return runSoftmax(dst, src, log, softmaxRowF32)
	case device.Float64:
		return runSoftmax(dst, src, log, softmaxRow[float64])
	}
	return unsupported("softmax", src.Buf.DType())
}

// runSoftmax applies row (softmax of one contiguous row into another) to
// every row of src's last dimension, gathering strided rows into a
// scratch buffer first.
func runSoftmax[T float](dst, src device.View, log bool, row func(d, s []T, log bool)) error {
	d, err := slice[T]("softmax", dst)
	if err != nil {
		return err
	}
	s, err := slice[T]("softmax", src)
	if err != nil {
		return err
	}
	if src.Rank() == 0 {
		row(d[dst.Offset:dst.Offset+1], s[src.Offset:src.Offset+1], log)
		return nil
	}
	r := src.Rank()
	cols := src.Shape[r-1]
	ss, ds := src.Strides[r-1], dst.Strides[r-1]
	so := device.Layout{Shape: src.Shape[:r-1], Strides: src.Strides[:r-1], Offset: src.Offset}
	do := device.Layout{Shape: dst.Shape[:r-1], Strides: dst.Strides[:r-1], Offset: dst.Offset}
	parallelFor(so.Numel(), max(1, grainElems/max(cols, 1)), func(lo, hi int) {
		var inBuf, outBuf []T
		if ss != 1 {
			inBuf = make([]T, cols)
		}
		if ds != 1 {
			outBuf = make([]T, cols)
		}
		for i := lo; i < hi; i++ {
			sOff, dOff := so.Offset, do.Offset
			rem := i
			for k := r - 2; k >= 0; k-- {
				j := rem % so.Shape[k]
				rem /= so.Shape[k]
				sOff += j * so.Strides[k]
				dOff += j * do.Strides[k]
			}
			in := loadRow(s, sOff, cols, ss, inBuf)
			out := outBuf
			if ds == 1 {
				out = d[dOff : dOff+cols]
			}
			row(out, in, log)
			storeRow(d, dOff, ds, out)
		}
	})
	return nil
}

// softmaxRow is the generic row kernel: subtract the maximum, exponentiate,
// normalise (or, for log-softmax, subtract the log of the sum).
func softmaxRow[T float](d, s []T, log bool) {
	m := math.Inf(-1)
	for _, v := range s {
		m = max(m, float64(v))
	}
	var sum float64
	for _, v := range s {
		sum += math.Exp(float64(v) - m)
	}
	if log {
		// (x - max) - log Σ, not x - (max + log Σ): the latter rounds the
		// large max + log Σ first and loses the low bits.
		ls := math.Log(sum)
		for j, v := range s {
			d[j] = T((float64(v) - m) - ls)
		}
		return
	}
	inv := 1 / sum
	for j, v := range s {
		d[j] = T(math.Exp(float64(v)-m) * inv)
	}
}

// softmaxRowF32 is softmaxRow with float32 exponentials (vector kernels
// where the CPU has them); the sum is accumulated in float64 across blocks.
func softmaxRowF32(d, s []float32, log bool) {
	m := maxF32(s)
	if m != m || math.IsInf(float64(m), 0) {
		softmaxRow(d, s, log) // NaN or infinite rows: let float64 math decide
		return
	}
	var sum float64
	if log {
		// d may alias s, so exponentiate into a scratch buffer.
		var buf [512]float32
		for j := 0; j < len(s); j += len(buf) {
			k := min(len(s)-j, len(buf))
			sum += expSumF32(buf[:k], s[j:j+k], m)
		}
	} else {
		sum = expSumF32(d, s, m)
	}
	if sum != sum {
		softmaxRow(d, s, log) // a NaN the maximum did not show
		return
	}
	if log {
		logSoftmaxF32(d, s, m, math.Log(sum))
		return
	}
	scaleF32(d, float32(1/sum))
}
