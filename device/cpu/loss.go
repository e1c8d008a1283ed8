package cpu

import (
	"fmt"
	"math"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/backend"
)

// The CPU CrossEntropy and CrossEntropyBackward. Rows are independent, so
// they are split over goroutines; a strided row is gathered into a
// per-goroutine buffer first, as the CPU Softmax does. The forward pass
// reads a row from memory once: the maximum and the exponential sum are
// two sweeps over a row that then sits in cache. Float32 rows use the vector
// kernels of the CPU Softmax (maxF32, expSumF32 with the sum in float64),
// float64 rows float64 math; non-finite rows take float64 math too, which
// decides what NaN and infinities give exactly as the LogSumExp reduction
// does.

// ceChunk is how many float32 exponentials the forward pass writes into
// its scratch buffer at a time (expSumF32 needs somewhere to put them):
// small enough to stay in L1.
const ceChunk = 512

// CrossEntropy implements device.Backend.CrossEntropy.
func (c *host) CrossEntropy(loss, lse, x, labels device.View) error {
	const op = "device: cpu: cross_entropy"
	if err := backend.CheckCrossEntropy(op, loss, lse, x, labels); err != nil {
		return err
	}
	switch x.Buf.DType() {
	case device.Float32:
		return runCrossEntropy(op, loss, lse, x, labels, lseRowF32)
	case device.Float64:
		return runCrossEntropy(op, loss, lse, x, labels, func(s, _ []float64) (float64, float64) { return lseRow(s) })
	}
	return unsupported("cross_entropy", x.Buf.DType())
}

// CrossEntropyBackward implements device.Backend.CrossEntropyBackward.
func (c *host) CrossEntropyBackward(dx, x, lse, labels, g device.View) error {
	const op = "device: cpu: cross_entropy backward"
	if err := backend.CheckCrossEntropyBackward(op, dx, x, lse, labels, g); err != nil {
		return err
	}
	switch x.Buf.DType() {
	case device.Float32:
		return runCrossEntropyBackward(op, dx, x, lse, labels, g, ceGradRowF32)
	case device.Float64:
		return runCrossEntropyBackward(op, dx, x, lse, labels, g, ceGradRow[float64])
	}
	return unsupported("cross_entropy backward", x.Buf.DType())
}

// checkLabels returns an error naming the first label outside
// [0, classes). It runs before anything is written, so a bad label leaves
// the outputs untouched.
func checkLabels(op string, lab []int64, labels device.View, classes int) error {
	off, st := labels.Offset, labels.Strides[0]
	for i := range labels.Shape[0] {
		if k := lab[off+i*st]; k < 0 || k >= int64(classes) {
			return labelError(op, i, k, classes)
		}
	}
	return nil
}

// ceOperands is one call's typed slices and the strides the row loops
// need.
type ceOperands[T float] struct {
	x          []T
	lab        []int64
	rows, cols int
	xOff       int
	xs0, xs1   int
	lOff, ls   int
}

func newCEOperands[T float](op string, x, labels device.View) (*ceOperands[T], error) {
	xs, err := slice[T](op, x)
	if err != nil {
		return nil, err
	}
	lab, err := slice[int64](op, labels)
	if err != nil {
		return nil, err
	}
	o := &ceOperands[T]{
		x: xs, lab: lab, rows: x.Shape[0], cols: x.Shape[1],
		xOff: x.Offset, xs0: x.Strides[0], xs1: x.Strides[1],
		lOff: labels.Offset, ls: labels.Strides[0],
	}
	if err := checkLabels(op, lab, labels, o.cols); err != nil {
		return nil, err
	}
	return o, nil
}

// forRows runs the function that newWorker returns, once per goroutine,
// on every row that goroutine handles: in is row i of x as a contiguous
// slice (the buffer itself, or a gathered copy) and k its label.
// Per-goroutine buffers are made in newWorker, not per row.
func (o *ceOperands[T]) forRows(newWorker func() func(i int, in []T, k int)) {
	parallelFor(o.rows, max(1, grainElems/max(o.cols, 1)), func(lo, hi int) {
		fn := newWorker()
		var gather []T
		if o.xs1 != 1 {
			gather = make([]T, o.cols)
		}
		for i := lo; i < hi; i++ {
			in := loadRow(o.x, o.xOff+i*o.xs0, o.cols, o.xs1, gather)
			fn(i, in, int(o.lab[o.lOff+i*o.ls]))
		}
	})
}

