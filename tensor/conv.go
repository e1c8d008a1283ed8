package tensor

import "github.com/nabla-go/nabla/device"

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
	checkGeometry(op, g, x.layout.Shape[2], x.layout.Shape[3])
	s := x.layout.Shape
	out := x.emptyLike(op, x.DType(), g.ColumnShape(s[0], s[1], s[2], s[3]))
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
	checkGeometry(op, g, height, width)
	n := cols.layout.Shape[0]
	want := g.ColumnShape(n, channels, height, width)
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
	if oh, ow := g.OutSize(h, w); oh < 1 || ow < 1 {
		dh, dw := g.Dilation()
		fail(op, ErrShape, "a %dx%d kernel (dilation %dx%d) does not fit a %dx%d input with padding %dx%d; the output would be %dx%d",
			g.KernelH, g.KernelW, dh, dw, h, w, g.PadH, g.PadW, oh, ow)
	}
}
