package cpu

import (
	"fmt"

	"github.com/nabla-go/nabla/device"
)

// The CPU Im2Col and Col2Im. Both split the work over the N*C image planes:
// a plane of the image owns a disjoint band of KH*KW rows of the column
// matrix, so planes can run on separate goroutines without locks. Inside a
// plane, each (kernel tap, output row) pair moves one run of OW elements;
// the part of the run that falls in the padding is computed once, and the
// rest is a plain copy (or add) when the rows are contiguous.

// Im2Col implements device.Backend.Im2Col.
func (c *host) Im2Col(dst, src device.View, p device.ConvGeometry) error {
	if err := checkConv("cpu: im2col", src, dst, p); err != nil {
		return err
	}
	switch dst.Buf.DType() {
	case device.Float32:
		return runIm2Col[float32](dst, src, p)
	case device.Float64:
		return runIm2Col[float64](dst, src, p)
	case device.Int64:
		return runIm2Col[int64](dst, src, p)
	}
	return unsupported("im2col", dst.Buf.DType())
}

// Col2Im implements device.Backend.Col2Im.
func (c *host) Col2Im(dst, src device.View, p device.ConvGeometry) error {
	if err := checkConv("cpu: col2im", dst, src, p); err != nil {
		return err
	}
	switch dst.Buf.DType() {
	case device.Float32:
		return runCol2Im[float32](dst, src, p)
	case device.Float64:
		return runCol2Im[float64](dst, src, p)
	case device.Int64:
		return runCol2Im[int64](dst, src, p)
	}
	return unsupported("col2im", dst.Buf.DType())
}

// convPlan holds the sizes and strides shared by Im2Col and Col2Im.
type convPlan struct {
	n, c, h, w     int // image shape
	oh, ow         int // output positions
	kh, kw         int // kernel
	sh, sw         int // stride
	ph, pw         int // padding
	dh, dw         int // dilation
	img            [4]int
	imgOff         int
	col            [3]int
	colOff         int
	owLo, owHi     []int // per kernel column j: the valid window columns [lo, hi)
	planeWork      int
	contiguousRows bool // image rows and column rows both have unit stride
}

func newConvPlan(img, col device.Layout, p device.ConvGeometry) *convPlan {
	cp := &convPlan{
		n: img.Shape[0], c: img.Shape[1], h: img.Shape[2], w: img.Shape[3],
		kh: p.KernelH, kw: p.KernelW, sh: p.StrideH, sw: p.StrideW, ph: p.PadH, pw: p.PadW,
		imgOff: img.Offset, colOff: col.Offset,
	}
	cp.dh, cp.dw = p.Dilation()
	cp.oh, cp.ow = p.OutSize(cp.h, cp.w)
	copy(cp.img[:], img.Strides)
	copy(cp.col[:], col.Strides)
	cp.owLo, cp.owHi = make([]int, cp.kw), make([]int, cp.kw)
	for j := range cp.kw {
		cp.owLo[j], cp.owHi[j] = validRange(j*cp.dw-cp.pw, cp.sw, cp.w, cp.ow)
	}
	cp.planeWork = cp.kh * cp.kw * cp.oh * cp.ow
	cp.contiguousRows = cp.img[3] == 1 && cp.col[2] == 1
	return cp
}

// validRange returns the window positions [lo, hi) of 0..n-1 whose tap
// pos*stride + off lands inside 0..size-1.
func validRange(off, stride, size, n int) (lo, hi int) {
	if off < 0 {
		lo = (-off + stride - 1) / stride
	}
	if last := size - off - 1; last >= 0 {
		hi = last/stride + 1
	}
	lo = min(lo, n)
	hi = min(max(hi, lo), n)
	return lo, hi
}

// forPlanes runs fn for every image plane (n, c), spread over goroutines.
func (cp *convPlan) forPlanes(fn func(n, c int)) {
	planes := cp.n * cp.c
	if planes == 0 || cp.planeWork == 0 {
		return
	}
	parallelFor(planes, max(1, grainElems/cp.planeWork), func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			fn(pl/cp.c, pl%cp.c)
		}
	})
}

// forRuns calls fn for every (kernel tap, output row) of plane (n, c) with
// the column offset of the run's first element, the image offset of the
// input row it reads (-1 when the row lies in the padding), and the tap's
// kernel column j.
func (cp *convPlan) forRuns(n, c int, fn func(colPos, imgRow, j int)) {
	imgBase := cp.imgOff + n*cp.img[0] + c*cp.img[1]
	for i := range cp.kh {
		for j := range cp.kw {
			r := (c*cp.kh+i)*cp.kw + j
			rowBase := cp.colOff + n*cp.col[0] + r*cp.col[1]
			for oh := range cp.oh {
				ih := oh*cp.sh - cp.ph + i*cp.dh
				imgRow := -1
				if ih >= 0 && ih < cp.h {
					imgRow = imgBase + ih*cp.img[2]
				}
				fn(rowBase+oh*cp.ow*cp.col[2], imgRow, j)
			}
		}
	}
}

