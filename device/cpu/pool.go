package cpu

import (
	"math"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/backend"
)

// The CPU Pool2d and Pool2dBackward. Work is split over the N*C planes:
// a plane of the input (or of its gradient) is touched only by the
// windows of the same plane of the output, so planes run on separate
// goroutines without locks, and the backward pass scatters within its
// plane sequentially. The valid kernel taps of every window row and column
// are computed once per call, so the inner loops never test for padding;
// when the input rows are contiguous and undilated they run over a plain
// slice.

// Pool2d implements device.Backend.Pool2d.
func (c *host) Pool2d(op device.PoolOp, dst, idx, src device.View, g device.ConvGeometry) error {
	if err := backend.CheckPool("device: cpu: pool2d", op, src, dst, idx, g); err != nil {
		return err
	}
	switch src.Buf.DType() {
	case device.Float32:
		return runPool2d[float32](op, dst, idx, src, g)
	case device.Float64:
		return runPool2d[float64](op, dst, idx, src, g)
	}
	return unsupported("pool2d", src.Buf.DType())
}

// Pool2dBackward implements device.Backend.Pool2dBackward.
func (c *host) Pool2dBackward(op device.PoolOp, dx, dy, idx device.View, g device.ConvGeometry) error {
	if err := backend.CheckPool("device: cpu: pool2d backward", op, dx, dy, idx, g); err != nil {
		return err
	}
	switch dx.Buf.DType() {
	case device.Float32:
		return runPool2dBackward[float32](op, dx, dy, idx, g)
	case device.Float64:
		return runPool2dBackward[float64](op, dx, dy, idx, g)
	}
	return unsupported("pool2d backward", dx.Buf.DType())
}

// poolPlan holds the sizes, strides and valid tap ranges of one call.
type poolPlan struct {
	n, c, h, w int // input shape
	oh, ow     int // output positions
	kh, kw     int
	sh, sw     int
	ph, pw     int
	dh, dw     int
	x          [4]int // input strides
	xOff       int
	y          [4]int // output strides
	yOff       int
	ix         [4]int // index strides
	iOff       int
	iLo, iHi   []int // per output row: the valid kernel rows [lo, hi)
	jLo, jHi   []int // per output column: the valid kernel columns [lo, hi)
	planeWork  int
	rowSlice   bool // input rows contiguous and undilated: taps of a row form a slice
}

func newPoolPlan(img, out, idx device.View, g device.ConvGeometry) *poolPlan {
	p := &poolPlan{
		n: img.Shape[0], c: img.Shape[1], h: img.Shape[2], w: img.Shape[3],
		kh: g.KernelH, kw: g.KernelW, sh: g.StrideH, sw: g.StrideW, ph: g.PadH, pw: g.PadW,
		xOff: img.Offset, yOff: out.Offset,
	}
	p.dh, p.dw = g.Dilation()
	p.oh, p.ow = g.OutSize(p.h, p.w)
	copy(p.x[:], img.Strides)
	copy(p.y[:], out.Strides)
	if idx.Buf != nil && len(idx.Strides) == 4 {
		copy(p.ix[:], idx.Strides)
		p.iOff = idx.Offset
	}
	p.iLo, p.iHi = make([]int, p.oh), make([]int, p.oh)
	for o := range p.oh {
		p.iLo[o], p.iHi[o] = validRange(o*p.sh-p.ph, p.dh, p.h, p.kh)
	}
	p.jLo, p.jHi = make([]int, p.ow), make([]int, p.ow)
	for o := range p.ow {
		p.jLo[o], p.jHi[o] = validRange(o*p.sw-p.pw, p.dw, p.w, p.kw)
	}
	p.planeWork = p.oh * p.ow * p.kh * p.kw
	p.rowSlice = p.x[3] == 1 && p.dw == 1
	return p
}

// forPlanes runs fn for every plane (n, c), spread over goroutines.
func (p *poolPlan) forPlanes(fn func(n, c int)) {
	planes := p.n * p.c
	if planes == 0 || p.planeWork == 0 {
		return
	}
	parallelFor(planes, max(1, grainElems/p.planeWork), func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			fn(pl/p.c, pl%p.c)
		}
	})
}

