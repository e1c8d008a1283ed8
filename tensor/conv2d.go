package tensor

import (
	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/backend"
)

// Conv2d returns the 2-D convolution (PyTorch's cross-correlation,
// F.conv2d) of x [N, C, H, W] with the kernels w [O, C, KH, KW] under g
// (g.KernelH and g.KernelW must be KH and KW), plus the bias b [O] (nil
// for none): [N, O, OH, OW], OH and OW as g.OutSize gives them. Backends
// that implement device.Convolver compute it directly; on the others it
// is Im2Col followed by one matrix product per image.
func Conv2d(x, w, b *Tensor, g ConvGeometry) *Tensor {
	const op = "Conv2d"
	n, oc, oh, ow := checkConv2dArgs(op, x, w, b, g)
	if cv, ok := x.be.(device.Convolver); ok {
		y := x.emptyLike(op, x.DType(), []int{n, oc, oh, ow})
		var bv device.View
		if b != nil {
			bv = b.view()
		}
		check(op, cv.Conv2d(y.view(), x.view(), w.view(), bv, g))
		return y
	}
	// The columns of all images side by side, [K, N*L]; the product per
	// image through the [N, K, L] view writes y in its [N, O, L] order.
	k := w.layout.Numel() / max(oc, 1)
	cols := im2colFlat(x, g)
	w2 := w.Reshape(oc, k)
	y := w2.MatMul(cols.View(k, n, oh*ow).Transpose(0, 1)) // [N, O, L]
	if b != nil {
		y.AddInPlace(b.Reshape(oc, 1))
	}
	return y.Reshape(n, oc, oh, ow)
}

// conv2dBackward returns the gradients of Conv2d(x, w, b, g) with respect
// to x, w and b for the output gradient dy [N, O, OH, OW], each only when
// asked for (nil otherwise). x and w are needed for dx or dw; for db alone
// either may be nil.
func conv2dBackward(dy, x, w *Tensor, g ConvGeometry, wantX, wantW, wantB bool) (dx, dw, db *Tensor) {
	const op = "Conv2dBackward"
	// Each gradient takes its shape from its own tensor and reads the
	// other one: dx needs x and w, dw needs w and x.
	if (wantX || wantW) && (x == nil || w == nil) || x == nil && w == nil {
		fail(op, ErrArgument, "the input and weight gradients need both the input and the weight")
	}
	if dy.Dim() != 4 {
		fail(op, ErrShape, "needs an [N, O, OH, OW] gradient, got shape %v", dy.layout.Shape)
	}
	if !dy.DType().IsFloat() {
		fail(op, ErrDType, "needs a float32 or float64 gradient, got %v", dy.DType())
	}
	for _, t := range []*Tensor{x, w} {
		if t != nil {
			sameDevice(op, dy, t)
			sameDType(op, dy, t)
		}
	}
	if cv, ok := dy.be.(device.Convolver); ok {
		var xv, wv, dxv, dwv, dbv device.View
		if x != nil {
			xv = x.view()
		}
		if w != nil {
			wv = w.view()
		}
		if wantX {
			dx = dy.emptyLike(op, dy.DType(), x.layout.Shape)
			dxv = dx.view()
		}
		if wantW {
			dw = dy.emptyLike(op, dy.DType(), w.layout.Shape)
			dwv = dw.view()
		}
		if wantB {
			db = dy.emptyLike(op, dy.DType(), []int{dy.layout.Shape[1]})
			dbv = db.view()
		}
		if err := backend.CheckConv2d(op, dy.view(), xv, wv, device.View{}, dxv, dwv, dbv, g); err != nil {
			fail(op, ErrShape, "%v", err)
		}
		check(op, cv.Conv2dBackward(dxv, dwv, dbv, dy.view(), xv, wv, g))
		return dx, dw, db
	}
	// Composed: with the output gradient laid out as g2 [O, N*L] by one
	// transposing copy, dw = g2·colsᵀ, dx = col2imFlat(w2ᵀ·g2) and db = Σ
	// g2 over its columns, each one product (or sum) over the whole batch.
	s := dy.layout.Shape
	n, o, l := s[0], s[1], s[2]*s[3]
	g2 := dy.Reshape(n, o, l).Transpose(0, 1).Contiguous().View(o, n*l)
	if wantX {
		xs := x.layout.Shape
		dx = col2imFlat(w.Reshape(o, -1).T().MatMul(g2), n, xs[1], xs[2], xs[3], g)
	}
	if wantW {
		dw = g2.MatMul(im2colFlat(x, g).T()).Reshape(w.layout.Shape...)
	}
	if wantB {
		db = g2.Sum(1)
	}
	return dx, dw, db
}

// checkConv2dArgs checks the operands of Conv2d and returns the output
// shape.
func checkConv2dArgs(op string, x, w, b *Tensor, g ConvGeometry) (n, oc, oh, ow int) {
	if x.Dim() != 4 {
		fail(op, ErrShape, "input must be [N, C, H, W], got shape %v", x.layout.Shape)
	}
	if w.Dim() != 4 {
		fail(op, ErrShape, "weight must be [out, in, KH, KW], got shape %v", w.layout.Shape)
	}
	requireFloat(op, x)
	ts := []*Tensor{x, w}
	if b != nil {
		ts = append(ts, b)
	}
	sameDevice(op, ts...)
	sameDType(op, ts...)
	xs, ws := x.layout.Shape, w.layout.Shape
	if ws[1] != xs[1] {
		fail(op, ErrShape, "input has %d channels (shape %v) but the weight %v expects %d", xs[1], xs, ws, ws[1])
	}
	if ws[2] != g.KernelH || ws[3] != g.KernelW {
		fail(op, ErrShape, "weight %v does not match the %dx%d kernel of the geometry", ws, g.KernelH, g.KernelW)
	}
	if b != nil && (b.Dim() != 1 || b.layout.Shape[0] != ws[0]) {
		fail(op, ErrShape, "bias must be [%d], got shape %v", ws[0], b.layout.Shape)
	}
	checkGeometry(op, g, xs[2], xs[3])
	oh, ow = g.OutSize(xs[2], xs[3])
	return xs[0], ws[0], oh, ow
}
