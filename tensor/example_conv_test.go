package tensor_test

import (
	"fmt"

	"github.com/nabla-go/nabla/tensor"
)

// Im2Col is F.unfold: each column holds one sliding window, so a
// convolution becomes one matrix product, and per-patch operations
// (patch embeddings, local statistics) become ordinary tensor arithmetic.
func ExampleIm2Col() {
	x := tensor.Arange(0, 16, 1).Reshape(1, 1, 4, 4) // [N, C, H, W]
	g := tensor.ConvGeometry{KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2}
	cols := tensor.Im2Col(x, g) // [N, C*KH*KW, OH*OW]: one 2x2 patch per column
	fmt.Println(cols)

	// The mean of each patch, and a convolution as a matrix product:
	// they equal AvgPool2d and Conv2d.
	fmt.Println(cols.Mean(1).Reshape(1, 1, 2, 2).Eq(tensor.AvgPool2d(x, g)).All())
	w := tensor.FromSlice([]float32{1, 0, 0, -1}, 1, 1, 2, 2)
	y := w.Reshape(1, -1).MatMul(cols).Reshape(1, 1, 2, 2)
	fmt.Println(y.Eq(tensor.Conv2d(x, w, nil, g)).All())
	// Output:
	// tensor([[[ 0.,  2.,  8., 10.],
	//          [ 1.,  3.,  9., 11.],
	//          [ 4.,  6., 12., 14.],
	//          [ 5.,  7., 13., 15.]]])
	// tensor(True)
	// tensor(True)
}

// Col2Im is F.fold, the adjoint of Im2Col: it sums each window's column
// back into the image, so folding the unfolded ones counts how many
// windows cover each pixel (the divisor of an overlapping-patch average).
func ExampleCol2Im() {
	x := tensor.Ones(1, 1, 3, 3)
	g := tensor.ConvGeometry{KernelH: 2, KernelW: 2, StrideH: 1, StrideW: 1}
	fmt.Println(tensor.Col2Im(tensor.Im2Col(x, g), 1, 3, 3, g))
	// Output:
	// tensor([[[[1., 2., 1.],
	//           [2., 4., 2.],
	//           [1., 2., 1.]]]])
}

// Conv2d, MaxPool2d and AvgPool2d are the functional layers for code that
// wants no gradients (inference, preprocessing); autograd.Conv2d and
// nn.Conv2d are the same computation, recorded for Backward.
func ExampleConv2d() {
	x := tensor.Arange(0, 16, 1).Reshape(1, 1, 4, 4)
	edge := tensor.FromSlice([]float32{-1, 1}, 1, 1, 1, 2) // horizontal difference
	g := tensor.ConvGeometry{KernelH: 1, KernelW: 2, StrideH: 1, StrideW: 1}
	fmt.Println(tensor.Conv2d(x, edge, tensor.FromSlice([]float32{0.5}), g))
	// Output:
	// tensor([[[[1.5000, 1.5000, 1.5000],
	//           [1.5000, 1.5000, 1.5000],
	//           [1.5000, 1.5000, 1.5000],
	//           [1.5000, 1.5000, 1.5000]]]])
}

// MaxPool2d also returns where each maximum came from (the flat index in
// its input plane), as F.max_pool2d with return_indices=True: what max
// unpooling needs.
func ExampleMaxPool2d() {
	x := tensor.FromSlice([]float32{
		1, 5, 2, 0,
		3, 4, 8, 6,
		0, 0, 1, 1,
		9, 0, 1, 2,
	}, 1, 1, 4, 4)
	y, idx := tensor.MaxPool2d(x, tensor.ConvGeometry{KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2})
	fmt.Println(y)
	fmt.Println(idx)
	// Output:
	// tensor([[[[5., 8.],
	//           [9., 2.]]]])
	// tensor([[[[ 1,  6],
	//           [12, 15]]]])
}

// AddInPlace is t.add_(u): it accumulates into existing memory, as a
// running sum over batches does, without allocating a new tensor.
func ExampleTensor_AddInPlace() {
	sum := tensor.Zeros(3)
	for _, batch := range [][]float32{{1, 2, 3}, {10, 20, 30}} {
		sum.AddInPlace(tensor.FromSlice(batch))
	}
	fmt.Println(sum)
	// Output:
	// tensor([11., 22., 33.])
}

// AvgPool2d downsamples by window means; padding counts as zeros in the
// mean (F.avg_pool2d with count_include_pad=True), which darkens the
// border windows.
func ExampleAvgPool2d() {
	x := tensor.Full(4, 1, 1, 2, 2)
	g := tensor.ConvGeometry{KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2}
	fmt.Println(tensor.AvgPool2d(x, g))
	g.PadH, g.PadW = 1, 1
	fmt.Println(tensor.AvgPool2d(x, g))
	// Output:
	// tensor([[[[4.]]]])
	// tensor([[[[1., 1.],
	//           [1., 1.]]]])
}
