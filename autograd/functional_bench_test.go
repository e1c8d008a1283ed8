package autograd

import (
	"testing"

	"github.com/nabla-go/nabla/tensor"
)

// benchStep runs forward and backward of f on a batch x with parameters ws.
func benchStep(b *testing.B, f func(x *Var, ws []*Var) *Var, x *tensor.Tensor, ws ...*tensor.Tensor) {
	params := make([]*Var, len(ws))
	for i, w := range ws {
		params[i] = Param(w)
	}
	in := Const(x)
	for b.Loop() {
		f(in, params).Sum().Backward()
		for _, p := range params {
			p.ZeroGrad()
		}
	}
}

// An MNIST-sized convolution layer: 64 images, 32 -> 64 channels, 3x3,
// padding 1, on 14x14.
func BenchmarkConv2dForwardBackward(b *testing.B) {
	gen := tensor.NewGenerator(1)
	o := tensor.Options{}.WithGenerator(gen)
	benchStep(b, func(x *Var, ws []*Var) *Var {
		return Conv2d(x, ws[0], ws[1], Conv2dOptions{Padding: [2]int{1, 1}})
	}, o.Randn(64, 32, 14, 14), o.Randn(64, 32, 3, 3), o.Randn(64))
}

func BenchmarkMaxPool2dForwardBackward(b *testing.B) {
	x := Param(tensor.Randn(64, 32, 28, 28))
	for b.Loop() {
		MaxPool2d(x, Pool2dOptions{Kernel: [2]int{2, 2}}).Sum().Backward()
		x.ZeroGrad()
	}
}

func BenchmarkAvgPool2dForwardBackward(b *testing.B) {
	x := Param(tensor.Randn(64, 32, 28, 28))
	for b.Loop() {
		AvgPool2d(x, Pool2dOptions{Kernel: [2]int{2, 2}}).Sum().Backward()
		x.ZeroGrad()
	}
}

func BenchmarkBatchNorm2dTrain(b *testing.B) {
	x := Param(tensor.Randn(64, 32, 28, 28))
	w, bias := Param(tensor.Ones(32)), Param(tensor.Zeros(32))
	rm, rv := tensor.Zeros(32), tensor.Ones(32)
	for b.Loop() {
		BatchNorm(x, rm, rv, w, bias, true, 0.1, 1e-5).Sum().Backward()
		x.ZeroGrad()
	}
}

func BenchmarkCrossEntropy(b *testing.B) {
	x := Param(tensor.Randn(256, 10))
	labels := tensor.RandInt(0, 10, 256)
	for b.Loop() {
		CrossEntropy(x, labels, ReduceMean).Backward()
		x.ZeroGrad()
	}
}