func runPool2d[T float](op device.PoolOp, dst, idx, src device.View, g device.ConvGeometry) error {
	d, err := slice[T]("pool2d", dst)
	if err != nil {
		return err
	}
	s, err := slice[T]("pool2d", src)
	if err != nil {
		return err
	}
	var ix []int64
	if op == device.MaxPool {
		if ix, err = slice[int64]("pool2d", idx); err != nil {
			return err
		}
	}
	p := newPoolPlan(src, dst, idx, g)
	if op == device.MaxPool && p.isPair() {
		maxPool2x2(p, d, ix, s)
		return nil
	}
	area := T(p.kh * p.kw)
	negInf := T(math.Inf(-1))
	p.forPlanes(func(n, c int) {
		xb := p.xOff + n*p.x[0] + c*p.x[1]
		yb := p.yOff + n*p.y[0] + c*p.y[1]
		ib := p.iOff + n*p.ix[0] + c*p.ix[1]
		for oh := range p.oh {
			ilo, ihi := p.iLo[oh], p.iHi[oh]
			ih0 := oh*p.sh - p.ph
			yr, ir := yb+oh*p.y[2], ib+oh*p.ix[2]
			for ow := range p.ow {
				jlo, jhi := p.jLo[ow], p.jHi[ow]
				iw0 := ow*p.sw - p.pw
				if op == device.AvgPool {
					var sum T
					for i := ilo; i < ihi; i++ {
						row := xb + (ih0+i*p.dh)*p.x[2]
						if p.rowSlice {
							for _, v := range s[row+iw0+jlo : row+iw0+jhi] {
								sum += v
							}
							continue
						}
						for j := jlo; j < jhi; j++ {
							sum += s[row+(iw0+j*p.dw)*p.x[3]]
						}
					}
					d[yr+ow*p.y[3]] = sum / area
					continue
				}
				best, at := negInf, -1
				if ilo < ihi && jlo < jhi {
					at = (ih0+ilo*p.dh)*p.w + iw0 + jlo*p.dw
				}
				for i := ilo; i < ihi; i++ {
					ih := ih0 + i*p.dh
					row := xb + ih*p.x[2]
					if p.rowSlice {
						for k, v := range s[row+iw0+jlo : row+iw0+jhi] {
							if v > best || (v != v && best == best) {
								best, at = v, ih*p.w+iw0+jlo+k
							}
						}
						continue
					}
					for j := jlo; j < jhi; j++ {
						iw := iw0 + j*p.dw
						if v := s[row+iw*p.x[3]]; v > best || (v != v && best == best) {
							best, at = v, ih*p.w+iw
						}
					}
				}
				d[yr+ow*p.y[3]] = best
				ix[ir+ow*p.ix[3]] = int64(at)
			}
		}
	})
	return nil
}

// isPair reports whether the windows are 2×2 with stride 2, unpadded and
// undilated, over contiguous input rows: the pooling of nearly every CNN,
// which maxPool2x2 handles without branches.
func (p *poolPlan) isPair() bool {
	return p.kh == 2 && p.kw == 2 && p.sh == 2 && p.sw == 2 && p.ph == 0 && p.pw == 0 &&
		p.dh == 1 && p.dw == 1 && p.x[3] == 1
}

// maxPool2x2 is max pooling over the 2×2, stride-2 windows of an isPair
// plan. On real data which of a window's four values is largest is close
// to random, so the general loop's compare-and-branch mispredicts about
// once a window; here the winner's position is built from comparison bits
// with no branch, and the value is read back from it. Each row's pair
// picks its winner, then the two winners meet: the later value wins only
// when the earlier is a number and the later is not at most it (larger,
// or NaN), which keeps the general loop's choice, the first maximum in
// row-major order or the first NaN.
func maxPool2x2[T float](p *poolPlan, d []T, ix []int64, s []T) {
	p.forPlanes(func(n, c int) { maxPool2x2Plane(p, d, ix, s, n, c) })
}

// maxPool2x2Plane pools plane (n, c) for maxPool2x2. It is a function of
// its own, not part of the closure, so that the compiler inlines b2i in it.
func maxPool2x2Plane[T float](p *poolPlan, d []T, ix []int64, s []T, n, c int) {
	xb := p.xOff + n*p.x[0] + c*p.x[1]
	yb := p.yOff + n*p.y[0] + c*p.y[1]
	ib := p.iOff + n*p.ix[0] + c*p.ix[1]
	for oh := range p.oh {
		ih := 2 * oh
		r0 := s[xb+ih*p.x[2]:][:2*p.ow]
		r1 := s[xb+(ih+1)*p.x[2]:][:2*p.ow]
		rows := [2][]T{r0, r1}
		yr, ir := yb+oh*p.y[2], ib+oh*p.ix[2]
		start := 0
		if p.y[3] == 1 && p.ix[3] == 1 {
			start = maxPool2x2Row(d[yr:yr+p.ow], ix[ir:ir+p.ow], r0, r1, ih*p.w, p.w)
		}
		for ow := start; ow < p.ow; ow++ {
			j := 2 * ow
			a, b, e, f := r0[j], r0[j+1], r1[j], r1[j+1]
			k0 := b2i(a == a) &^ b2i(b <= a)
			k1 := b2i(e == e) &^ b2i(f <= e)
			v0, v1 := r0[j+k0], r1[j+k1]
			t := b2i(v0 == v0) &^ b2i(v1 <= v0)
			k := k0 ^ ((k0 ^ k1) & -t)
			d[yr+ow*p.y[3]] = rows[t&1][j+k]
			ix[ir+ow*p.ix[3]] = int64((ih+t)*p.w + j + k)
		}
	}
}

