package autograd

import (
	"fmt"
	"testing"

	"github.com/nabla-go/nabla/tensor"
)

// BenchmarkConv2dStep times the forward and backward passes of the two
// convolutions of the example CNN at batch 64, alone, with the gradient of
// the input as well as of the weight and bias.
func BenchmarkConv2dStep(b *testing.B) {
	for _, s := range []struct{ c, o, hw int }{{1, 32, 28}, {32, 64, 14}} {
		b.Run(fmt.Sprintf("%dx%d", s.c, s.o), func(b *testing.B) {
			opts := tensor.Options{}.WithGenerator(tensor.NewGenerator(1))
			x := Param(opts.Rand(64, s.c, s.hw, s.hw))
			w := Param(opts.Rand(s.o, s.c, 3, 3))
			bias := Param(opts.Rand(s.o))
			g := opts.Rand(64, s.o, s.hw, s.hw)
			opt := Conv2dOptions{Padding: [2]int{1, 1}}
			for b.Loop() {
				Conv2d(x, w, bias, opt).BackwardWith(g)
			}
		})
	}
}

// BenchmarkConv2dBatchedForm times, for comparison with Conv2dStep, the
// former formulation of the same passes: per-image products on the
// [N, K, L] columns, and the weight gradient as N products summed over N.
func BenchmarkConv2dBatchedForm(b *testing.B) {
	for _, s := range []struct{ c, o, hw int }{{1, 32, 28}, {32, 64, 14}} {
		b.Run(fmt.Sprintf("%dx%d", s.c, s.o), func(b *testing.B) {
			opts := tensor.Options{}.WithGenerator(tensor.NewGenerator(1))
			x := opts.Rand(64, s.c, s.hw, s.hw)
			w := opts.Rand(s.o, s.c, 3, 3)
			bias := opts.Rand(s.o)
			g := opts.Rand(64, s.o, s.hw, s.hw)
			geom := Conv2dOptions{Padding: [2]int{1, 1}}.geometry(3, 3)
			for b.Loop() {
				cols := tensor.Im2Col(x, geom)
				w2 := w.Reshape(s.o, -1)
				_ = w2.MatMul(cols).Add(bias.Reshape(s.o, 1))
				g3 := g.Reshape(64, s.o, -1)
				_ = tensor.Col2Im(w2.T().MatMul(g3), s.c, s.hw, s.hw, geom)
				_ = g3.MatMul(cols.Transpose(1, 2)).Sum(0)
				_ = g3.Sum(0, 2)
			}
		})
	}
}
