package optim_test

import (
	"fmt"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/optim"
	"github.com/nabla-go/nabla/tensor"
)

// Example trains the XOR network of the design document: four Linear
// layers with Sigmoid activations, binary cross-entropy, plain SGD with
// learning rate 1 for 10001 epochs, seeded with ManualSeed(777). The
// network starts from PyTorch's weights for torch.manual_seed(777), so
// these are the course's losses (see examples/xor), rounded.
func Example() {
	dev := device.Best()
	x := tensor.FromSlice([]float32{0, 0, 0, 1, 1, 0, 1, 1}, 4, 2).To(dev)
	y := tensor.FromSlice([]float32{0, 1, 1, 0}, 4, 1).To(dev)
	tensor.ManualSeed(777)

	model := nn.Sequential(
		nn.Linear(2, 10), nn.Sigmoid(),
		nn.Linear(10, 10), nn.Sigmoid(),
		nn.Linear(10, 10), nn.Sigmoid(),
		nn.Linear(10, 1), nn.Sigmoid(),
	).To(dev)
	lossFn := nn.BCELoss()
	opt := optim.SGD(model.Parameters(), 1.0)

	for epoch := 0; epoch <= 10000; epoch++ {
		opt.ZeroGrad()
		loss := lossFn(model.Forward(autograd.Const(x)), autograd.Const(y))
		loss.Backward()
		opt.Step()
		if epoch%1000 == 0 {
			// One significant digit keeps the output independent of
			// last-bit differences between matrix-multiply kernels.
			fmt.Printf("%d %.1g\n", epoch, loss.Item())
		}
	}
	autograd.NoGrad(func() {
		pred := model.Forward(autograd.Const(x)).Detach().Gt(0.5).As(tensor.Float32)
		fmt.Println(pred.CPU().Float32s())
		fmt.Println("accuracy", pred.Eq(y).As(tensor.Float32).Mean().Item())
	})
	// Output:
	// 0 0.7
	// 1000 0.7
	// 2000 0.7
	// 3000 0.7
	// 4000 0.7
	// 5000 0.7
	// 6000 0.001
	// 7000 0.0005
	// 8000 0.0003
	// 9000 0.0002
	// 10000 0.0002
	// [0 1 1 0]
	// accuracy 1
}
