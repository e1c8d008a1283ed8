package tensor_test

import (
	"errors"
	"fmt"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/tensor"
)

// Tensors are built from Go slices (the dtype follows the element type)
// or by the constructors, which make Float32 CPU tensors unless Options
// say otherwise.
func ExampleFromSlice() {
	x := tensor.FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	fmt.Println(x)
	fmt.Println(x.Shape(), x.DType(), x.Device())

	labels := tensor.FromSlice([]int64{3, 0, 1})
	fmt.Println(labels, labels.DType())

	fmt.Println(tensor.Zeros(2, 2))
	fmt.Println(tensor.Arange(0, 1, 0.25))
	fmt.Println(tensor.Of(tensor.Float64).Eye(2))
	fmt.Println(tensor.Scalar(2.5))
	// Output:
	// tensor([[1., 2., 3.],
	//         [4., 5., 6.]])
	// [2 3] float32 cpu
	// tensor([3, 0, 1]) int64
	// tensor([[0., 0.],
	//         [0., 0.]])
	// tensor([0.0000, 0.2500, 0.5000, 0.7500])
	// tensor([[1., 0.],
	//         [0., 1.]], dtype=float64)
	// tensor(2.5000, dtype=float64)
}

// Binary operations broadcast like NumPy and PyTorch: shapes are aligned
// at the right and dimensions of size 1 stretch. A Go number is a scalar
// of the tensor's dtype.
func ExampleTensor_Add() {
	x := tensor.FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	row := tensor.FromSlice([]float32{10, 20, 30})     // [3] -> [2 3]
	col := tensor.FromSlice([]float32{100, 200}, 2, 1) // [2 1] -> [2 3]

	fmt.Println(x.Add(row))
	fmt.Println(x.Add(col))
	fmt.Println(x.Add(0.5))

	err := tensor.Catch(func() { x.Add(tensor.Ones(2)) })
	fmt.Println(err)
	fmt.Println(errors.Is(err, tensor.ErrShape))
	// Output:
	// tensor([[11., 22., 33.],
	//         [14., 25., 36.]])
	// tensor([[101., 102., 103.],
	//         [204., 205., 206.]])
	// tensor([[1.5000, 2.5000, 3.5000],
	//         [4.5000, 5.5000, 6.5000]])
	// tensor: Add: shapes [2 3] and [2] do not broadcast (dimension -1: 3 vs 2)
	// true
}

// MatMul follows NumPy's matmul: matrix by matrix, matrix by vector, and
// batches whose leading dimensions broadcast. Transposed operands are read
// in place.
func ExampleTensor_MatMul() {
	a := tensor.FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	b := tensor.FromSlice([]float32{1, 0, 0, 1, 1, 1}, 3, 2)
	fmt.Println(a.MatMul(b))
	fmt.Println(a.MatMul(a.T()))
	fmt.Println(a.MatMul(tensor.FromSlice([]float32{1, 1, 1})))

	batch := tensor.Ones(4, 2, 3) // four [2 3] matrices times one [3 2]
	fmt.Println(batch.MatMul(b).Shape())

	fmt.Println(tensor.Catch(func() { tensor.Zeros(4, 3).MatMul(tensor.Zeros(2, 5)) }))
	// Output:
	// tensor([[ 4.,  5.],
	//         [10., 11.]])
	// tensor([[14., 32.],
	//         [32., 77.]])
	// tensor([ 6., 15.])
	// [4 2 2]
	// tensor: MatMul: shapes [4 3] and [2 5] do not match (inner 3 != 2)
}

// Every tensor lives on one device, and data moves only when To (or CPU)
// is called. Without the cuda build tag (or without a GPU) there is no
// CUDA device and asking for one is an error; device.Best then picks the
// CPU, so the same program runs everywhere.
func ExampleTensor_To() {
	x := tensor.FromSlice([]float32{1, 2, 3})

	// To the device a tensor is already on returns the tensor itself.
	fmt.Println(x.To(device.CPU()) == x, x.CPU() == x)

	_, err := device.Parse("cuda")
	fmt.Println(errors.Is(err, device.ErrNoCUDA))

	dev := device.Best() // cuda:0 when available, else cpu
	y := x.To(dev).Mul(2)
	fmt.Println(y.CPU().Float32s())

	// Moving to a device that is not there fails with ErrDevice.
	err = tensor.Catch(func() { x.To(device.CUDA(0)) })
	fmt.Println(errors.Is(err, tensor.ErrDevice), errors.Is(err, device.ErrNoCUDA))
	// Output:
	// true true
	// true
	// [2 4 6]
	// true true
}

// ManualSeed makes every later random draw reproducible, with PyTorch's
// numbers: torch.manual_seed(777); torch.rand(3); torch.randn(2, 2) print
// the same. A Generator of one's own gives an independent stream
// (torch.Generator), and State and SetState save and restore it.
func ExampleManualSeed() {
	tensor.ManualSeed(777)
	a := tensor.Rand(3)
	fmt.Println(a)
	fmt.Println(tensor.Randn(2, 2))
	tensor.ManualSeed(777)
	b := tensor.Rand(3)
	fmt.Println(a.Eq(b).Bools())

	g := tensor.NewGenerator(42)
	saved := g.State()
	x := tensor.Options{}.WithGenerator(g).RandInt(0, 10, 5)
	if err := g.SetState(saved); err != nil {
		panic(err)
	}
	y := tensor.Options{}.WithGenerator(g).RandInt(0, 10, 5)
	fmt.Println(x.Eq(y).Bools(), x.Int64s())
	// Output:
	// tensor([0.0819, 0.4911, 0.4033])
	// tensor([[0.2698, 0.1650],
	//         [0.4704, 0.0781]])
	// [true true true]
	// [true true true true true] [2 7 6 4 6]
}
