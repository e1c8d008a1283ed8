package autograd

import (
	"fmt"
	"testing"

	"github.com/nabla-go/nabla/internal/prim"
	"github.com/nabla-go/nabla/tensor"
)

// BenchmarkLinearReLU measures forward and backward of Linear(256 -> 128)
// followed by ReLU, the hidden layer of the course's MLP: written as the
// two separate ops ("unfused"), as one LinearActivation ("fused"), and, in
// "accumulate", unfused with the gradients left to accumulate over
// iterations (no ZeroGrad), which is what gradient accumulation over
// micro-batches does.
func BenchmarkLinearReLU(b *testing.B) {
	for _, batch := range []int{64, 512} {
		gen := tensor.NewGenerator(1)
		o := tensor.Options{}.WithGenerator(gen)
		x, w, bias := o.Randn(batch, 256), o.Randn(128, 256).Mul(1.0/16), o.Randn(128)
		unfused := func(x *Var, ps []*Var) *Var { return Linear(x, ps[0], ps[1]).Relu() }
		b.Run(fmt.Sprintf("batch=%d/unfused", batch), func(b *testing.B) {
			benchStep(b, unfused, x, w, bias)
		})
		b.Run(fmt.Sprintf("batch=%d/fused", batch), func(b *testing.B) {
			benchStep(b, func(x *Var, ps []*Var) *Var {
				return linearActivation(x, ps[0], ps[1], prim.Activation{Kind: prim.ActRelu})
			}, x, w, bias)
		})
		b.Run(fmt.Sprintf("batch=%d/accumulate", batch), func(b *testing.B) {
			ws, bs := Param(w.Clone()), Param(bias.Clone())
			in := Const(x)
			for b.Loop() {
				unfused(in, []*Var{ws, bs}).Sum().Backward()
			}
		})
	}
}