func runIm2Col[T number](dst, src device.View, p device.ConvGeometry) error {
	d, err := slice[T]("im2col", dst)
	if err != nil {
		return err
	}
	s, err := slice[T]("im2col", src)
	if err != nil {
		return err
	}
	cp := newConvPlan(src.Layout, dst.Layout, p)
	cp.forPlanes(func(n, c int) { im2colPlane(cp, d, s, n, c) })
	return nil
}

// im2colPlane writes the KH*KW rows of the column matrix that plane (n, c)
// of the image owns.
func im2colPlane[T number](cp *convPlan, d, s []T, n, c int) {
	if cp.shiftable() {
		im2colShifted(cp, d, s, n, c)
		return
	}
	ds, ss := cp.col[2], cp.img[3]
	cp.forRuns(n, c, func(colPos, imgRow, j int) {
		if imgRow < 0 {
			for ow := range cp.ow {
				d[colPos+ow*ds] = 0
			}
			return
		}
		lo, hi := cp.owLo[j], cp.owHi[j]
		off := j*cp.dw - cp.pw // input column of window 0's tap
		if cp.contiguousRows {
			out := d[colPos : colPos+cp.ow]
			clear(out[:lo])
			clear(out[hi:])
			if cp.sw == 1 {
				copy(out[lo:hi], s[imgRow+lo+off:imgRow+hi+off])
				return
			}
			iw := imgRow + lo*cp.sw + off
			for ow := lo; ow < hi; ow++ {
				out[ow] = s[iw]
				iw += cp.sw
			}
			return
		}
		for ow := range cp.ow {
			var v T
			if ow >= lo && ow < hi {
				v = s[imgRow+(ow*cp.sw+off)*ss]
			}
			d[colPos+ow*ds] = v
		}
	})
}

// shiftable reports whether every kernel tap's block of the column matrix
// is the image plane shifted by a fixed offset, with zeros where the
// window reaches into the padding: unit strides and dilation, output rows
// as wide as the input's, and rows that follow one another without gaps
// in both. That is the "same" 3×3 convolution of most CNNs, for which
// im2colShifted copies a tap's block in one run instead of a run per
// output row: with small images the rows are short, and the per-run
// overhead, not the copying, was the cost.
func (cp *convPlan) shiftable() bool {
	return cp.contiguousRows && cp.sh == 1 && cp.sw == 1 && cp.dh == 1 && cp.dw == 1 &&
		cp.ow == cp.w && cp.img[2] == cp.w
}

// im2colShifted is Im2Col of plane (n, c) for a shiftable plan. Output
// position q = oh*OW + ow of tap (i, j) reads image element q + shift, with
// shift = (i-PH)*W + (j-PW); one copy covers every valid position from the
// first to the last, and the positions in between whose window column
// falls in the padding (the copy read a neighbouring row there) are then
// zeroed.
func im2colShifted[T number](cp *convPlan, d, s []T, n, c int) {
	imgBase := cp.imgOff + n*cp.img[0] + c*cp.img[1]
	size := cp.oh * cp.ow
	for i := range cp.kh {
		ohLo, ohHi := validRange(i-cp.ph, 1, cp.h, cp.oh)
		for j := range cp.kw {
			r := (c*cp.kh+i)*cp.kw + j
			out := d[cp.colOff+n*cp.col[0]+r*cp.col[1]:][:size]
			lo, hi := cp.owLo[j], cp.owHi[j]
			if ohLo >= ohHi || lo >= hi {
				clear(out)
				continue
			}
			shift := imgBase + (i-cp.ph)*cp.w + j - cp.pw
			first, last := ohLo*cp.ow+lo, (ohHi-1)*cp.ow+hi
			clear(out[:first])
			copy(out[first:last], s[shift+first:shift+last])
			clear(out[last:])
			if lo == 0 && hi == cp.ow {
				continue
			}
			// A padding of a column or two: plain stores, since a call to
			// clear per row cost more than the copy of the whole block.
			for oh := ohLo; oh < ohHi; oh++ {
				row := out[oh*cp.ow : (oh+1)*cp.ow]
				for k := range row[:lo] {
					row[k] = 0
				}
				for k := hi; k < len(row); k++ {
					row[k] = 0
				}
			}
		}
	}
}

func runCol2Im[T number](dst, src device.View, p device.ConvGeometry) error {
	d, err := slice[T]("col2im", dst)
	if err != nil {
		return err
	}
	s, err := slice[T]("col2im", src)
	if err != nil {
		return err
	}
	cp := newConvPlan(dst.Layout, src.Layout, p)
	cp.forPlanes(func(n, c int) { col2imPlane(cp, d, s, n, c, false) })
	return nil
}

