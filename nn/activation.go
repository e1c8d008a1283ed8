package nn

import (
	"fmt"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/prim"
	"github.com/nabla-go/nabla/tensor"
)

// FuncModule is a module without parameters that applies a function: the
// activations, and layers made by Func.
type FuncModule struct {
	Base
	name string
	f    func(*autograd.Var) *autograd.Var
	// act is set by the built-in activation constructors: f is then
	// exactly that activation, and Sequential may fuse it into a
	// preceding Linear (see fusedActivation).
	act *prim.Activation
}

// Func returns a module that applies f; name is what String prints (for
// example "Swish()"). It lets a plain function take part in a Sequential.
func Func(name string, f func(x *autograd.Var) *autograd.Var) *FuncModule {
	return &FuncModule{name: name, f: f}
}

// Forward returns f(x).
func (m *FuncModule) Forward(x *autograd.Var) *autograd.Var { return observe(m, m.f(x)) }

// To returns m: it holds no state.
func (m *FuncModule) To(dev device.Device) Module { return m }

// String returns the name given to Func, like PyTorch's repr.
func (m *FuncModule) String() string { return m.name }

// Identity returns a module that returns its input (torch.nn.Identity).
func Identity() *FuncModule {
	return Func("Identity()", func(x *autograd.Var) *autograd.Var { return x })
}

// Step returns the Heaviside step activation: 1 where x > 0, else 0, the
// activation of Rosenblatt's perceptron. It has no gradient: Backward
// through it panics and says so, because the perceptron is trained by the
// perceptron learning rule, not by backpropagation.
func Step() *FuncModule { return Func("Step()", (*autograd.Var).Step) }

// Threshold returns x where x > threshold and value elsewhere
// (torch.nn.Threshold).
func Threshold(threshold, value float64) *FuncModule {
	return Func(fmt.Sprintf("Threshold(threshold=%v, value=%v)", threshold, value),
		func(x *autograd.Var) *autograd.Var { return x.Threshold(threshold, value) })
}

// Sigmoid returns 1/(1+e^-x) (torch.nn.Sigmoid).
func Sigmoid() *FuncModule {
	return activation("Sigmoid()", (*autograd.Var).Sigmoid, prim.Activation{Kind: prim.ActSigmoid})
}

// Tanh returns the hyperbolic tangent (torch.nn.Tanh).
func Tanh() *FuncModule {
	return activation("Tanh()", (*autograd.Var).Tanh, prim.Activation{Kind: prim.ActTanh})
}

// ReLU returns max(x, 0) (torch.nn.ReLU).
func ReLU() *FuncModule {
	return activation("ReLU()", (*autograd.Var).Relu, prim.Activation{Kind: prim.ActRelu})
}

// LeakyReLU returns x where x > 0 and slope·x elsewhere
// (torch.nn.LeakyReLU; PyTorch's default slope is 0.01).
func LeakyReLU(slope float64) *FuncModule {
	return activation(fmt.Sprintf("LeakyReLU(negative_slope=%v)", slope),
		func(x *autograd.Var) *autograd.Var { return x.LeakyRelu(slope) },
		prim.Activation{Kind: prim.ActLeakyRelu, Alpha: slope})
}

// ELU returns x where x > 0 and alpha·(e^x - 1) elsewhere (torch.nn.ELU;
// PyTorch's default alpha is 1).
func ELU(alpha float64) *FuncModule {
	return activation(fmt.Sprintf("ELU(alpha=%v)", alpha),
		func(x *autograd.Var) *autograd.Var { return x.Elu(alpha) },
		prim.Activation{Kind: prim.ActElu, Alpha: alpha})
}

// GELU returns x·Φ(x) (torch.nn.GELU, the exact form).
func GELU() *FuncModule {
	return activation("GELU(approximate='none')", (*autograd.Var).Gelu, prim.Activation{Kind: prim.ActGelu})
}

// Softplus returns ln(1+e^x) (torch.nn.Softplus with beta 1).
func Softplus() *FuncModule {
	return activation("Softplus(beta=1, threshold=20)", (*autograd.Var).Softplus, prim.Activation{Kind: prim.ActSoftplus})
}

// Softmax returns e^x / Σ e^x along dim (torch.nn.Softmax).
func Softmax(dim int) *FuncModule {
	return Func(fmt.Sprintf("Softmax(dim=%d)", dim), func(x *autograd.Var) *autograd.Var { return x.Softmax(dim) })
}

// Softmin returns Softmax(-x) along dim (torch.nn.Softmin).
func Softmin(dim int) *FuncModule {
	return Func(fmt.Sprintf("Softmin(dim=%d)", dim), func(x *autograd.Var) *autograd.Var { return x.Neg().Softmax(dim) })
}

// LogSoftmax returns x - log Σ e^x along dim, computed stably
// (torch.nn.LogSoftmax); follow it with NLLLoss.
func LogSoftmax(dim int) *FuncModule {
	return Func(fmt.Sprintf("LogSoftmax(dim=%d)", dim), func(x *autograd.Var) *autograd.Var { return x.LogSoftmax(dim) })
}

// PReLUModule is the parametric ReLU made by PReLU and PReLUChannels.
type PReLUModule struct {
	Base
	// Weight holds the learnable negative slopes: [1] shared, or [C] one
	// per channel (dimension 1 of the input).
	Weight *autograd.Var
}

// PReLU returns x where x > 0 and a·x elsewhere with one learnable slope a
// shared by all channels, initialised to 0.25 (torch.nn.PReLU()).
func PReLU() *PReLUModule { return PReLUChannels(1) }

// PReLUChannels returns a PReLU with one learnable slope per channel
// (dimension 1 of the input), each initialised to 0.25
// (torch.nn.PReLU(num_parameters=n)).
func PReLUChannels(n int) *PReLUModule {
	positive("PReLU", "num_parameters", n)
	m := &PReLUModule{}
	m.Weight = m.RegisterParameter("weight", autograd.Param(tensor.Full(0.25, n)))
	return m
}

// Forward applies the parametric ReLU.
func (m *PReLUModule) Forward(x *autograd.Var) *autograd.Var {
	m.checkInput(x, "")
	return observe(m, autograd.PReLU(x, m.Weight))
}

// To moves the slopes to dev and returns m.
func (m *PReLUModule) To(dev device.Device) Module { m.MoveTo(dev); return m }

// String prints the layer like PyTorch's repr.
func (m *PReLUModule) String() string {
	return fmt.Sprintf("PReLU(num_parameters=%d)", m.Weight.Numel())
}