func runCrossEntropy[T float](op string, loss, lse, x, labels device.View, row func(s, scratch []T) (m, ls float64)) error {
	o, err := newCEOperands[T](op, x, labels)
	if err != nil {
		return err
	}
	l, err := slice[T](op, loss)
	if err != nil {
		return err
	}
	e, err := slice[T](op, lse)
	if err != nil {
		return err
	}
	lOff, ls, eOff, es := loss.Offset, loss.Strides[0], lse.Offset, lse.Strides[0]
	o.forRows(func() func(int, []T, int) {
		var scratch []T
		if _, f32 := any(scratch).([]float32); f32 {
			scratch = make([]T, min(o.cols, ceChunk))
		}
		return func(i int, in []T, k int) {
			m, lg := row(in, scratch)
			// loss = (m - x[k]) + log Σ: both terms are >= 0, so nothing
			// cancels, where lse - x[k] would round the large lse first.
			l[lOff+i*ls] = T((m - float64(in[k])) + lg)
			e[eOff+i*es] = T(m + lg)
		}
	})
	return nil
}

// lseRow returns the maximum m of s and ls = log Σ e^(s[j]-m), so that
// logsumexp(s) = m + ls, in float64. A row holding NaN gives m = NaN, and
// a row whose maximum is infinite gives m = ±Inf with ls = 0: the
// LogSumExp reduction's results.
func lseRow[T float](s []T) (m, ls float64) {
	m = math.Inf(-1)
	for _, v := range s {
		m = max(m, float64(v))
	}
	if math.IsInf(m, 0) || m != m {
		return m, 0
	}
	var sum float64
	for _, v := range s {
		sum += math.Exp(float64(v) - m)
	}
	return m, math.Log(sum)
}

// lseRowF32 is lseRow with float32 exponentials from the vector kernels;
// the sum is accumulated in float64. scratch receives the exponentials.
func lseRowF32(s, scratch []float32) (m, ls float64) {
	mf := maxF32(s)
	if mf != mf || math.IsInf(float64(mf), 0) {
		return lseRow(s)
	}
	var sum float64
	for j := 0; j < len(s); j += len(scratch) {
		k := min(len(s)-j, len(scratch))
		sum += expSumF32(scratch[:k], s[j:j+k], mf)
	}
	if sum != sum {
		return lseRow(s) // a NaN that the maximum did not show
	}
	return float64(mf), math.Log(sum)
}

func runCrossEntropyBackward[T float](op string, dx, x, lse, labels, g device.View, row func(d, s []T, lse, g T, k int)) error {
	o, err := newCEOperands[T](op, x, labels)
	if err != nil {
		return err
	}
	d, err := slice[T](op, dx)
	if err != nil {
		return err
	}
	e, err := slice[T](op, lse)
	if err != nil {
		return err
	}
	gs, err := slice[T](op, g)
	if err != nil {
		return err
	}
	dOff, ds0, ds1 := dx.Offset, dx.Strides[0], dx.Strides[1]
	eOff, es, gOff, gst := lse.Offset, lse.Strides[0], g.Offset, g.Strides[0]
	o.forRows(func() func(int, []T, int) {
		var scatter []T
		if ds1 != 1 {
			scatter = make([]T, o.cols)
		}
		return func(i int, in []T, k int) {
			off := dOff + i*ds0
			out := scatter
			if ds1 == 1 {
				out = d[off : off+o.cols]
			}
			row(out, in, e[eOff+i*es], gs[gOff+i*gst], k)
			storeRow(d, off, ds1, out)
		}
	})
	return nil
}

// ceGradRow sets d[j] = g·(e^(s[j]-lse) - [j == k]) in float64 math. d
// may alias s.
func ceGradRow[T float](d, s []T, lse, g T, k int) {
	l, gg := float64(lse), float64(g)
	for j, v := range s {
		p := math.Exp(float64(v) - l)
		if j == k {
			p--
		}
		d[j] = T(gg * p)
	}
}

// ceGradRowF32 is ceGradRow with the float32 vector kernels: the
// exponent s[j]-lse is rounded to float32 (as the unfused
// Exp(Sub(x, lse)) rounds it), and the label's entry is g·(p-1), not
// g·p-g, so a probability near 1 keeps its low bits. d may alias s.
func ceGradRowF32(d, s []float32, lse, g float32, k int) {
	s = s[:len(d)]
	for j, v := range s {
		d[j] = v - lse
	}
	expF32(d, d)
	pk := d[k]
	scaleF32(d, g)
	d[k] = g * (pk - 1)
}

// labelError reports a class label outside [0, classes) in row i.
func labelError(op string, i int, label int64, classes int) error {
	return fmt.Errorf("%s: label %d of row %d is outside [0, %d); labels must be class indices", op, label, i, classes)
}
