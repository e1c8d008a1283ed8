package cpu

import (
	"math"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/backend"
)

// The CPU batch-norm primitives.
//
// The per-channel reductions (the statistics, and the gradient sums of
// the backward pass) cut the [N, C, L] operand into tiles of about
// bnTile elements: a block of channels × a block of batch items × a
// segment of positions. A tile is small enough to stay in L1, so the
// statistics take two passes over it (the tile's mean, then its squared
// deviations, with the compensation term of the corrected two-pass
// algorithm) while reading memory once, and tiles are merged with Chan's
// rule. Everything accumulates in float64, whatever the dtype.
//
// The tiles of a channel block are dealt to a fixed number of splits
// that depends only on the shape, never on GOMAXPROCS, and each split's
// partial result goes to its own slot, merged in split order at the end:
// the result is the same bit for bit on every machine and every run,
// which the checkpoint-resume tests rely on.
//
// The elementwise passes round every product on its own (the explicit
// conversions stop the compiler from fusing a multiply and an add), as
// the CUDA kernels do, so with equal statistics both give equal results.

const (
	// bnTile is the number of elements of a reduction tile.
	bnTile = 4096
	// bnUnits is the number of (channel block, split) work units the
	// reductions aim for: enough to keep dozens of cores busy when the
	// channels are few.
	bnUnits = 64
)

// bnView is an [N, C, L] operand: its data and where element (n, c, l)
// lives, data[off + n*s[0] + c*s[1] + l*s[2]].
type bnView[T any] struct {
	data []T
	off  int
	s    [3]int
}

func bnPlane[T float](op string, v device.View) (bnView[T], error) {
	d, err := slice[T](op, v)
	if err != nil {
		return bnView[T]{}, err
	}
	return bnView[T]{data: d, off: v.Offset, s: [3]int{v.Strides[0], v.Strides[1], v.Strides[2]}}, nil
}

// bnVec is a [C] operand; a nil data slice stands for an absent one.
type bnVec[T any] struct {
	data   []T
	off, s int
}

func bnVector[T float](op string, v device.View) (bnVec[T], error) {
	if v.Buf == nil {
		return bnVec[T]{}, nil
	}
	d, err := slice[T](op, v)
	if err != nil {
		return bnVec[T]{}, err
	}
	return bnVec[T]{data: d, off: v.Offset, s: v.Strides[0]}, nil
}

func (v bnVec[T]) at(c int) T     { return v.data[v.off+c*v.s] }
func (v bnVec[T]) set(c int, x T) { v.data[v.off+c*v.s] = x }

// or returns element c, or d when the operand is absent.
func (v bnVec[T]) or(c int, d T) T {
	if v.data == nil {
		return d
	}
	return v.at(c)
}

// bnState is a partial mean: the count, the mean and the sum of squared
// deviations from it (Welford's M2).
type bnState struct{ n, mean, m2 float64 }

// merge combines two partial states with Chan, Golub and LeVeque's rule.
func (a bnState) merge(b bnState) bnState {
	if b.n == 0 {
		return a
	}
	if a.n == 0 {
		return b
	}
	n := a.n + b.n
	d := b.mean - a.mean
	return bnState{n: n, mean: a.mean + d*(b.n/n), m2: a.m2 + b.m2 + d*d*(a.n*b.n/n)}
}

// bnGrid is the tiling of a per-channel reduction over an [N, C, L]
// operand: tiles of nb batch items × cb channels × lb positions, the
// tiles of each channel block dealt in row-major (n, l) order to splits
// contiguous groups.
type bnGrid struct {
	n, c, l        int
	nb, cb, lb     int
	nTiles, lTiles int
	cBlocks        int
	splits         int
}

func newBNGrid(n, c, l int) bnGrid {
	g := bnGrid{n: n, c: c, l: l}
	g.lb = max(1, min(l, bnTile))
	// At most bnTile/8 channels, so that a tile spans several batch items
	// even with one position per channel and its two passes pay off.
	g.cb = max(1, min(c, bnTile/g.lb, bnTile/8))
	g.nb = max(1, min(n, bnTile/(g.lb*g.cb)))
	g.nTiles = (n + g.nb - 1) / g.nb
	g.lTiles = (l + g.lb - 1) / g.lb
	g.cBlocks = (c + g.cb - 1) / g.cb
	g.splits = max(1, min(g.nTiles*g.lTiles, (bnUnits+g.cBlocks-1)/max(1, g.cBlocks)))
	return g
}

