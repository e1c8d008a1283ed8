package autograd

import (
	"fmt"
	"testing"

	"github.com/nabla-go/nabla/tensor"
)

// BenchmarkCrossEntropyForwardBackward times one training step of the loss
// alone: CrossEntropy with the mean reduction, then Backward into the
// logits. The shapes are an MNIST-sized batch ([64, 10], [512, 10]) and a
// wide classifier ([256, 1000]).
func BenchmarkCrossEntropyForwardBackward(b *testing.B) {
	for _, s := range []struct{ m, c int }{{64, 10}, {512, 10}, {256, 1000}} {
		b.Run(fmt.Sprintf("%dx%d", s.m, s.c), func(b *testing.B) {
			o := tensor.Options{}.WithGenerator(tensor.NewGenerator(1))
			x := Param(o.Randn(s.m, s.c))
			labels := o.RandInt(0, int64(s.c), s.m)
			for b.Loop() {
				CrossEntropy(x, labels, ReduceMean).Backward()
				x.ZeroGrad()
			}
		})
	}
}
