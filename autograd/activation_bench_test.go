package autograd

import (
	"fmt"
	"testing"

	"github.com/nabla-go/nabla/tensor"
)

// The activation and dropout benchmarks time one forward and one backward
// pass of the layer alone, from a fixed random upstream gradient (so no
// loss or reduction is timed with it), at the sizes of an MLP's hidden
// layers: a 64-image batch and a 512-image batch of 256 features, and a
// wide 4096-feature layer for dropout.

// benchActivation runs f(x) forward and backward once per iteration.
func benchActivation(b *testing.B, f func(x *Var) *Var, rows, cols int) {
	o := tensor.Options{}.WithGenerator(tensor.NewGenerator(1))
	x := Param(o.Randn(rows, cols))
	g := o.Randn(rows, cols)
	b.SetBytes(int64(rows * cols * 4))
	for b.Loop() {
		f(x).BackwardWith(g)
		x.ZeroGrad()
	}
}

func BenchmarkReluForwardBackward(b *testing.B) {
	for _, s := range [][2]int{{64, 256}, {512, 256}} {
		b.Run(fmt.Sprintf("%dx%d", s[0], s[1]), func(b *testing.B) {
			benchActivation(b, (*Var).Relu, s[0], s[1])
		})
	}
}

func BenchmarkSigmoidForwardBackward(b *testing.B) {
	benchActivation(b, (*Var).Sigmoid, 512, 256)
}

func BenchmarkGeluForwardBackward(b *testing.B) {
	benchActivation(b, (*Var).Gelu, 512, 256)
}

func BenchmarkDropoutForwardBackward(b *testing.B) {
	gen := tensor.NewGenerator(7)
	b.Run("64x4096", func(b *testing.B) {
		benchActivation(b, func(x *Var) *Var { return Dropout(x, 0.5, gen) }, 64, 4096)
	})
}
