package cpu

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/backend"
)

// The CPU Convolver. A convolution is a matrix product per image, with the
// image's column matrix cols [K, L] (K = C·KH·KW taps, L = OH·OW window
// positions) as one operand:
//
//	forward   y_n [O, L]   = w [O, K] · cols_n + bias
//	input     dcols [K, L] = wᵀ · dy_n, then Col2Im into dx_n
//	weight    dw [O, K]    = Σ over n of dy_n · cols_nᵀ
//
// Each goroutine takes whole images and unfolds one image at a time into a
// scratch matrix of its own, which stays in the core's L2 cache while the
// product reads it; the column matrix of the batch, which Im2Col would
// write to memory and the product read back (K·N·L elements, 14 MB for the
// second layer of the course's CNN at batch 64, 115 MB at 512), never
// exists. The backward pass unfolds the image again instead of keeping the
// forward's columns: copying from cache is cheaper than storing them.
//
// The weight gradient is a sum over the batch. To keep its rounding
// independent of the thread count and of which goroutine ran first, the
// images are cut into a fixed number of groups (a function of the shapes
// alone); each group sums its images in order into its own partial
// gradient, and the partials are added in group order at the end.

// Conv2d implements device.Convolver.Conv2d.
func (c *host) Conv2d(y, x, w, bias device.View, g device.ConvGeometry) error {
	const op = "cpu: conv2d"
	if x.Buf == nil || w.Buf == nil {
		return fmt.Errorf("device: %s: input and weight are required", op)
	}
	if err := backend.CheckConv2d(op, y, x, w, bias, device.View{}, device.View{}, device.View{}, g); err != nil {
		return err
	}
	switch y.Buf.DType() {
	case device.Float32:
		return runConv2d[float32](y, x, w, bias, g, gemmSerialF32)
	case device.Float64:
		return runConv2d[float64](y, x, w, bias, g, gemmSerialF64)
	}
	return unsupported("conv2d", y.Buf.DType())
}

// Conv2dBackward implements device.Convolver.Conv2dBackward.
func (c *host) Conv2dBackward(dx, dw, db, dy, x, w device.View, g device.ConvGeometry) error {
	const op = "cpu: conv2d backward"
	if dw.Buf != nil && x.Buf == nil {
		return fmt.Errorf("device: %s: the weight gradient needs the input", op)
	}
	if dx.Buf != nil && w.Buf == nil {
		return fmt.Errorf("device: %s: the input gradient needs the weight", op)
	}
	if err := backend.CheckConv2d(op, dy, x, w, device.View{}, dx, dw, db, g); err != nil {
		return err
	}
	switch dy.Buf.DType() {
	case device.Float32:
		return runConv2dBackward[float32](dx, dw, db, dy, x, w, g, gemmSerialF32)
	case device.Float64:
		return runConv2dBackward[float64](dx, dw, db, dy, x, w, g, gemmSerialF64)
	}
	return unsupported("conv2d backward", dy.Buf.DType())
}

// convShape holds the sizes of one convolution.
type convShape struct {
	n, c, h, w int // input
	o, oh, ow  int // output
	kh, kw     int
	k, l       int // taps per output (C·KH·KW) and positions per image (OH·OW)
}

func newConvShape(out device.View, img []int, g device.ConvGeometry) convShape {
	s := convShape{n: out.Shape[0], o: out.Shape[1], oh: out.Shape[2], ow: out.Shape[3], kh: g.KernelH, kw: g.KernelW}
	if img != nil {
		s.c, s.h, s.w = img[1], img[2], img[3]
	}
	s.k, s.l = s.c*s.kh*s.kw, s.oh*s.ow
	return s
}

// planeMatrix describes image n of a 4-D view [N, R, A, B] as a matrix of
// R rows and A·B columns: element (r, q) is at n*Strides[0] + r*rs + q
// from the view's offset. ok is false when the last two dimensions do not
// merge into one of unit stride.
func planeMatrix(v device.View) (rs int, ok bool) {
	st, ok := mergedStride(v.Shape[2:], v.Strides[2:])
	return v.Strides[1], ok && (st == 1 || v.Shape[2]*v.Shape[3] <= 1)
}

