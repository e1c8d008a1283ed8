package data_test

import (
	"fmt"

	"github.com/nabla-go/nabla/data"
	"github.com/nabla-go/nabla/tensor"
)

// A loader over ten (x, y) samples in batches of four: two full batches
// and a partial last one. Add data.DropLast() to drop it, and
// data.ShuffleWith(gen) to visit the samples in a new order every epoch.
func ExampleNewLoader() {
	x := tensor.Arange(0, 20, 1).Reshape(10, 2) // 10 samples of 2 features
	y := tensor.On(x.Device()).Of(tensor.Int64).Arange(0, 10, 1)
	ds, err := data.TensorDataset(x, y)
	if err != nil {
		panic(err)
	}
	loader, err := data.NewLoader(ds, data.BatchSize(4))
	if err != nil {
		panic(err)
	}
	for b, err := range loader.All() {
		if err != nil {
			panic(err)
		}
		fmt.Println(b.Seq, b.X().Shape(), b.Y().Int64s())
	}
	// Output:
	// 0 [4 2] [0 1 2 3]
	// 1 [4 2] [4 5 6 7]
	// 2 [2 2] [8 9]
}

// Splitting a data set 80/10/10 into training, validation and test sets,
// reproducibly.
func ExampleRandomSplit() {
	ds, err := data.TensorDataset(tensor.Zeros(1000, 3))
	if err != nil {
		panic(err)
	}
	parts, err := data.RandomSplit(ds, []float64{0.8, 0.1, 0.1}, tensor.NewGenerator(42))
	if err != nil {
		panic(err)
	}
	train, val, test := parts[0], parts[1], parts[2]
	fmt.Println(train.Len(), val.Len(), test.Len())
	// Output: 800 100 100
}

// Fashion-MNIST from Debian's dataset-fashion-mnist package, in shuffled
// batches of 64 images of shape [1 28 28] with their labels.
func ExampleFashionMNIST() {
	train, err := data.FashionMNIST("", true) // "" = /usr/share/datasets/fashion-mnist
	if err != nil {
		fmt.Println(err)
		return
	}
	loader, err := data.NewLoader(train, data.BatchSize(64), data.ShuffleWith(tensor.NewGenerator(1)))
	if err != nil {
		fmt.Println(err)
		return
	}
	for b, err := range loader.All() {
		if err != nil {
			fmt.Println(err)
			return
		}
		_ = b.X() // [64 1 28 28] Float32 in [0, 1]
		_ = b.Y() // [64] Int64 in 0..9
	}
}
