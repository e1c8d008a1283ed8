// XOR with a multilayer perceptron: the program of nabla's design
// document and of the course's XOR chapter. Three hidden layers of
// sigmoids learn what one perceptron cannot (see the perceptron example),
// with binary cross-entropy and plain SGD, on the best device this binary
// can use.
//
// tensor.ManualSeed(777) starts the generator where the course's
// torch.manual_seed(777) does, and nn.Linear draws its weights as
// PyTorch's does, so the network starts from the course's weights and
// the losses it prints every 100 epochs are the course's, printed beside
// them (course.go, from course.py): equal to within float32 rounding
// while the network sits on its plateau, until about epoch 5000. There it
// escapes and the gap grows, since nabla's kernels round a little
// differently from PyTorch's and the escape magnifies the difference; it
// learns XOR all the same.
//
// Run it with: go run ./examples/xor
package main

import (
	"flag"
	"fmt"
	"math"
	"strconv"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/optim"
	"github.com/nabla-go/nabla/tensor"
)

func main() {
	epochs := flag.Int("epochs", 10000, "training steps after the first")
	every := flag.Int("every", 100, "print the loss every this many epochs (the course: 100)")
	flag.Parse()
	if *every <= 0 {
		*every = 100
	}

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

	fmt.Printf("XOR, seed 777, on %v: nabla's loss beside the course's (PyTorch 1.13)\n", dev)
	fmt.Printf("%5s  %-24s %-24s %s\n", "epoch", "nabla", "course", "difference")
	checked, within := 0, 0
	for epoch := 0; epoch <= *epochs; epoch++ {
		opt.ZeroGrad()
		loss := lossFn(model.Forward(autograd.Const(x)), autograd.Const(y))
		loss.Backward()
		opt.Step()
		if epoch%*every != 0 {
			continue
		}
		got := loss.Item()
		want, ok := courseAt(epoch)
		if !ok {
			fmt.Printf("%5d  %-24s\n", epoch, num(got))
			continue
		}
		fmt.Printf("%5d  %-24s %-24s %s\n", epoch, num(got), num(want), difference(got, want))
		switch epoch {
		case 0, 100, 1000, 4000: // the epochs the course's text quotes
			checked++
			if ulps(got, want) <= 2 {
				within++
			}
		}
	}
	if checked > 0 {
		fmt.Printf("the %d losses the course quotes (epochs 0, 100, 1000, 4000) within float32 rounding (2 ulps): %v\n",
			checked, within == checked)
	}
	model.Eval()
	autograd.NoGrad(func() {
		h := model.Forward(autograd.Const(x)).Detach()
		pred := h.Gt(0.5).As(tensor.Float32)
		fmt.Println("hypothesis", h.CPU().Float32s())
		if *epochs == 10000 {
			fmt.Println("course    ", fmt.Sprint(float32s(courseHypothesis)))
		}
		fmt.Println("predicted ", pred.CPU().Float32s())
		fmt.Println("accuracy  ", pred.Eq(y).As(tensor.Float32).Mean().Item())
	})
}

// courseAt returns the course's loss at epoch, when it printed one.
func courseAt(epoch int) (float64, bool) {
	if epoch%courseEvery != 0 || epoch/courseEvery >= len(courseLoss) {
		return 0, false
	}
	return courseLoss[epoch/courseEvery], true
}

// num prints a float32 loss as Python prints loss.item().
func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// ulps is the distance between a and b in float32 steps.
func ulps(a, b float64) int64 {
	ia, ib := int64(math.Float32bits(float32(a))), int64(math.Float32bits(float32(b)))
	if ia>>31 != ib>>31 { // opposite signs
		return math.MaxInt64
	}
	d := ia - ib
	if d < 0 {
		d = -d
	}
	return d
}

// difference describes got - want: in float32 steps when they are a few
// apart, else relative.
func difference(got, want float64) string {
	switch u := ulps(got, want); {
	case u == 0:
		return "equal"
	case u <= 16:
		return fmt.Sprintf("%d ulp", u)
	}
	return fmt.Sprintf("relative %.1e", (got-want)/want)
}

func float32s(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}
