package autograd

import (
	"testing"

	"github.com/nabla-go/nabla/tensor"
)

// benchBatchNorm times one training step of BatchNorm on a float32 batch
// of shape: the forward pass (statistics, running-stat update,
// normalisation) and the backward pass into the input, weight and bias,
// seeded with a fixed output gradient so that no other op is timed.
func benchBatchNorm(b *testing.B, shape ...int) {
	o := tensor.Options{}.WithGenerator(tensor.NewGenerator(3))
	c := shape[1]
	x := Param(o.Randn(shape...))
	w, bias := Param(o.Rand(c).Add(0.5)), Param(o.Randn(c))
	rm, rv := tensor.Zeros(c), tensor.Ones(c)
	g := o.Randn(shape...)
	for b.Loop() {
		BatchNorm(x, rm, rv, w, bias, true, 0.1, 1e-5).BackwardWith(g)
		x.ZeroGrad()
		w.ZeroGrad()
		bias.ZeroGrad()
	}
}

// BatchNorm2d after a convolution of an MNIST-sized batch.
func BenchmarkBatchNorm2dForwardBackward(b *testing.B) { benchBatchNorm(b, 64, 32, 28, 28) }

// BatchNorm1d after a hidden layer of an MLP.
func BenchmarkBatchNorm1dForwardBackward(b *testing.B) { benchBatchNorm(b, 64, 256) }