// weightMatrix returns w [O, C, KH, KW] as an [O, K] matrix with element
// (o, k) at mat[o*rs + k*cs]: the view's own memory when its taps (c, i, j)
// merge into one dimension, else a row-major copy.
func weightMatrix[T float](ws []T, w device.View, k int) (mat []T, rs, cs int) {
	s, sh := w.Strides, w.Shape
	if st, ok := mergedStride(sh[1:], s[1:]); ok {
		return ws[w.Offset:], s[0], st
	}
	mat = make([]T, sh[0]*k)
	p := 0
	for o := range sh[0] {
		for c := range sh[1] {
			for i := range sh[2] {
				for j := range sh[3] {
					mat[p] = ws[w.Offset+o*s[0]+c*s[1]+i*s[2]+j*s[3]]
					p++
				}
			}
		}
	}
	return mat, k, 1
}

// mergedStride reports whether dimensions of the given sizes and strides
// address their elements, in row-major order, as one dimension of stride
// st does. Dimensions of size 1 impose nothing.
func mergedStride(sizes, strides []int) (st int, ok bool) {
	st, want := 1, -1 // want: the stride the next outer dimension must have
	for d := len(sizes) - 1; d >= 0; d-- {
		if sizes[d] == 1 {
			continue
		}
		if want < 0 {
			st = strides[d]
		} else if strides[d] != want {
			return 0, false
		}
		want = strides[d] * sizes[d]
	}
	return st, true
}

// colLayout is the layout of the per-goroutine column scratch as convPlan
// sees it: every image's [K, L] matrix at the start of the scratch.
func colLayout(s convShape) device.Layout {
	return device.Layout{Shape: []int{s.n, s.k, s.l}, Strides: []int{0, s.l, 1}}
}

// identityCols reports whether an image's column matrix is the image
// itself, read as [C, H·W]: a 1×1 kernel with unit stride and no padding
// over planes whose rows follow one another.
func identityCols(s convShape, g device.ConvGeometry, x device.View) bool {
	_, ok := planeMatrix(x)
	return ok && s.kh == 1 && s.kw == 1 && g.StrideH == 1 && g.StrideW == 1 && g.PadH == 0 && g.PadW == 0
}

// convScratch is a goroutine's working memory for one call, recycled
// through convScratchPool.
type convScratch[T float] struct {
	cols, dcols, tmp, out []T
}

// imageCols returns the column matrix [K, L] of image n of x and its row
// stride: the image itself when its columns are the identity (see
// identityCols), else the image unfolded into sc.cols.
func (sc *convScratch[T]) imageCols(s convShape, cp *convPlan, ident bool, xs []T, x device.View, xrs, n int) ([]T, int) {
	if ident {
		return xs[x.Offset+n*x.Strides[0]:], xrs
	}
	sc.cols = gemmGrow(sc.cols, s.k*s.l)
	for c := range s.c {
		im2colPlane(cp, sc.cols, xs, n, c)
	}
	return sc.cols, s.l
}

var convScratchF32, convScratchF64 sync.Pool

func getConvScratch[T float]() (*convScratch[T], *sync.Pool) {
	pool := &convScratchF64
	var z T
	if _, ok := any(z).(float32); ok {
		pool = &convScratchF32
	}
	s, _ := pool.Get().(*convScratch[T])
	if s == nil {
		s = new(convScratch[T])
	}
	return s, pool
}

// convFor runs fn over [0, n) in chunks claimed by up to GOMAXPROCS
// goroutines (see gemmFor), each chunk with subnormals flushed as the
// other kernels run (see runKernel), and gives each goroutine's chunks
// the same scratch.
func convFor[T float](n, grain int, fn func(sc *convScratch[T], lo, hi int)) {
	gemmFor(n, grain, runtime.GOMAXPROCS(0), func(lo, hi int) {
		sc, pool := getConvScratch[T]()
		runKernel(func(lo, hi int) { fn(sc, lo, hi) }, lo, hi)
		pool.Put(sc)
	})
}

