// The perceptron: Rosenblatt's learning rule on the logic gates AND, OR and
// NAND, which it learns, and XOR, which it cannot: no line separates XOR's
// ones from its zeros, so one neuron with a step activation never gets all
// four right. (The xor example solves it with hidden layers.)
//
// For each sample x with target y, the prediction is step(w·x + b) and the
// rule is w += lr·(y - prediction)·x, b += lr·(y - prediction).
//
// Run it with: go run ./examples/perceptron
package main

import (
	"flag"
	"fmt"

	"github.com/nabla-go/nabla/tensor"
)

// inputs are the four rows (x1, x2) of a truth table.
var inputs = tensor.FromSlice([]float32{0, 0, 0, 1, 1, 0, 1, 1}, 4, 2)

// train runs the perceptron rule for epochs passes over the truth table
// and returns the weights, the bias and the epochs it needed (-1: it never
// classified every row).
func train(targets []float32, epochs int, lr float64) (w, b *tensor.Tensor, needed int) {
	y := tensor.FromSlice(targets, 4)
	w = tensor.Zeros(2)
	b = tensor.Scalar(float32(0))
	for epoch := 1; epoch <= epochs; epoch++ {
		errors := 0
		for i := range 4 {
			x := inputs.Select(0, i)                  // [2]
			pred := x.Mul(w).Sum().Add(b).Step()      // 0 or 1
			delta := y.Select(0, i).Sub(pred).Mul(lr) // lr·(y - prediction)
			w = w.Add(x.Mul(delta))
			b = b.Add(delta)
			if pred.Item() != y.Select(0, i).Item() {
				errors++
			}
		}
		if errors == 0 {
			return w, b, epoch
		}
	}
	return w, b, -1
}

// predict applies the perceptron to the four rows.
func predict(w, b *tensor.Tensor) []float32 {
	return inputs.MatMul(w.Reshape(2, 1)).Add(b).Step().Reshape(4).Float32s()
}

func main() {
	epochs := flag.Int("epochs", 100, "passes over the truth table")
	lr := flag.Float64("lr", 0.1, "learning rate")
	flag.Parse()

	gates := []struct {
		name    string
		targets []float32
	}{
		{"AND", []float32{0, 0, 0, 1}},
		{"OR", []float32{0, 1, 1, 1}},
		{"NAND", []float32{1, 1, 1, 0}},
		{"XOR", []float32{0, 1, 1, 0}},
	}
	for _, g := range gates {
		w, b, needed := train(g.targets, *epochs, *lr)
		pred := predict(w, b)
		correct := 0
		for i := range pred {
			if pred[i] == g.targets[i] {
				correct++
			}
		}
		ws := w.Float32s()
		fmt.Printf("%-4s targets %v, predictions %v, w = [%.1f %.1f], b = %.1f: ", g.name, g.targets, pred, ws[0], ws[1], b.Item())
		if needed > 0 {
			fmt.Printf("learned in %d epochs\n", needed)
		} else {
			fmt.Printf("NOT learned after %d epochs (%d of 4 right): XOR is not linearly separable\n", *epochs, correct)
		}
	}
}
