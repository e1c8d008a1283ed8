package backend

import (
	"fmt"

	"github.com/nabla-go/nabla/device"
)

// CheckConv2d validates the operands of device.Convolver.Conv2d and
// Conv2dBackward: y or dy is out, and any of x, w, bias, dx, dw and db
// may be the zero View, which is not checked (the caller checks that the
// operands it needs are there). All operands must share one float dtype.
func CheckConv2d(op string, out, x, w, bias, dx, dw, db device.View, g device.ConvGeometry) error {
	if err := g.Validate(); err != nil {
		return fmt.Errorf("device: %s: %v", op, err)
	}
	if out.Rank() != 4 {
		return fmt.Errorf("device: %s: output [N, O, OH, OW] wanted, got shape %v", op, out.Shape)
	}
	dt := out.Buf.DType()
	if dt != device.Float32 && dt != device.Float64 {
		return fmt.Errorf("device: %s: float32 or float64 wanted, got %v", op, dt)
	}
	n, o := out.Shape[0], out.Shape[1]
	for _, v := range []device.View{x, w, bias, dx, dw, db} {
		if v.Buf != nil && v.Buf.DType() != dt {
			return fmt.Errorf("device: %s: dtypes %v and %v differ", op, dt, v.Buf.DType())
		}
	}
	// The image shape, from x or dx (which must agree).
	var img []int
	for _, v := range []device.View{x, dx} {
		if v.Buf == nil {
			continue
		}
		if v.Rank() != 4 || v.Shape[0] != n {
			return fmt.Errorf("device: %s: input [%d, C, H, W] wanted, got shape %v", op, n, v.Shape)
		}
		if img != nil && !equalInts(img, v.Shape) {
			return fmt.Errorf("device: %s: input shapes %v and %v differ", op, img, v.Shape)
		}
		img = v.Shape
	}
	for _, v := range []device.View{w, dw} {
		if v.Buf == nil {
			continue
		}
		if v.Rank() != 4 || v.Shape[0] != o || v.Shape[2] != g.KernelH || v.Shape[3] != g.KernelW {
			return fmt.Errorf("device: %s: weight [%d, C, %d, %d] wanted, got shape %v", op, o, g.KernelH, g.KernelW, v.Shape)
		}
		if img != nil && v.Shape[1] != img[1] {
			return fmt.Errorf("device: %s: weight %v does not match the %d channels of the input %v", op, v.Shape, img[1], img)
		}
	}
	for _, v := range []device.View{bias, db} {
		if v.Buf != nil && (v.Rank() != 1 || v.Shape[0] != o) {
			return fmt.Errorf("device: %s: bias [%d] wanted, got shape %v", op, o, v.Shape)
		}
	}
	if img != nil {
		oh, ow := g.OutSize(img[2], img[3])
		if oh < 1 || ow < 1 || out.Shape[2] != oh || out.Shape[3] != ow {
			return fmt.Errorf("device: %s: output %v does not match input %v with a %dx%d kernel (stride %dx%d, padding %dx%d)",
				op, out.Shape, img, g.KernelH, g.KernelW, g.StrideH, g.StrideW, g.PadH, g.PadW)
		}
	}
	return nil
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