func runConv2d[T float](y, x, w, bias device.View, g device.ConvGeometry, gemm gemmFunc[T]) error {
	ys, err := slice[T]("conv2d", y)
	if err != nil {
		return err
	}
	xs, err := slice[T]("conv2d", x)
	if err != nil {
		return err
	}
	ws, err := slice[T]("conv2d", w)
	if err != nil {
		return err
	}
	var bs []T
	if bias.Buf != nil {
		if bs, err = slice[T]("conv2d", bias); err != nil {
			return err
		}
	}
	s := newConvShape(y, x.Shape, g)
	if s.n == 0 || s.o == 0 || s.l == 0 {
		return nil
	}
	wm, wrs, wcs := weightMatrix(ws, w, s.k)
	yrs, yFlat := planeMatrix(y)
	cp := newConvPlan(x.Layout, colLayout(s), g)
	ident := identityCols(s, g, x)
	xrs, _ := planeMatrix(x)
	convFor(s.n, 1, func(sc *convScratch[T], lo, hi int) {
		for n := lo; n < hi; n++ {
			// B: the image's columns [K, L].
			cols, crs := sc.imageCols(s, cp, ident, xs, x, xrs, n)
			// C: y_n [O, L], in place when its planes are flat.
			out, ors := ys[y.Offset+n*y.Strides[0]:], yrs
			if !yFlat {
				sc.out = gemmGrow(sc.out, s.o*s.l)
				out, ors = sc.out, s.l
			}
			if s.k == 0 {
				for o := range s.o {
					clear(out[o*ors : o*ors+s.l])
				}
			} else {
				gemm(s.o, s.l, s.k, wm, wrs, wcs, cols, crs, 1, out, ors, 1)
			}
			if bs != nil {
				for o := range s.o {
					b := bs[bias.Offset+o*bias.Strides[0]]
					row := out[o*ors : o*ors+s.l]
					for i := range row {
						row[i] += b
					}
				}
			}
			if !yFlat {
				yb := y.Offset + n*y.Strides[0]
				for o := range s.o {
					for oh := range s.oh {
						for ow := range s.ow {
							ys[yb+o*y.Strides[1]+oh*y.Strides[2]+ow*y.Strides[3]] = out[o*s.l+oh*s.ow+ow]
						}
					}
				}
			}
		}
	})
	return nil
}

// convGroupElems bounds the memory of the per-group partial weight
// gradients (elements in all); convMaxGroups is the most groups a batch
// is cut into, enough to balance a few cores.
const (
	convGroupElems = 1 << 22
	convMaxGroups  = 16
)

// convGroups returns how many groups of images the weight gradient sums
// over: a function of the shapes only, so that the rounding does not
// depend on the machine.
func convGroups(n, wElems int) int {
	return max(1, min(n, convMaxGroups, convGroupElems/max(wElems, 1)))
}

