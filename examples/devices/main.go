// Moving a model between the CPU and a GPU. device.Best() is cuda:0 in a
// binary built with -tags cuda on a machine with an NVIDIA GPU, and the
// CPU otherwise; this program runs either way and says which.
//
// The rules: every tensor lives on one device; an op never mixes devices
// (it fails and says how to fix it); moving is explicit, with To(dev) and
// CPU(); and reading numbers into Go needs a CPU tensor
// (v.Detach().CPU().Float32s() is PyTorch's v.detach().cpu().numpy()).
//
// Run it with: go run ./examples/devices
// or, with a GPU: go run -tags cuda ./examples/devices
package main

import (
	"fmt"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
)

func main() {
	fmt.Println("devices this binary can use:", device.List())
	dev := device.Best()
	if dev.IsCPU() {
		fmt.Println("no CUDA device (this is a CPU-only build, or there is no GPU): running on the CPU")
		fmt.Println("for a GPU, build with -tags cuda on a machine with the NVIDIA driver")
	} else {
		info, _ := device.Describe(dev)
		fmt.Println("running on", info)
	}

	tensor.ManualSeed(1)
	x := tensor.Randn(4, 3) // created on the CPU
	model := nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2))
	fmt.Println("x on", x.Device(), "- model parameters on", model.Parameters()[0].Device())

	// model.to(device); x.to(device)
	model.To(dev)
	xd := x.To(dev)
	fmt.Println("after To(dev): x on", xd.Device(), "- model parameters on", model.Parameters()[0].Device())

	var out []float32
	autograd.NoGrad(func() {
		y := model.Forward(autograd.Const(xd))
		fmt.Println("output on", y.Device())
		// y.detach().cpu().numpy()
		out = y.Detach().CPU().Float32s()
	})
	fmt.Printf("output in Go memory: %.4f\n", out)

	if !dev.IsCPU() {
		// Mixing devices is an error that names the op, the devices and the fix.
		err := tensor.Catch(func() { x.Add(xd) })
		fmt.Println("x (cpu) + xd (gpu):", err)
		// Reading GPU memory directly is an error too.
		err = tensor.Catch(func() { xd.Float32s() })
		fmt.Println("xd.Float32s():", err)
	}

	// Back to the CPU, for example to save it or hand it to CPU-only code.
	model.To(device.CPU())
	var again []float32
	autograd.NoGrad(func() {
		again = model.Forward(autograd.Const(x)).Detach().Float32s()
	})
	fmt.Printf("same output on the CPU: %.4f\n", again)
}