// bnTileFn handles one tile: split s, channels [c0, c1), batch items
// [n0, n1) and positions [l0, l1).
type bnTileFn func(s, c0, c1, n0, n1, l0, l1 int)

// run calls the function newWorker returns, once per goroutine, for every
// tile. Each (channel block, split) unit is handled by one goroutine, in
// tile order, so a split's slot for a channel has a single writer.
func (g bnGrid) run(newWorker func() bnTileFn) {
	tiles := g.nTiles * g.lTiles
	units := g.cBlocks * g.splits
	if tiles == 0 || units == 0 || g.c == 0 {
		return
	}
	unitElems := max(1, g.n*g.c*g.l/units)
	parallelFor(units, max(1, grainElems/unitElems), func(lo, hi int) {
		fn := newWorker()
		for u := lo; u < hi; u++ {
			cb, s := u/g.splits, u%g.splits
			c0 := cb * g.cb
			c1 := min(g.c, c0+g.cb)
			for t := s * tiles / g.splits; t < (s+1)*tiles/g.splits; t++ {
				nt, lt := t/g.lTiles, t%g.lTiles
				n0, l0 := nt*g.nb, lt*g.lb
				fn(s, c0, c1, n0, min(g.n, n0+g.nb), l0, min(g.l, l0+g.lb))
			}
		}
	})
}

// BatchNormStats implements device.Backend.BatchNormStats.
func (c *host) BatchNormStats(mean, variance, x device.View) error {
	if err := backend.CheckBatchNormStats("device: cpu: batch norm stats", mean, variance, x); err != nil {
		return err
	}
	switch x.Buf.DType() {
	case device.Float32:
		return runBNStats[float32](mean, variance, x)
	case device.Float64:
		return runBNStats[float64](mean, variance, x)
	}
	return unsupported("batch norm stats", x.Buf.DType())
}

func runBNStats[T float](meanV, varV, xV device.View) error {
	const op = "batch norm stats"
	x, err := bnPlane[T](op, xV)
	if err != nil {
		return err
	}
	mean, err := bnVector[T](op, meanV)
	if err != nil {
		return err
	}
	variance, err := bnVector[T](op, varV)
	if err != nil {
		return err
	}
	g := newBNGrid(xV.Shape[0], xV.Shape[1], xV.Shape[2])
	part := make([]bnState, g.splits*g.c)
	g.run(func() bnTileFn {
		sum := make([]float64, g.cb)
		sq := make([]float64, g.cb)
		dev := make([]float64, g.cb)
		return func(s, c0, c1, n0, n1, l0, l1 int) {
			k, ln := c1-c0, l1-l0
			cnt := float64((n1 - n0) * ln)
			sum, sq, dev := sum[:k], sq[:k], dev[:k]
			clear(sum)
			clear(sq)
			clear(dev)
			for n := n0; n < n1; n++ {
				base := x.off + n*x.s[0] + l0*x.s[2] + c0*x.s[1]
				if ln == 1 {
					// One position per channel (BatchNorm1d): walk the channels.
					for i := range sum {
						sum[i] += float64(x.data[base+i*x.s[1]])
					}
					continue
				}
				for i := range sum {
					sum[i] += bnRowSum(x.data, base+i*x.s[1], ln, x.s[2])
				}
			}
			for i := range sum {
				sum[i] /= cnt // the tile's mean
			}
			for n := n0; n < n1; n++ {
				base := x.off + n*x.s[0] + l0*x.s[2] + c0*x.s[1]
				if ln == 1 {
					for i, m := range sum {
						v := float64(x.data[base+i*x.s[1]]) - m
						sq[i] += v * v
						dev[i] += v
					}
					continue
				}
				for i, m := range sum {
					q, e := bnRowDev(x.data, base+i*x.s[1], ln, x.s[2], m)
					sq[i] += q
					dev[i] += e
				}
			}
			slot := part[s*g.c+c0 : s*g.c+c1]
			for i := range slot {
				// Σ(x-m̄)² - (Σ(x-m̄))²/n corrects the rounding of m̄.
				m2 := max(0, sq[i]-dev[i]*dev[i]/cnt)
				slot[i] = slot[i].merge(bnState{n: cnt, mean: sum[i], m2: m2})
			}
		}
	})
	for ch := range g.c {
		st := part[ch]
		for s := 1; s < g.splits; s++ {
			st = st.merge(part[s*g.c+ch])
		}
		m, v := math.NaN(), math.NaN()
		if st.n > 0 {
			m, v = st.mean, st.m2/st.n
		}
		mean.set(ch, T(m))
		variance.set(ch, T(v))
	}
	return nil
}

