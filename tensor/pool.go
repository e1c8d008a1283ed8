package tensor

import (
	"slices"

	"github.com/nabla-go/nabla/device"
)

// MaxPool2d returns the maximum of each window of g over x, an
// [N, C, H, W] float tensor, as y [N, C, OH, OW] (g.OutSize gives OH and
// OW; padding reads -∞), and the Int64 tensor idx of y's shape holding, for
// each window, the flat index ih*W + iw within its input plane of the
// window's first maximum (F.max_pool2d with return_indices=True). x may be
// any strided view.
func MaxPool2d(x *Tensor, g ConvGeometry) (y, idx *Tensor) {
	const op = "MaxPool2d"
	shape := checkPoolInput(op, x, g)
	y = x.emptyLike(op, x.DType(), shape)
	idx = x.emptyLike(op, Int64, shape)
	check(op, x.be.Pool2d(device.MaxPool, y.view(), idx.view(), x.view(), g))
	return y, idx
}

// AvgPool2d returns the mean of each window of g over x, an [N, C, H, W]
// float tensor, as [N, C, OH, OW]. Padding reads 0 and counts in the mean:
// every window is divided by KernelH*KernelW (F.avg_pool2d with
// count_include_pad=True).
func AvgPool2d(x *Tensor, g ConvGeometry) *Tensor {
	const op = "AvgPool2d"
	shape := checkPoolInput(op, x, g)
	y := x.emptyLike(op, x.DType(), shape)
	check(op, x.be.Pool2d(device.AvgPool, y.view(), device.View{}, x.view(), g))
	return y
}

// maxPool2dBackward returns the gradient [N, C, height, width] of the input
// of MaxPool2d from the output gradient dy [N, C, OH, OW] and the indices
// idx that MaxPool2d returned: each element of dy is added at the input
// position its window's maximum came from; every other position is 0.
func maxPool2dBackward(dy, idx *Tensor, height, width int, g ConvGeometry) *Tensor {
	const op = "MaxPool2dBackward"
	sameDevice(op, dy, idx)
	checkPoolGrad(op, dy, height, width, g)
	if idx.DType() != Int64 {
		fail(op, ErrDType, "indices must be int64, got %v", idx.DType())
	}
	if !slices.Equal(idx.layout.Shape, dy.layout.Shape) {
		fail(op, ErrShape, "indices of shape %v do not match the gradient's shape %v", idx.layout.Shape, dy.layout.Shape)
	}
	s := dy.layout.Shape
	dx := dy.emptyLike(op, dy.DType(), []int{s[0], s[1], height, width})
	check(op, dy.be.Pool2dBackward(device.MaxPool, dx.view(), dy.view(), idx.view(), g))
	return dx
}

// avgPool2dBackward returns the gradient [N, C, height, width] of the input
// of AvgPool2d from the output gradient dy [N, C, OH, OW]: each element of
// dy, divided by KernelH*KernelW, is added to every input position of its
// window.
func avgPool2dBackward(dy *Tensor, height, width int, g ConvGeometry) *Tensor {
	const op = "AvgPool2dBackward"
	checkPoolGrad(op, dy, height, width, g)
	s := dy.layout.Shape
	dx := dy.emptyLike(op, dy.DType(), []int{s[0], s[1], height, width})
	check(op, dy.be.Pool2dBackward(device.AvgPool, dx.view(), dy.view(), device.View{}, g))
	return dx
}

// checkPoolInput checks a pooling input and returns the output shape.
func checkPoolInput(op string, x *Tensor, g ConvGeometry) []int {
	if x.Dim() != 4 {
		fail(op, ErrShape, "needs an [N, C, H, W] input, got shape %v", x.layout.Shape)
	}
	if !x.DType().IsFloat() {
		fail(op, ErrDType, "needs a float32 or float64 tensor, got %v; convert with .As(tensor.Float32)", x.DType())
	}
	s := x.layout.Shape
	checkGeometry(op, g, s[2], s[3])
	oh, ow := g.OutSize(s[2], s[3])
	return []int{s[0], s[1], oh, ow}
}

// checkPoolGrad checks an output gradient against the input size.
func checkPoolGrad(op string, dy *Tensor, height, width int, g ConvGeometry) {
	if dy.Dim() != 4 {
		fail(op, ErrShape, "needs an [N, C, OH, OW] gradient, got shape %v", dy.layout.Shape)
	}
	if !dy.DType().IsFloat() {
		fail(op, ErrDType, "needs a float32 or float64 gradient, got %v", dy.DType())
	}
	if height < 1 || width < 1 {
		fail(op, ErrShape, "input size %dx%d must be positive", height, width)
	}
	checkGeometry(op, g, height, width)
	oh, ow := g.OutSize(height, width)
	if dy.layout.Shape[2] != oh || dy.layout.Shape[3] != ow {
		fail(op, ErrShape, "gradient of shape %v does not match the %dx%d output of a %dx%d input", dy.layout.Shape, oh, ow, height, width)
	}
}
