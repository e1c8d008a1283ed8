// XOR with a multilayer perceptron: the program of nabla's design
// document. Three hidden layers of sigmoids learn what one perceptron
// cannot (see the perceptron example), with binary cross-entropy and plain
// SGD, on the best device this binary can use.
//
// Run it with: go run ./examples/xor
package main

import (
	"flag"
	"fmt"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/optim"
	"github.com/nabla-go/nabla/tensor"
)

func main() {
	epochs := flag.Int("epochs", 10000, "training steps")
	flag.Parse()

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

	for epoch := 0; epoch <= *epochs; epoch++ {
		opt.ZeroGrad()
		loss := lossFn(model.Forward(autograd.Const(x)), autograd.Const(y))
		loss.Backward()
		opt.Step()
		if epoch%1000 == 0 {
			fmt.Println(epoch, loss.Item())
		}
	}
	model.Eval()
	autograd.NoGrad(func() {
		h := model.Forward(autograd.Const(x)).Detach()
		pred := h.Gt(0.5).As(tensor.Float32)
		fmt.Println("device:   ", dev)
		fmt.Println("hypothesis", h.CPU().Float32s())
		fmt.Println("predicted ", pred.CPU().Float32s())
		fmt.Println("accuracy  ", pred.Eq(y).As(tensor.Float32).Mean().Item())
	})
}
