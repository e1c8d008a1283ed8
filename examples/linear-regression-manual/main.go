// Linear regression by hand: fit y = w·x + b to noisy points by gradient
// descent on the mean squared error, with the gradients written out with
// tensor operations (no autograd):
//
//	loss = mean((w·x + b - y)²)
//	∂loss/∂w = 2·mean((w·x + b - y)·x)
//	∂loss/∂b = 2·mean(w·x + b - y)
//
// Run it with: go run ./examples/linear-regression-manual
package main

import (
	"flag"
	"fmt"

	"github.com/nabla-go/nabla/tensor"
)

func main() {
	epochs := flag.Int("epochs", 1000, "gradient-descent steps")
	lr := flag.Float64("lr", 0.01, "learning rate")
	flag.Parse()

	// 100 points on the line y = 2x + 1, with Gaussian noise.
	tensor.ManualSeed(42)
	x := tensor.Rand(100, 1).Mul(10) // uniform in [0, 10)
	y := x.Mul(2).Add(1).Add(tensor.Randn(100, 1).Mul(0.5))

	w := tensor.Scalar(float32(0))
	b := tensor.Scalar(float32(0))
	for epoch := 0; epoch <= *epochs; epoch++ {
		pred := x.Mul(w).Add(b)
		diff := pred.Sub(y)
		loss := diff.Square().Mean()

		gradW := diff.Mul(x).Mean().Mul(2)
		gradB := diff.Mean().Mul(2)
		w = w.Sub(gradW.Mul(*lr))
		b = b.Sub(gradB.Mul(*lr))

		if epoch%200 == 0 {
			fmt.Printf("epoch %4d: loss %.4f, w %.4f, b %.4f\n", epoch, loss.Item(), w.Item(), b.Item())
		}
	}
	fmt.Printf("learned y = %.3f·x + %.3f (the data were made with y = 2·x + 1)\n", w.Item(), b.Item())
}