// col2imPlane overwrites plane (n, c) of the image with the sum of the
// entries of the column matrix's rows that the plane owns. clobber allows
// it to change entries of s that the sum does not use.
func col2imPlane[T number](cp *convPlan, d, s []T, n, c int, clobber bool) {
	if cp.shiftable() {
		col2imShifted(cp, d, s, n, c, clobber)
		return
	}
	is, cs := cp.img[3], cp.col[2]
	// Zero the plane, then add every run into it.
	base := cp.imgOff + n*cp.img[0] + c*cp.img[1]
	for ih := range cp.h {
		row := base + ih*cp.img[2]
		if is == 1 {
			clear(d[row : row+cp.w])
			continue
		}
		for iw := range cp.w {
			d[row+iw*is] = 0
		}
	}
	cp.forRuns(n, c, func(colPos, imgRow, j int) {
		if imgRow < 0 {
			return
		}
		lo, hi := cp.owLo[j], cp.owHi[j]
		off := j*cp.dw - cp.pw
		if cp.contiguousRows && cp.sw == 1 {
			out := d[imgRow+lo+off : imgRow+hi+off]
			in := s[colPos+lo : colPos+hi]
			for k, v := range in {
				out[k] += v
			}
			return
		}
		iw := lo*cp.sw + off
		for ow := lo; ow < hi; ow++ {
			d[imgRow+iw*is] += s[colPos+ow*cs]
			iw += cp.sw
		}
	})
}

// col2imShifted is Col2Im of plane (n, c) for a shiftable plan: tap
// (i, j)'s row of the column matrix is added into the plane shifted by
// (i-PH)*W + j-PW, in the order of the general loop (taps, then rows), so
// sums round alike. With clobber set the caller allows s to be changed:
// the entries of positions whose window column lies in the padding are
// zeroed, and the rest of the tap's block is added in one run (those
// zeros land on the neighbouring row and change nothing, the plane's sums
// being never -0); otherwise it is one run per output row.
func col2imShifted[T number](cp *convPlan, d, s []T, n, c int, clobber bool) {
	base := cp.imgOff + n*cp.img[0] + c*cp.img[1]
	plane := d[base : base+cp.h*cp.w]
	clear(plane)
	for i := range cp.kh {
		ohLo, ohHi := validRange(i-cp.ph, 1, cp.h, cp.oh)
		for j := range cp.kw {
			r := (c*cp.kh+i)*cp.kw + j
			row := s[cp.colOff+n*cp.col[0]+r*cp.col[1]:][:cp.oh*cp.ow]
			lo, hi := cp.owLo[j], cp.owHi[j]
			if lo >= hi || ohLo >= ohHi {
				continue
			}
			shift := (i-cp.ph)*cp.w + j - cp.pw
			if clobber {
				first, last := ohLo*cp.ow+lo, (ohHi-1)*cp.ow+hi
				if lo > 0 || hi < cp.ow {
					for oh := ohLo; oh < ohHi; oh++ {
						rr := row[oh*cp.ow : (oh+1)*cp.ow]
						for k := range rr[:lo] {
							rr[k] = 0
						}
						for k := hi; k < len(rr); k++ {
							rr[k] = 0
						}
					}
				}
				addInto(plane[first+shift:last+shift], row[first:last])
				continue
			}
			for oh := ohLo; oh < ohHi; oh++ {
				q := oh*cp.ow + lo
				addInto(plane[q+shift:q+shift+hi-lo], row[q:q+hi-lo])
			}
		}
	}
}

// addInto sets dst[i] += src[i]; float32 and float64 through the vector
// axpy with a factor of 1, which rounds x + y exactly as the addition
// does.
func addInto[T number](dst, src []T) {
	switch d := any(dst).(type) {
	case []float32:
		gemmAxpy(d, 1, any(src).([]float32))
	case []float64:
		gemmAxpy(d, 1, any(src).([]float64))
	default:
		src = src[:len(dst)]
		for k, v := range src {
			dst[k] += v
		}
	}
}

// checkConv validates the operands of Im2Col and Col2Im: img is the
// [N, C, H, W] side, col the [N, C*KH*KW, OH*OW] side.
func checkConv(op string, img, col device.View, g device.ConvGeometry) error {
	if err := g.Validate(); err != nil {
		return fmt.Errorf("device: %s: %v", op, err)
	}
	if img.Rank() != 4 || col.Rank() != 3 {
		return fmt.Errorf("device: %s: wants a 4-D image and a 3-D column view, got shapes %v and %v", op, img.Shape, col.Shape)
	}
	if img.Buf.DType() != col.Buf.DType() {
		return fmt.Errorf("device: %s: dtypes %v and %v differ", op, img.Buf.DType(), col.Buf.DType())
	}
	want := g.ColumnShape(img.Shape[0], img.Shape[1], img.Shape[2], img.Shape[3])
	oh, ow := g.OutSize(img.Shape[2], img.Shape[3])
	if oh < 1 || ow < 1 {
		return fmt.Errorf("device: %s: a %dx%d kernel (dilation %dx%d) does not fit a %dx%d input padded by %dx%d",
			op, g.KernelH, g.KernelW, max(g.DilationH, 1), max(g.DilationW, 1), img.Shape[2], img.Shape[3], g.PadH, g.PadW)
	}
	for i := range want {
		if col.Shape[i] != want[i] {
			return fmt.Errorf("device: %s: column shape %v should be %v for image shape %v", op, col.Shape, want, img.Shape)
		}
	}
	return nil
}