// bnRowSum returns the float64 sum of n elements of d from off with the
// given stride (contiguous rows through sum4).
func bnRowSum[T float](d []T, off, n, stride int) float64 {
	if stride == 1 {
		return sum4(d[off : off+n])
	}
	var s float64
	for i := range n {
		s += float64(d[off+i*stride])
	}
	return s
}

// bnRowDev returns Σ(x-m)² and Σ(x-m) over n elements of d from off with
// the given stride.
func bnRowDev[T float](d []T, off, n, stride int, m float64) (sq, dev float64) {
	var q0, q1, e0, e1 float64
	if stride == 1 {
		r := d[off : off+n]
		i := 0
		for ; i+2 <= len(r); i += 2 {
			v0, v1 := float64(r[i])-m, float64(r[i+1])-m
			q0 += v0 * v0
			q1 += v1 * v1
			e0 += v0
			e1 += v1
		}
		if i < len(r) {
			v := float64(r[i]) - m
			q0 += v * v
			e0 += v
		}
		return q0 + q1, e0 + e1
	}
	for i := range n {
		v := float64(d[off+i*stride]) - m
		q0 += v * v
		e0 += v
	}
	return q0, e0
}

// BatchNormForward implements device.Backend.BatchNormForward.
func (c *host) BatchNormForward(y, xhat, x, mean, invstd, weight, bias device.View) error {
	if err := backend.CheckBatchNormForward("device: cpu: batch norm forward", y, xhat, x, mean, invstd, weight, bias); err != nil {
		return err
	}
	switch x.Buf.DType() {
	case device.Float32:
		return runBNForward[float32](y, xhat, x, mean, invstd, weight, bias)
	case device.Float64:
		return runBNForward[float64](y, xhat, x, mean, invstd, weight, bias)
	}
	return unsupported("batch norm forward", x.Buf.DType())
}

// bnRows calls fn(lo, hi) on ranges of the rows (n, c) of an [N, C, L]
// operand, row r being (r / C, r % C), spread over goroutines.
func bnRows(n, c, l int, fn func(lo, hi int)) {
	rows := n * c
	if rows == 0 || l == 0 {
		return
	}
	parallelFor(rows, max(1, grainElems/l), fn)
}

