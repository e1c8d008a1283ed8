package device

import (
	"fmt"
)

// ConvGeometry describes the sliding window of a 2-D convolution or pooling
// over the last two dimensions (height, width) of an [N, C, H, W] array.
//
// Window position (oh, ow) and kernel offset (i, j) read input element
//
//	ih = oh*StrideH - PadH + i*DilationH
//	iw = ow*StrideW - PadW + j*DilationW
//
// and positions outside the input (the zero padding) read 0. The output has
// OH × OW positions, see OutSize. Kernel and stride sizes must be at least 1
// and padding at least 0; a dilation of 0 means 1 (no dilation), so the
// zero value of the dilation fields is the common case.
type ConvGeometry struct {
	KernelH, KernelW     int // window height and width
	StrideH, StrideW     int // step between windows
	PadH, PadW           int // implicit zeros added on each side
	DilationH, DilationW int // spacing of kernel taps; 0 or 1 means adjacent
}

// Dilation returns the dilation with the zero value read as 1.
func (g ConvGeometry) Dilation() (dh, dw int) {
	return max(g.DilationH, 1), max(g.DilationW, 1)
}

// Validate reports whether the geometry's sizes are usable.
func (g ConvGeometry) Validate() error {
	switch {
	case g.KernelH < 1 || g.KernelW < 1:
		return fmt.Errorf("kernel size %dx%d must be at least 1x1", g.KernelH, g.KernelW)
	case g.StrideH < 1 || g.StrideW < 1:
		return fmt.Errorf("stride %dx%d must be at least 1x1", g.StrideH, g.StrideW)
	case g.PadH < 0 || g.PadW < 0:
		return fmt.Errorf("padding %dx%d must not be negative", g.PadH, g.PadW)
	case g.DilationH < 0 || g.DilationW < 0:
		return fmt.Errorf("dilation %dx%d must not be negative", g.DilationH, g.DilationW)
	}
	return nil
}

// OutSize returns the number of window positions along the height and the
// width of an h × w input:
//
//	OH = (h + 2*PadH - DilationH*(KernelH-1) - 1) / StrideH + 1
//
// and likewise for OW, as PyTorch computes them. A result below 1 means the
// (dilated) kernel does not fit in the padded input.
func (g ConvGeometry) OutSize(h, w int) (oh, ow int) {
	dh, dw := g.Dilation()
	oh = floorDiv(h+2*g.PadH-dh*(g.KernelH-1)-1, g.StrideH) + 1
	ow = floorDiv(w+2*g.PadW-dw*(g.KernelW-1)-1, g.StrideW) + 1
	return oh, ow
}

// ColumnShape returns the shape [N, C*KernelH*KernelW, OH*OW] of the
// column matrix that Im2Col makes from an [N, C, H, W] input. Row
// (c*KernelH + i)*KernelW + j holds kernel tap (i, j) of channel c; column
// oh*OW + ow holds window position (oh, ow).
func (g ConvGeometry) ColumnShape(n, c, h, w int) []int {
	oh, ow := g.OutSize(h, w)
	return []int{n, c * g.KernelH * g.KernelW, oh * ow}
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// Convolver is an optional extension of Backend: 2-D convolution computed
// directly, without the column matrix of the whole batch that Im2Col
// makes (for a batch of 512 small images that matrix is over 100 MB, and
// writing and reading it back costs more than the arithmetic). The tensor
// package uses it when a device's backend implements it, and otherwise
// composes Im2Col, MatMul and Col2Im, which every backend has; the results
// agree up to the rounding of sums taken in another order.
type Convolver interface {
	// Conv2d sets y = conv(x, w) + bias, PyTorch's cross-correlation: for
	// x [N, C, H, W], w [O, C, KH, KW] (g.KernelH = KH, g.KernelW = KW),
	// y [N, O, OH, OW] (g.OutSize gives OH and OW) and bias [O] or the
	// zero View (none),
	//
	//	y[n][o][oh][ow] = bias[o] + Σ over c, i, j of w[o][c][i][j]·x[n][c][ih][iw]
	//
	// with (ih, iw) as ConvGeometry describes, padding reading 0. Float
	// dtypes; every view may be strided; y overlaps no operand.
	Conv2d(y, x, w, bias View, g ConvGeometry) error
	// Conv2dBackward computes the gradients of Conv2d from the output
	// gradient dy [N, O, OH, OW]: it overwrites dx (x's shape) with the
	// input gradient, dw (w's shape) with the weight gradient and db [O]
	// with Σ dy over n, oh and ow. Any of dx, dw and db may be the zero
	// View when not wanted; x is read only for dw and w only for dx (the
	// other may then be the zero View). Sums over the batch are taken in
	// an order that depends only on the shapes, so results repeat bit for
	// bit whatever the number of threads.
	Conv2dBackward(dx, dw, db, dy, x, w View, g ConvGeometry) error
}