func runConv2dBackward[T float](dx, dw, db, dy, x, w device.View, g device.ConvGeometry, gemm gemmFunc[T]) error {
	dys, err := slice[T]("conv2d backward", dy)
	if err != nil {
		return err
	}
	var xs, ws, dxs, dws, dbs []T
	for _, p := range []struct {
		dst *[]T
		v   device.View
	}{{&xs, x}, {&ws, w}, {&dxs, dx}, {&dws, dw}, {&dbs, db}} {
		if p.v.Buf != nil {
			if *p.dst, err = slice[T]("conv2d backward", p.v); err != nil {
				return err
			}
		}
	}
	img := x.Shape
	if dx.Buf != nil {
		img = dx.Shape
	}
	wShape := w.Shape
	if dw.Buf != nil {
		wShape = dw.Shape
	}
	s := newConvShape(dy, img, g)
	if s.c == 0 && wShape != nil {
		s.c = wShape[1]
		s.k = s.c * s.kh * s.kw
	}
	wantX, wantW, wantB := dx.Buf != nil, dw.Buf != nil, db.Buf != nil
	var wm []T
	var wrs, wcs int
	if wantX {
		wm, wrs, wcs = weightMatrix(ws, w, s.k)
	}
	dyrs, dyFlat := planeMatrix(dy)
	var xcp, dxcp *convPlan
	var ident bool
	var xrs int
	if wantW {
		xcp = newConvPlan(x.Layout, colLayout(s), g)
		ident = identityCols(s, g, x)
		xrs, _ = planeMatrix(x)
	}
	if wantX {
		dxcp = newConvPlan(dx.Layout, colLayout(s), g)
	}
	groups := convGroups(s.n, s.o*s.k)
	var partW []T
	var partB []float64
	if wantW {
		partW = make([]T, groups*s.o*s.k)
	}
	if wantB {
		partB = make([]float64, groups*s.o)
	}
	if s.n > 0 && s.l > 0 {
		convFor(groups, 1, func(sc *convScratch[T], glo, ghi int) {
			for gi := glo; gi < ghi; gi++ {
				for n := gi * s.n / groups; n < (gi+1)*s.n/groups; n++ {
					// The image's output gradient dy_n [O, L].
					dyn, drs := dys[dy.Offset+n*dy.Strides[0]:], dyrs
					if !dyFlat {
						sc.tmp = gemmGrow(sc.tmp, s.o*s.l)
						dyb := dy.Offset + n*dy.Strides[0]
						for o := range s.o {
							for oh := range s.oh {
								for ow := range s.ow {
									sc.tmp[o*s.l+oh*s.ow+ow] = dys[dyb+o*dy.Strides[1]+oh*dy.Strides[2]+ow*dy.Strides[3]]
								}
							}
						}
						dyn, drs = sc.tmp, s.l
					}
					if wantB {
						pb := partB[gi*s.o : (gi+1)*s.o]
						for o := range s.o {
							pb[o] += sumFloat64(dyn[o*drs : o*drs+s.l])
						}
					}
					if wantW && s.k > 0 {
						cols, crs := sc.imageCols(s, xcp, ident, xs, x, xrs, n)
						// dw_n [O, K] = dy_n [O, L] · cols_nᵀ [L, K].
						pw := partW[gi*s.o*s.k : (gi+1)*s.o*s.k]
						if n == gi*s.n/groups {
							gemm(s.o, s.k, s.l, dyn, drs, 1, cols, 1, crs, pw, s.k, 1)
						} else {
							sc.out = gemmGrow(sc.out, s.o*s.k)
							gemm(s.o, s.k, s.l, dyn, drs, 1, cols, 1, crs, sc.out, s.k, 1)
							addInto(pw, sc.out)
						}
					}
					if wantX {
						// dcols [K, L] = wᵀ [K, O] · dy_n [O, L], folded into dx_n.
						sc.dcols = gemmGrow(sc.dcols, s.k*s.l)
						if s.o == 0 {
							clear(sc.dcols)
						} else if s.k > 0 {
							gemm(s.k, s.l, s.o, wm, wcs, wrs, dyn, drs, 1, sc.dcols, s.l, 1)
						}
						for c := range s.c {
							col2imPlane(dxcp, dxs, sc.dcols, n, c, true)
						}
					}
				}
			}
		})
	} else if wantX {
		// No window positions: every input gradient is 0.
		for n := range s.n {
			for c := range s.c {
				for h := range s.h {
					for wi := range s.w {
						dxs[dx.Offset+n*dx.Strides[0]+c*dx.Strides[1]+h*dx.Strides[2]+wi*dx.Strides[3]] = 0
					}
				}
			}
		}
	}
	if wantW {
		// dw = Σ over groups, in group order.
		sum := partW[:s.o*s.k]
		for gi := 1; gi < groups; gi++ {
			addInto(sum, partW[gi*s.o*s.k:(gi+1)*s.o*s.k])
		}
		p := 0
		for o := range s.o {
			for c := range s.c {
				for i := range s.kh {
					for j := range s.kw {
						dws[dw.Offset+o*dw.Strides[0]+c*dw.Strides[1]+i*dw.Strides[2]+j*dw.Strides[3]] = sum[p]
						p++
					}
				}
			}
		}
	}
	if wantB {
		for o := range s.o {
			var t float64
			for gi := range groups {
				t += partB[gi*s.o+o]
			}
			dbs[db.Offset+o*db.Strides[0]] = T(t)
		}
	}
	return nil
}