func runBNForward[T float](yV, hV, xV, meanV, istdV, wV, bV device.View) error {
	const op = "batch norm forward"
	y, err := bnPlane[T](op, yV)
	if err != nil {
		return err
	}
	x, err := bnPlane[T](op, xV)
	if err != nil {
		return err
	}
	var h bnView[T]
	if hV.Buf != nil {
		if h, err = bnPlane[T](op, hV); err != nil {
			return err
		}
	}
	var vecs [4]bnVec[T]
	for i, v := range []device.View{meanV, istdV, wV, bV} {
		if vecs[i], err = bnVector[T](op, v); err != nil {
			return err
		}
	}
	mean, istd, w, b := vecs[0], vecs[1], vecs[2], vecs[3]
	N, C, L := xV.Shape[0], xV.Shape[1], xV.Shape[2]
	// The per-channel parameters, gathered once into plain slices.
	ms, is, ws, bs := make([]T, C), make([]T, C), make([]T, C), make([]T, C)
	for c := range C {
		ms[c], is[c], ws[c], bs[c] = mean.at(c), istd.at(c), w.or(c, 1), b.or(c, 0)
	}
	keep := h.data != nil
	if L == 1 {
		// One position per channel (BatchNorm1d): walk the channels of
		// each batch item, the contiguous direction of an [N, C] input.
		parallelFor(N, max(1, grainElems/max(C, 1)), func(lo, hi int) {
			is, ws, bs := is[:len(ms)], ws[:len(ms)], bs[:len(ms)]
			for n := lo; n < hi; n++ {
				xo, yo, ho := x.off+n*x.s[0], y.off+n*y.s[0], h.off+n*h.s[0]
				for c, m := range ms {
					xh := (x.data[xo+c*x.s[1]] - m) * is[c]
					if keep {
						h.data[ho+c*h.s[1]] = xh
					}
					y.data[yo+c*y.s[1]] = T(xh*ws[c]) + bs[c]
				}
			}
		})
		return nil
	}
	unit := x.s[2] == 1 && y.s[2] == 1 && (!keep || h.s[2] == 1)
	bnRows(N, C, L, func(lo, hi int) {
		n, c := lo/C, lo%C
		for r := lo; r < hi; r++ {
			m, is, wc, bc := ms[c], is[c], ws[c], bs[c]
			xo := x.off + n*x.s[0] + c*x.s[1]
			yo := y.off + n*y.s[0] + c*y.s[1]
			ho := h.off + n*h.s[0] + c*h.s[1]
			switch {
			case unit && keep:
				xr, yr, hr := x.data[xo:xo+L], y.data[yo:yo+L], h.data[ho:ho+L]
				for i, v := range xr {
					xh := (v - m) * is
					hr[i] = xh
					yr[i] = T(xh*wc) + bc
				}
			case unit:
				xr, yr := x.data[xo:xo+L], y.data[yo:yo+L]
				for i, v := range xr {
					xh := (v - m) * is
					yr[i] = T(xh*wc) + bc
				}
			default:
				for range L {
					xh := (x.data[xo] - m) * is
					if keep {
						h.data[ho] = xh
					}
					y.data[yo] = T(xh*wc) + bc
					xo, yo, ho = xo+x.s[2], yo+y.s[2], ho+h.s[2]
				}
			}
			if c++; c == C {
				n, c = n+1, 0
			}
		}
	})
	return nil
}

// BatchNormBackward implements device.Backend.BatchNormBackward.
func (c *host) BatchNormBackward(dx, dweight, dbias, g, xhat, invstd, weight device.View, training bool) error {
	if err := backend.CheckBatchNormBackward("device: cpu: batch norm backward", dx, dweight, dbias, g, xhat, invstd, weight); err != nil {
		return err
	}
	switch g.Buf.DType() {
	case device.Float32:
		return runBNBackward[float32](dx, dweight, dbias, g, xhat, invstd, weight, training)
	case device.Float64:
		return runBNBackward[float64](dx, dweight, dbias, g, xhat, invstd, weight, training)
	}
	return unsupported("batch norm backward", g.Buf.DType())
}

// bnSums are a channel's gradient sums Σg and Σg·x̂.
type bnSums struct{ g, gx float64 }

