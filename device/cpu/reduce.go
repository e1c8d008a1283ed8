package cpu

import (
	"fmt"
	"math"
	"runtime"

	"github.com/nabla-go/nabla/device"
)

// redState is the partial result of a reduction over part of a block. Two
// states of the same op combine, which lets one long block be reduced by
// several goroutines.
type redState struct {
	n   int     // elements seen
	acc float64 // sum, product, extreme value, or mean (Var)
	aux float64 // LogSumExp: Σ e^(x-acc); Var: Σ (x-mean)²
	idx int     // ArgMax/ArgMin: index of acc
}

func initState(op device.ReduceOp) redState {
	switch op {
	case device.Prod:
		return redState{acc: 1}
	case device.Max, device.ArgMax, device.LogSumExp:
		return redState{acc: math.Inf(-1)}
	case device.Min, device.ArgMin:
		return redState{acc: math.Inf(1)}
	}
	return redState{}
}

// reduceSlice folds x (elements base, base+1, ...) into st.
func reduceSlice[T number](op device.ReduceOp, st redState, x []T, base int) redState {
	switch op {
	case device.Sum, device.Mean:
		st.acc += sumFloat64(x) // a vector kernel for float32 where the CPU has one
	case device.Prod:
		for _, v := range x {
			st.acc *= float64(v)
		}
	case device.Max, device.ArgMax:
		for i, v := range x {
			f := float64(v)
			if f > st.acc || (f != f && st.acc == st.acc) || st.n+i == 0 {
				st.acc, st.idx = f, base+i
			}
		}
	case device.Min, device.ArgMin:
		for i, v := range x {
			f := float64(v)
			if f < st.acc || (f != f && st.acc == st.acc) || st.n+i == 0 {
				st.acc, st.idx = f, base+i
			}
		}
	case device.LogSumExp:
		m := st.acc
		for _, v := range x {
			m = max(m, float64(v))
		}
		if math.IsInf(m, -1) {
			break
		}
		s := st.aux * math.Exp(st.acc-m)
		if math.IsInf(st.acc, -1) {
			s = 0
		}
		for _, v := range x {
			s += math.Exp(float64(v) - m)
		}
		st.acc, st.aux = m, s
	case device.Var:
		// Chan et al.'s parallel update: merge the block's own mean and M2.
		var sum float64
		for _, v := range x {
			sum += float64(v)
		}
		if len(x) == 0 {
			break
		}
		mean := sum / float64(len(x))
		var m2 float64
		for _, v := range x {
			d := float64(v) - mean
			m2 += d * d
		}
		return combine(op, st, redState{n: len(x), acc: mean, aux: m2})
	}
	st.n += len(x)
	return st
}

// combine merges two partial states of op; a holds earlier elements.
func combine(op device.ReduceOp, a, b redState) redState {
	if a.n == 0 {
		return b
	}
	if b.n == 0 {
		return a
	}
	out := redState{n: a.n + b.n}
	switch op {
	case device.Sum, device.Mean:
		out.acc = a.acc + b.acc
	case device.Prod:
		out.acc = a.acc * b.acc
	case device.Max, device.ArgMax:
		out.acc, out.idx = a.acc, a.idx
		if b.acc > a.acc || (b.acc != b.acc && a.acc == a.acc) {
			out.acc, out.idx = b.acc, b.idx
		}
	case device.Min, device.ArgMin:
		out.acc, out.idx = a.acc, a.idx
		if b.acc < a.acc || (b.acc != b.acc && a.acc == a.acc) {
			out.acc, out.idx = b.acc, b.idx
		}
	case device.LogSumExp:
		m := max(a.acc, b.acc)
		if math.IsInf(m, -1) {
			out.acc = m
			break
		}
		out.acc = m
		out.aux = a.aux*math.Exp(a.acc-m) + b.aux*math.Exp(b.acc-m)
	case device.Var:
		delta := b.acc - a.acc
		n := float64(out.n)
		out.acc = a.acc + delta*float64(b.n)/n
		out.aux = a.aux + b.aux + delta*delta*float64(a.n)*float64(b.n)/n
	}
	return out
}

// finish turns a state into the reduction's value.
func finish(op device.ReduceOp, st redState) float64 {
	switch op {
	case device.Mean:
		if st.n == 0 {
			return math.NaN()
		}
		return st.acc / float64(st.n)
	case device.ArgMax, device.ArgMin:
		return float64(st.idx)
	case device.LogSumExp:
		if math.IsInf(st.acc, 0) {
			return st.acc
		}
		return st.acc + math.Log(st.aux)
	case device.Var:
		if st.n == 0 {
			return math.NaN()
		}
		return st.aux / float64(st.n)
	}
	return st.acc
}