// b2i is 1 for true and 0 for false; inlined, it compiles to a flag move
// rather than a branch.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func runPool2dBackward[T float](op device.PoolOp, dx, dy, idx device.View, g device.ConvGeometry) error {
	d, err := slice[T]("pool2d backward", dx)
	if err != nil {
		return err
	}
	s, err := slice[T]("pool2d backward", dy)
	if err != nil {
		return err
	}
	var ix []int64
	if op == device.MaxPool {
		if ix, err = slice[int64]("pool2d backward", idx); err != nil {
			return err
		}
	}
	p := newPoolPlan(dx, dy, idx, g)
	scale := T(1 / float64(p.kh*p.kw))
	plane := int64(p.h * p.w)
	pair := op == device.MaxPool && p.isPair() && p.x[2] == p.w && p.y[3] == 1 && p.ix[3] == 1
	p.forPlanes(func(n, c int) {
		if pair && maxPool2x2BackwardPlane(p, d, s, ix, n, c) {
			return
		}
		xb := p.xOff + n*p.x[0] + c*p.x[1]
		yb := p.yOff + n*p.y[0] + c*p.y[1]
		ib := p.iOff + n*p.ix[0] + c*p.ix[1]
		for ih := range p.h {
			row := xb + ih*p.x[2]
			if p.x[3] == 1 {
				clear(d[row : row+p.w])
				continue
			}
			for iw := range p.w {
				d[row+iw*p.x[3]] = 0
			}
		}
		// A contiguous plane is indexed by the plane offset directly, with
		// no division to split it into a row and a column.
		flat := p.x[3] == 1 && p.x[2] == p.w
		for oh := range p.oh {
			yr, ir := yb+oh*p.y[2], ib+oh*p.ix[2]
			if op == device.MaxPool && flat {
				plane := d[xb : xb+p.h*p.w]
				for ow := range p.ow {
					if k := ix[ir+ow*p.ix[3]]; uint64(k) < uint64(len(plane)) {
						plane[k] += s[yr+ow*p.y[3]]
					}
				}
				continue
			}
			if op == device.MaxPool {
				for ow := range p.ow {
					k := ix[ir+ow*p.ix[3]]
					if k < 0 || k >= plane {
						continue
					}
					ih, iw := int(k)/p.w, int(k)%p.w
					d[xb+ih*p.x[2]+iw*p.x[3]] += s[yr+ow*p.y[3]]
				}
				continue
			}
			ilo, ihi := p.iLo[oh], p.iHi[oh]
			ih0 := oh*p.sh - p.ph
			for ow := range p.ow {
				v := s[yr+ow*p.y[3]]
				jlo, jhi := p.jLo[ow], p.jHi[ow]
				iw0 := ow*p.sw - p.pw
				for i := ilo; i < ihi; i++ {
					row := xb + (ih0+i*p.dh)*p.x[2]
					if p.rowSlice {
						out := d[row+iw0+jlo : row+iw0+jhi]
						for k := range out {
							out[k] += v
						}
						continue
					}
					for j := jlo; j < jhi; j++ {
						d[row+(iw0+j*p.dw)*p.x[3]] += v
					}
				}
			}
		}
		if op == device.AvgPool {
			// Scale the summed gradients once: (Σ dy)·(1/(KH·KW)).
			for ih := range p.h {
				row := xb + ih*p.x[2]
				for iw := range p.w {
					d[row+iw*p.x[3]] *= scale
				}
			}
		}
	})
	return nil
}

// maxPool2x2BackwardPlane is Pool2dBackward of plane (n, c) for MaxPool
// over an isPair plan with a contiguous gradient plane and contiguous rows
// of dy and idx: the windows tile the plane, so the vector kernel writes
// each window's four gradients at once (g where the index points, 0
// elsewhere) instead of zeroing the plane and scattering into it. It
// reports false, having written part of the plane, when the kernel does
// not apply or some index lies outside its window; the caller then runs
// the general loop, which overwrites the plane.
func maxPool2x2BackwardPlane[T float](p *poolPlan, d, s []T, ix []int64, n, c int) bool {
	xb := p.xOff + n*p.x[0] + c*p.x[1]
	yb := p.yOff + n*p.y[0] + c*p.y[1]
	ib := p.iOff + n*p.ix[0] + c*p.ix[1]
	w := p.w
	for oh := range p.oh {
		r0 := d[xb+2*oh*w : xb+(2*oh+1)*w]
		r1 := d[xb+(2*oh+1)*w : xb+(2*oh+2)*w]
		yr, ir := yb+oh*p.y[2], ib+oh*p.ix[2]
		if !maxPool2x2BackRow(r0, r1, s[yr:yr+p.ow], ix[ir:ir+p.ow], 2*oh*w, w) {
			return false
		}
		// A last column that no window covers.
		clear(r0[2*p.ow:])
		clear(r1[2*p.ow:])
	}
	// And a last row.
	clear(d[xb+2*p.oh*w : xb+p.h*w])
	return true
}