func runBNBackward[T float](dxV, dwV, dbV, gV, hV, istdV, wV device.View, training bool) error {
	const op = "batch norm backward"
	g, err := bnPlane[T](op, gV)
	if err != nil {
		return err
	}
	h, err := bnPlane[T](op, hV)
	if err != nil {
		return err
	}
	var dx bnView[T]
	if dxV.Buf != nil {
		if dx, err = bnPlane[T](op, dxV); err != nil {
			return err
		}
	}
	var vecs [4]bnVec[T]
	for i, v := range []device.View{istdV, wV, dwV, dbV} {
		if vecs[i], err = bnVector[T](op, v); err != nil {
			return err
		}
	}
	istd, w, dw, db := vecs[0], vecs[1], vecs[2], vecs[3]
	N, C, L := gV.Shape[0], gV.Shape[1], gV.Shape[2]
	var sums []bnSums
	if dw.data != nil || db.data != nil || (training && dx.data != nil) {
		sums = bnGradSums(g, h, N, C, L)
		for c, s := range sums {
			if dw.data != nil {
				dw.set(c, T(s.gx))
			}
			if db.data != nil {
				db.set(c, T(s.g))
			}
		}
	}
	if dx.data == nil {
		return nil
	}
	// dx = a·g + k·x̂ + b per channel, the coefficients computed in
	// float64 and rounded once.
	type coef struct{ a, k, b T }
	cf := make([]coef, C)
	inv := 1 / float64(N*L)
	for c := range cf {
		a := float64(istd.at(c)) * float64(w.or(c, 1))
		cf[c].a = T(a)
		if training {
			cf[c].k = T(-a * sums[c].gx * inv)
			cf[c].b = T(-a * sums[c].g * inv)
		}
	}
	if L == 1 {
		parallelFor(N, max(1, grainElems/max(C, 1)), func(lo, hi int) {
			for n := lo; n < hi; n++ {
				gOff, hOff, dOff := g.off+n*g.s[0], h.off+n*h.s[0], dx.off+n*dx.s[0]
				for c, k := range cf {
					gv := g.data[gOff+c*g.s[1]]
					if !training {
						dx.data[dOff+c*dx.s[1]] = k.a * gv
						continue
					}
					dx.data[dOff+c*dx.s[1]] = T(k.a*gv) + T(k.k*h.data[hOff+c*h.s[1]]) + k.b
				}
			}
		})
		return nil
	}
	unit := g.s[2] == 1 && h.s[2] == 1 && dx.s[2] == 1
	bnRows(N, C, L, func(lo, hi int) {
		n, c := lo/C, lo%C
		for r := lo; r < hi; r++ {
			k := cf[c]
			gOff := g.off + n*g.s[0] + c*g.s[1]
			hOff := h.off + n*h.s[0] + c*h.s[1]
			dOff := dx.off + n*dx.s[0] + c*dx.s[1]
			switch {
			case !training:
				for range L {
					dx.data[dOff] = k.a * g.data[gOff]
					dOff, gOff = dOff+dx.s[2], gOff+g.s[2]
				}
			case unit:
				gr, hr, dr := g.data[gOff:gOff+L], h.data[hOff:hOff+L], dx.data[dOff:dOff+L]
				for i := range dr {
					dr[i] = T(k.a*gr[i]) + T(k.k*hr[i]) + k.b
				}
			default:
				for range L {
					dx.data[dOff] = T(k.a*g.data[gOff]) + T(k.k*h.data[hOff]) + k.b
					dOff, gOff, hOff = dOff+dx.s[2], gOff+g.s[2], hOff+h.s[2]
				}
			}
			if c++; c == C {
				n, c = n+1, 0
			}
		}
	})
	return nil
}

// bnGradSums returns Σg and Σg·x̂ per channel, accumulated in float64.
func bnGradSums[T float](g, h bnView[T], N, C, L int) []bnSums {
	grid := newBNGrid(N, C, L)
	part := make([]bnSums, grid.splits*C)
	grid.run(func() bnTileFn {
		return func(s, c0, c1, n0, n1, l0, l1 int) {
			slot := part[s*C+c0 : s*C+c1]
			ln := l1 - l0
			for n := n0; n < n1; n++ {
				gb := g.off + n*g.s[0] + l0*g.s[2] + c0*g.s[1]
				hb := h.off + n*h.s[0] + l0*h.s[2] + c0*h.s[1]
				if ln == 1 {
					for i := range slot {
						v := float64(g.data[gb+i*g.s[1]])
						slot[i].g += v
						slot[i].gx += v * float64(h.data[hb+i*h.s[1]])
					}
					continue
				}
				for i := range slot {
					sg, sgx := bnRowDot(g.data, h.data, gb+i*g.s[1], hb+i*h.s[1], ln, g.s[2], h.s[2])
					slot[i].g += sg
					slot[i].gx += sgx
				}
			}
		}
	})
	for s := 1; s < grid.splits; s++ {
		for c := range C {
			part[c].g += part[s*C+c].g
			part[c].gx += part[s*C+c].gx
		}
	}
	return part[:C]
}

// bnRowDot returns Σg and Σg·h over n elements of g and h.
func bnRowDot[T float](g, h []T, gOff, hOff, n, gs, hs int) (sg, sgh float64) {
	if gs == 1 && hs == 1 {
		gr, hr := g[gOff:gOff+n], h[hOff:hOff+n]
		var a0, a1, b0, b1 float64
		i := 0
		for ; i+2 <= len(gr); i += 2 {
			v0, v1 := float64(gr[i]), float64(gr[i+1])
			a0 += v0
			a1 += v1
			b0 += v0 * float64(hr[i])
			b1 += v1 * float64(hr[i+1])
		}
		if i < len(gr) {
			v := float64(gr[i])
			a0 += v
			b0 += v * float64(hr[i])
		}
		return a0 + a1, b0 + b1
	}
	for i := range n {
		v := float64(g[gOff+i*gs])
		sg += v
		sgh += v * float64(h[hOff+i*hs])
	}
	return sg, sgh
}
