package tensor

import (
	"math"
	"math/bits"

	"github.com/nabla-go/nabla/device"
)

// ConvGeometry describes the sliding window of a 2-D convolution or pooling;
// see device.ConvGeometry.
type ConvGeometry = device.ConvGeometry

// Im2Col unfolds the sliding windows of g over x, an [N, C, H, W] tensor,
// into the column matrix [N, C*KH*KW, OH*OW] (torch.nn.functional.unfold):
// row (c*KH + i)*KW + j holds kernel tap (i, j) of channel c and column
// oh*OW + ow window position (oh, ow); taps that fall in the zero padding
// read 0. A convolution with weight w [O, C, KH, KW] is then
// w.Reshape(O, -1).MatMul(cols). x may be any strided view.
func Im2Col(x *Tensor, g ConvGeometry) *Tensor {
	const op = "Im2Col"
	if x.Dim() != 4 {
		fail(op, ErrShape, "needs an [N, C, H, W] input, got shape %v", x.layout.Shape)
	}
	checkConvDType(op, x)
	s := x.layout.Shape
	out := x.emptyLike(op, x.DType(), columnShape(op, g, s[0], s[1], s[2], s[3]))
	check(op, x.be.Im2Col(out.view(), x.view(), g))
	return out
}

// Col2Im is the adjoint of Im2Col (torch.nn.functional.fold): it folds the
// column matrix cols [N, C*KH*KW, OH*OW] back into an [N, C, height, width]
// tensor, adding the entries that overlapping windows took from the same
// position. Col2Im(Im2Col(x)) multiplies each element of x by the number of
// windows that cover it; the gradient of Im2Col is Col2Im.
func Col2Im(cols *Tensor, channels, height, width int, g ConvGeometry) *Tensor {
	const op = "Col2Im"
	if cols.Dim() != 3 {
		fail(op, ErrShape, "needs an [N, C*KH*KW, OH*OW] column tensor, got shape %v", cols.layout.Shape)
	}
	if channels < 0 || height < 0 || width < 0 {
		fail(op, ErrShape, "negative output size %dx%dx%d", channels, height, width)
	}
	checkConvDType(op, cols)
	n := cols.layout.Shape[0]
	want := columnShape(op, g, n, channels, height, width)
	for i := range want {
		if cols.layout.Shape[i] != want[i] {
			fail(op, ErrShape, "column shape %v does not match %v, the shape Im2Col gives for an image of [%d %d %d %d] with kernel %dx%d",
				cols.layout.Shape, want, n, channels, height, width, g.KernelH, g.KernelW)
		}
	}
	out := cols.emptyLike(op, cols.DType(), []int{n, channels, height, width})
	check(op, cols.be.Col2Im(out.view(), cols.view(), g))
	return out
}

// im2colFlat unfolds like Im2Col but sets the images' columns side by
// side: the result is the contiguous [C*KH*KW, N*OH*OW] matrix whose
// column n*OH*OW + p is window p of image n, the transpose of
// Im2Col(x, g).Permute(1, 0, 2) flattened. A convolution's weight gradient
// is then one matrix product with the output gradient laid out as
// [O, N*OH*OW], instead of N products and a sum over them, and its input
// gradient is col2imFlat of one product too.
func im2colFlat(x *Tensor, g ConvGeometry) *Tensor {
	const op = "Im2ColFlat"
	if x.Dim() != 4 {
		fail(op, ErrShape, "needs an [N, C, H, W] input, got shape %v", x.layout.Shape)
	}
	checkConvDType(op, x)
	s := x.layout.Shape
	cs := columnShape(op, g, s[0], s[1], s[2], s[3]) // [N, K, L]
	out := x.emptyLike(op, x.DType(), []int{cs[1], cs[0], cs[2]})
	// The backend writes through the [N, K, L] view of the [K, N, L]
	// buffer; its rows stay contiguous, so it copies runs as for Im2Col.
	check(op, x.be.Im2Col(out.Transpose(0, 1).view(), x.view(), g))
	return out.View(cs[1], cs[0]*cs[2])
}

