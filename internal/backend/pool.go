package backend

import (
	"fmt"
	"slices"

	"github.com/nabla-go/nabla/device"
)

// CheckPool validates the operands of device.Backend.Pool2d and
// Pool2dBackward: img is the [N, C, H, W] side (the input, or the input
// gradient), out the [N, C, OH, OW] side (the output, or the output
// gradient) and idx, for MaxPool, the Int64 [N, C, OH, OW] argmax
// indices. Backends call it before they touch memory.
func CheckPool(op string, pop device.PoolOp, img, out, idx device.View, g device.ConvGeometry) error {
	if !pop.Valid() {
		return fmt.Errorf("%s: unknown pooling op %d", op, pop)
	}
	if err := g.Validate(); err != nil {
		return fmt.Errorf("%s: %v", op, err)
	}
	if img.Rank() != 4 || out.Rank() != 4 {
		return fmt.Errorf("%s: wants 4-D input and output views, got shapes %v and %v", op, img.Shape, out.Shape)
	}
	dt := img.Buf.DType()
	if dt != device.Float32 && dt != device.Float64 {
		return fmt.Errorf("%s is not implemented for %v", op, dt)
	}
	if out.Buf.DType() != dt {
		return fmt.Errorf("%s: dtypes %v and %v differ", op, dt, out.Buf.DType())
	}
	oh, ow := g.OutSize(img.Shape[2], img.Shape[3])
	if oh < 1 || ow < 1 {
		return fmt.Errorf("%s: a %dx%d kernel does not fit a %dx%d input padded by %dx%d", op, g.KernelH, g.KernelW, img.Shape[2], img.Shape[3], g.PadH, g.PadW)
	}
	want := []int{img.Shape[0], img.Shape[1], oh, ow}
	if !slices.Equal(out.Shape, want) {
		return fmt.Errorf("%s: output shape %v should be %v for input shape %v", op, out.Shape, want, img.Shape)
	}
	if pop == device.MaxPool {
		if idx.Buf == nil || idx.Buf.DType() != device.Int64 {
			return fmt.Errorf("%s: max pooling needs an int64 index view", op)
		}
		if !slices.Equal(idx.Shape, want) {
			return fmt.Errorf("%s: index shape %v should be %v", op, idx.Shape, want)
		}
	}
	return nil
}
