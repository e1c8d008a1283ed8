package nn_test

import (
	"fmt"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
)

// A small network learns XOR, which no single-layer perceptron can (see
// TestNoThresholdUnitComputesXOR): the hidden layer makes it separable.
func ExampleSequential() {
	tensor.ManualSeed(777)
	x := tensor.FromSlice([]float32{0, 0, 0, 1, 1, 0, 1, 1}, 4, 2)
	y := tensor.FromSlice([]float32{0, 1, 1, 0}, 4, 1)

	model := nn.Sequential(
		nn.Linear(2, 8), nn.Tanh(),
		nn.Linear(8, 1), nn.Sigmoid(),
	)
	fmt.Println(model)
	for _, p := range model.NamedParameters() {
		fmt.Println(p.Name, p.Var.Shape())
	}

	lossFn := nn.BCELoss()
	const lr = 1.0
	for range 1000 {
		nn.ZeroGrad(model)
		loss := lossFn(model.Forward(autograd.Const(x)), autograd.Const(y))
		loss.Backward()
		for _, p := range model.Parameters() { // plain gradient descent
			w := p.Detach()
			w.CopyFrom(w.Sub(p.Grad().Mul(lr)))
		}
	}
	autograd.NoGrad(func() {
		pred := model.Forward(autograd.Const(x)).Detach().Gt(0.5).As(tensor.Float32)
		fmt.Println(pred.Float32s())
	})
	// Output:
	// Sequential(
	//   (0): Linear(in_features=2, out_features=8, bias=True)
	//   (1): Tanh()
	//   (2): Linear(in_features=8, out_features=1, bias=True)
	//   (3): Sigmoid()
	// )
	// 0.weight [8 2]
	// 0.bias [8]
	// 2.weight [1 8]
	// 2.bias [1]
	// [0 1 1 0]
}

// Linear computes x·Wᵀ + b over the last dimension.
func ExampleLinear() {
	fc := nn.Linear(3, 2)
	fc.Weight.Detach().CopyFrom(tensor.FromSlice([]float32{1, 0, -1, 0.5, 0.5, 0.5}, 2, 3))
	fc.Bias.Detach().CopyFrom(tensor.FromSlice([]float32{0, 1}))
	x := autograd.Const(tensor.FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3))
	fmt.Println(fc.Forward(x).Detach().Float32s())
	// Output: [-2 4 -2 8.5]
}

// CrossEntropyLoss takes raw scores and Int64 class labels; the reduction
// is optional.
func ExampleCrossEntropyLoss() {
	logits := autograd.Param(tensor.FromSlice([]float32{2, 0, 0, 0, 3, 0}, 2, 3))
	labels := autograd.Const(tensor.FromSlice([]int64{0, 2}))

	loss := nn.CrossEntropyLoss()(logits, labels)
	perSample := nn.CrossEntropyLoss(nn.None)(logits, labels)
	fmt.Printf("mean %.4f, per sample %.4f\n", loss.Item(), perSample.Detach().Float32s())

	loss.Backward() // (softmax - onehot) / N, as torch computes it
	fmt.Printf("%.4f\n", logits.Grad().Float32s())
	// Output:
	// mean 1.6672, per sample [0.2395 3.0949]
	// [-0.1065 0.0533 0.0533 0.0226 0.4547 -0.4774]
}

// MSELoss with each reduction.
func ExampleMSELoss() {
	pred := autograd.Const(tensor.FromSlice([]float32{1, 2, 3}))
	target := autograd.Const(tensor.FromSlice([]float32{1, 0, 0}))
	fmt.Println(nn.MSELoss()(pred, target).Item())
	fmt.Println(nn.MSELoss(nn.Sum)(pred, target).Item())
	fmt.Println(nn.MSELoss(nn.None)(pred, target).Detach().Float32s())
	// Output:
	// 4.333333492279053
	// 13
	// [0 4 9]
}
