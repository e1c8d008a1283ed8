package device

import "fmt"

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

// checkConv validates the operands of Im2Col and Col2Im: img is the
// [N, C, H, W] side, col the [N, C*KH*KW, OH*OW] side.
func checkConv(op string, img, col View, g ConvGeometry) error {
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