// col2imFlat is the adjoint of im2colFlat, as Col2Im is of Im2Col: it folds
// cols [C*KH*KW, N*OH*OW], the images' columns side by side, back into an
// [N, C, height, width] tensor, adding the entries that overlapping windows
// took from the same position.
func col2imFlat(cols *Tensor, n, channels, height, width int, g ConvGeometry) *Tensor {
	const op = "Col2ImFlat"
	if n < 0 || channels < 0 || height < 0 || width < 0 {
		fail(op, ErrShape, "negative output size %dx%dx%dx%d", n, channels, height, width)
	}
	cs := columnShape(op, g, n, channels, height, width)
	if _, ok := mulInts(cs...); !ok { // the flat layout's columns, N*OH*OW, must fit too
		fail(op, ErrShape, "the column matrix %v has too many elements: their number overflows int", cs)
	}
	if cols.Dim() != 2 || cols.layout.Shape[0] != cs[1] || cols.layout.Shape[1] != cs[0]*cs[2] {
		fail(op, ErrShape, "column shape %v does not match [%d %d], the shape Im2ColFlat gives for an image of [%d %d %d %d] with kernel %dx%d",
			cols.layout.Shape, cs[1], cs[0]*cs[2], n, channels, height, width, g.KernelH, g.KernelW)
	}
	checkConvDType(op, cols)
	return Col2Im(cols.Reshape(cs[1], cs[0], cs[2]).Transpose(0, 1), channels, height, width, g)
}

func checkConvDType(op string, t *Tensor) {
	if dt := t.DType(); !dt.IsFloat() && dt != Int64 {
		fail(op, ErrDType, "needs a float32, float64 or int64 tensor, got %v; convert with .As(tensor.Float32)", dt)
	}
}

// checkGeometry panics unless g is valid and its window fits an h × w
// input.
func checkGeometry(op string, g ConvGeometry, h, w int) {
	if err := g.Validate(); err != nil {
		fail(op, ErrArgument, "%v", err)
	}
	// OutSize computes h + 2*pad - dilation*(kernel-1) - 1: those sums and
	// products must not wrap around into a plausible size.
	dh, dw := g.Dilation()
	if !windowFits(h, g.PadH, dh, g.KernelH) || !windowFits(w, g.PadW, dw, g.KernelW) {
		fail(op, ErrArgument, "geometry %+v on a %dx%d input: the padded sizes or the dilated kernel overflow int", g, h, w)
	}
	if oh, ow := g.OutSize(h, w); oh < 1 || ow < 1 {
		dh, dw := g.Dilation()
		fail(op, ErrShape, "a %dx%d kernel (dilation %dx%d) does not fit a %dx%d input with padding %dx%d; the output would be %dx%d",
			g.KernelH, g.KernelW, dh, dw, h, w, g.PadH, g.PadW, oh, ow)
	}
}

// windowFits reports whether size + 2*pad and dilation*(kernel-1), the
// terms of OutSize, fit in an int (all arguments non-negative, kernel and
// dilation at least 1).
func windowFits(size, pad, dilation, kernel int) bool {
	if pad > (math.MaxInt-size)/2 {
		return false
	}
	return kernel-1 <= math.MaxInt/dilation
}

// columnShape is g.ColumnShape(n, c, h, w), [N, C*KH*KW, OH*OW], after
// checkGeometry, with the products checked: a wrapped-around product would
// give a small buffer that the unfolding then overruns.
func columnShape(op string, g ConvGeometry, n, c, h, w int) []int {
	checkGeometry(op, g, h, w)
	oh, ow := g.OutSize(h, w)
	rows, ok1 := mulInts(c, g.KernelH, g.KernelW)
	cols, ok2 := mulInts(oh, ow)
	if !ok1 || !ok2 {
		fail(op, ErrShape, "the column matrix of %d channels of %dx%d with kernel %dx%d has too many elements: their number overflows int",
			c, h, w, g.KernelH, g.KernelW)
	}
	shape := []int{n, rows, cols}
	checkShape(op, shape)
	return shape
}

// mulInts returns the product of non-negative xs, reporting false when it
// overflows int.
func mulInts(xs ...int) (int, bool) {
	p := 1
	for _, x := range xs {
		hi, lo := bits.Mul64(uint64(p), uint64(x))
		if x < 0 || hi != 0 || lo > math.MaxInt {
			return 0, false
		}
		p = int(lo)
	}
	return p, true
}
