// Linear regression with autograd: the same fit as
// linear-regression-manual, but the parameters are autograd.Params,
// loss.Backward() computes the gradients and an SGD optimizer applies
// them, the PyTorch way:
//
//	optimizer.zero_grad(); loss.backward(); optimizer.step()
//
// Run it with: go run ./examples/linear-regression-autograd
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
	epochs := flag.Int("epochs", 1000, "gradient-descent steps")
	lr := flag.Float64("lr", 0.01, "learning rate")
	devName := flag.String("device", "cpu", "device: cpu, cuda, cuda:N or auto")
	flag.Parse()
	dev, err := device.Parse(*devName)
	if err != nil {
		fmt.Println(err)
		return
	}

	tensor.ManualSeed(42)
	x := tensor.Rand(100, 1).Mul(10)
	y := x.Mul(2).Add(1).Add(tensor.Randn(100, 1).Mul(0.5))
	xs, ys := autograd.Const(x.To(dev)), autograd.Const(y.To(dev))

	// Parameters: tensors that autograd tracks (requires_grad=True).
	w := autograd.Param(tensor.On(dev).Zeros(1))
	b := autograd.Param(tensor.On(dev).Zeros(1))
	opt := optim.SGD([]*autograd.Var{w, b}, *lr)
	lossFn := nn.MSELoss()

	for epoch := 0; epoch <= *epochs; epoch++ {
		opt.ZeroGrad()
		pred := xs.Mul(w).Add(b)
		loss := lossFn(pred, ys)
		loss.Backward() // fills w.Grad() and b.Grad()
		opt.Step()      // w -= lr·w.Grad(), b -= lr·b.Grad()
		if epoch%200 == 0 {
			fmt.Printf("epoch %4d: loss %.4f, w %.4f, b %.4f\n", epoch, loss.Item(), w.Item(), b.Item())
		}
	}
	fmt.Printf("learned y = %.3f·x + %.3f (the data were made with y = 2·x + 1)\n", w.Item(), b.Item())

	// The same model as a layer: nn.Linear(1, 1) holds w and b itself.
	model := nn.Linear(1, 1)
	model.To(dev)
	opt = optim.SGD(model.Parameters(), *lr)
	for range *epochs + 1 {
		opt.ZeroGrad()
		loss := lossFn(model.Forward(xs), ys)
		loss.Backward()
		opt.Step()
	}
	fmt.Printf("nn.Linear(1, 1) learned weight %.3f, bias %.3f\n", model.Weight.Item(), model.Bias.Item())
}