func (c *host) Reduce(op device.ReduceOp, dst, src device.View, n int) error {
	if !op.Valid() {
		return fmt.Errorf("device: cpu: unknown reduce op %d", op)
	}
	if n < 0 || n > src.Rank() {
		return fmt.Errorf("device: cpu: reduce %v: cannot reduce %d dims of a rank-%d view", op, n, src.Rank())
	}
	name := "reduce " + op.String()
	switch src.Buf.DType() {
	case device.Float32:
		return runReduce[float32](name, op, dst, src, n)
	case device.Float64:
		return runReduce[float64](name, op, dst, src, n)
	case device.Int64:
		return runReduce[int64](name, op, dst, src, n)
	case device.Uint8:
		return runReduce[uint8](name, op, dst, src, n)
	case device.Bool:
		return c.reduceBool(op, dst, src, n)
	}
	return unsupported(name, src.Buf.DType())
}

// reduceBool counts (Sum) or finds extremes of a Bool view by converting it
// to Uint8 first: Bool reductions are rare and small.
func (c *host) reduceBool(op device.ReduceOp, dst, src device.View, n int) error {
	tmp, _ := c.Alloc(device.Uint8, src.Numel())
	u8 := device.View{Buf: tmp, Layout: device.Contiguous(src.Shape...)}
	if err := c.Copy(u8, src); err != nil {
		return err
	}
	return c.Reduce(op, dst, u8, n)
}

func runReduce[T number](name string, op device.ReduceOp, dst, src device.View, n int) error {
	s, err := slice[T](name, src)
	if err != nil {
		return err
	}
	r := src.Rank() - n
	outer := device.Layout{Shape: src.Shape[:r], Strides: src.Strides[:r], Offset: src.Offset}
	inner := device.Layout{Shape: src.Shape[r:], Strides: src.Strides[r:]}
	rows, cols := outer.Numel(), inner.Numel()
	if rows == 0 {
		return nil
	}
	innerSpace := newIterSpace(inner.Shape, inner)
	contiguousRows := len(innerSpace.shape) == 1 && innerSpace.strides[0][0] == 1
	// rowScratch is the gather buffer for strided rows; contiguous rows
	// are reduced in place and need none.
	rowScratch := func() []T {
		if contiguousRows {
			return nil
		}
		return make([]T, block)
	}

	// reduceRange reduces elements [lo, hi) of the row starting at base.
	reduceRange := func(base, lo, hi int, tmp []T) redState {
		st := initState(op)
		if contiguousRows {
			return reduceSlice(op, st, s[base+lo:base+hi], lo)
		}
		for j := lo; j < hi; j += len(tmp) {
			m := min(len(tmp), hi-j)
			gatherBlock(s, base, inner, j, tmp[:m])
			st = combine(op, st, reduceSlice(op, initState(op), tmp[:m], j))
		}
		return st
	}

	results := make([]float64, rows)
	if columnReducible(op) && cols > 0 && reduceColumns(op, s, src, n, results) {
		return storeResults(name, dst, results)
	}
	rowBase := func(i int) int {
		off := outer.Offset
		for d := r - 1; d >= 0; d-- {
			off += (i % outer.Shape[d]) * outer.Strides[d]
			i /= outer.Shape[d]
		}
		return off
	}
	if workers := runtime.GOMAXPROCS(0); rows < workers && cols >= 2*grainElems {
		// Few long rows: split each row among the goroutines.
		parts := workers
		for i := range rows {
			base := rowBase(i)
			partial := make([]redState, parts)
			parallelFor(parts, 1, func(lo, hi int) {
				tmp := rowScratch()
				for p := lo; p < hi; p++ {
					partial[p] = reduceRange(base, p*cols/parts, (p+1)*cols/parts, tmp)
				}
			})
			st := initState(op)
			for _, p := range partial {
				st = combine(op, st, p)
			}
			results[i] = finish(op, st)
		}
	} else {
		parallelFor(rows, max(1, grainElems/max(cols, 1)), func(lo, hi int) {
			tmp := rowScratch()
			for i := lo; i < hi; i++ {
				results[i] = finish(op, reduceRange(rowBase(i), 0, cols, tmp))
			}
		})
	}
	return storeResults(name, dst, results)
}

// gatherBlock copies elements [j, j+len(out)) of a strided block (in
// row-major order of inner) starting at base into out.
func gatherBlock[T any](s []T, base int, inner device.Layout, j int, out []T) {
	idx := make([]int, len(inner.Shape))
	rem := j
	for d := len(inner.Shape) - 1; d >= 0; d-- {
		idx[d] = rem % inner.Shape[d]
		rem /= inner.Shape[d]
	}
	off := base
	for d, i := range idx {
		off += i * inner.Strides[d]
	}
	last := len(idx) - 1
	for k := range out {
		out[k] = s[off]
		// advance the odometer
		for d := last; d >= 0; d-- {
			idx[d]++
			off += inner.Strides[d]
			if idx[d] < inner.Shape[d] {
				break
			}
			off -= idx[d] * inner.Strides[d]
			idx[d] = 0
		}
	}
}

// storeResults writes row results (in row-major order) into dst.
func storeResults(name string, dst device.View, vals []float64) error {
	if len(vals) != dst.Numel() {
		return fmt.Errorf("device: cpu: %s: destination holds %d elements, reduction produced %d", name, dst.Numel(), len(vals))
	}
	host, _ := Wrap(vals)
	src := device.View{Buf: host, Layout: device.Contiguous(dst.Shape...)}
	return cpuBackend.Copy(dst, src)
}
