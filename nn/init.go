package nn

import (
	"fmt"
	"math"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/tensor"
)

// The initialisers of torch.nn.init. Each overwrites a Var's data in place
// (views of it see the new values) with numbers drawn from the tensor
// package's default generator, so tensor.ManualSeed makes them
// reproducible. They draw what PyTorch's draw after the same seed: each
// computes its bounds or standard deviation with PyTorch's float64
// arithmetic in PyTorch's order and fills the tensor with
// tensor.Options.Uniform or Normal, which are torch's uniform_ and
// normal_ (bounds rounded to float32 for a Float32 tensor). A tensor is
// filled in row-major order; PyTorch fills a non-contiguous tensor in
// memory order, and normal_ then takes its one-at-a-time path, so for a
// non-contiguous view (a transposed weight, say) the two differ.

// fill copies t into v's data.
func fill(v *autograd.Var, t *tensor.Tensor) { v.Detach().CopyFrom(t) }

// opts returns tensor options matching v's device and dtype.
func opts(op string, v *autograd.Var) tensor.Options {
	if !v.DType().IsFloat() {
		panic(&tensor.Error{Op: op, Kind: tensor.ErrDType, Msg: fmt.Sprintf("initialises float tensors, got %v", v.DType())})
	}
	return tensor.On(v.Device()).Of(v.DType())
}

// InitUniform fills v with values drawn uniformly from [a, b)
// (nn.init.uniform_).
func InitUniform(v *autograd.Var, a, b float64) {
	if !(a <= b) {
		panic(&tensor.Error{Op: "InitUniform", Kind: tensor.ErrArgument, Msg: fmt.Sprintf("empty range [%v, %v)", a, b)})
	}
	fill(v, opts("InitUniform", v).Uniform(a, b, v.Shape()...))
}

// InitNormal fills v with values drawn from N(mean, std²) (nn.init.normal_).
func InitNormal(v *autograd.Var, mean, std float64) {
	if !(std >= 0) {
		panic(&tensor.Error{Op: "InitNormal", Kind: tensor.ErrArgument, Msg: fmt.Sprintf("standard deviation %v is negative", std)})
	}
	fill(v, opts("InitNormal", v).Normal(mean, std, v.Shape()...))
}

// InitConstant fills v with c (nn.init.constant_).
func InitConstant(v *autograd.Var, c float64) { fill(v, opts("InitConstant", v).Full(c)) }

// InitZeros fills v with zeros (nn.init.zeros_).
func InitZeros(v *autograd.Var) { InitConstant(v, 0) }

// InitOnes fills v with ones (nn.init.ones_).
func InitOnes(v *autograd.Var) { InitConstant(v, 1) }

// Fans returns the fan-in and fan-out of a weight of the given shape, as
// PyTorch computes them: for [out, in, k...] (Linear [out, in], Conv2d
// [out, in, kh, kw]) fanIn = in·Πk and fanOut = out·Πk. It panics for
// fewer than 2 dimensions.
func Fans(shape []int) (fanIn, fanOut int) {
	if len(shape) < 2 {
		panic(&tensor.Error{Op: "Fans", Kind: tensor.ErrShape,
			Msg: fmt.Sprintf("fan in and fan out need a tensor of at least 2 dimensions, got shape %v", shape)})
	}
	receptive := 1
	for _, d := range shape[2:] {
		receptive *= d
	}
	return shape[1] * receptive, shape[0] * receptive
}

// Fan chooses which fan Kaiming initialisation preserves.
type Fan int

// The fans of KaimingUniform and KaimingNormal.
const (
	FanIn  Fan = iota // preserve the variance of activations in the forward pass (the default)
	FanOut            // preserve the variance of gradients in the backward pass
)

// Gain returns the recommended gain for a nonlinearity, as
// nn.init.calculate_gain: 1 for "linear", "conv2d", "sigmoid" and
// "identity"; 5/3 for "tanh"; √2 for "relu"; √(2/(1+param²)) for
// "leaky_relu" (param is the negative slope); 3/4 for "selu".
func Gain(nonlinearity string, param float64) float64 {
	switch nonlinearity {
	case "linear", "identity", "conv1d", "conv2d", "conv3d", "sigmoid":
		return 1
	case "tanh":
		return 5.0 / 3
	case "relu":
		return math.Sqrt2
	case "leaky_relu":
		return math.Sqrt(2 / (1 + param*param))
	case "selu":
		return 3.0 / 4
	}
	panic(&tensor.Error{Op: "Gain", Kind: tensor.ErrArgument, Msg: fmt.Sprintf("unknown nonlinearity %q", nonlinearity)})
}

// XavierUniform fills v with U(-a, a), a = gain·√(6/(fanIn+fanOut))
// (nn.init.xavier_uniform_; PyTorch's default gain is 1), computed as
// PyTorch does: a = √3·(gain·√(2/(fanIn+fanOut))).
func XavierUniform(v *autograd.Var, gain float64) {
	in, out := Fans(v.Shape())
	std := gain * math.Sqrt(2/float64(in+out))
	a := math.Sqrt(3) * std
	InitUniform(v, -a, a)
}

// XavierNormal fills v with N(0, std²), std = gain·√(2/(fanIn+fanOut))
// (nn.init.xavier_normal_).
func XavierNormal(v *autograd.Var, gain float64) {
	in, out := Fans(v.Shape())
	InitNormal(v, 0, gain*math.Sqrt(2/float64(in+out)))
}

// kaimingStd is gain/√fan for the leaky-ReLU gain of slope a.
func kaimingStd(v *autograd.Var, a float64, mode Fan) float64 {
	in, out := Fans(v.Shape())
	fan := in
	if mode == FanOut {
		fan = out
	}
	return Gain("leaky_relu", a) / math.Sqrt(float64(fan))
}

// KaimingUniform fills v with U(-b, b), b = gain·√(3/fan), for a layer
// followed by a leaky ReLU of negative slope a (nn.init.kaiming_uniform_
// with nonlinearity='leaky_relu'): a = 0 gives ReLU's gain √2, the usual
// He initialisation; mode picks fan-in (the default) or fan-out. Linear
// and Conv2d use a = √5, which makes b = 1/√fanIn.
func KaimingUniform(v *autograd.Var, a float64, mode Fan) {
	b := math.Sqrt(3) * kaimingStd(v, a, mode)
	InitUniform(v, -b, b)
}

// KaimingNormal fills v with N(0, std²), std = gain/√fan, with the gain of
// a leaky ReLU of negative slope a (0 for ReLU) (nn.init.kaiming_normal_).
func KaimingNormal(v *autograd.Var, a float64, mode Fan) {
	InitNormal(v, 0, kaimingStd(v, a, mode))
}
