package prim

import "fmt"

// ActivationKind selects the function of an Activation.
type ActivationKind uint8

// The activations the fused bias epilogue applies: those that follow a
// fully connected layer.
const (
	ActNone      ActivationKind = iota // identity: the bias alone
	ActRelu                            // max(x, 0)
	ActLeakyRelu                       // x if x > 0 else Alpha·x
	ActSigmoid                         // 1/(1+e^-x)
	ActTanh                            // tanh x
	ActElu                             // x if x > 0 else Alpha·(e^x - 1)
	ActSoftplus                        // ln(1+e^x)
	ActGelu                            // x·Φ(x), the exact erf form
	NumActivations
)

// Activation is an elementwise activation together with its parameter, as
// the fused bias epilogue applies it after adding a bias: nn marks its
// built-in activation modules with one so that Sequential can fuse them
// with a preceding Linear. The zero value is no activation.
type Activation struct {
	Kind ActivationKind
	// Alpha is the negative slope of ActLeakyRelu and the alpha of ActElu;
	// the other kinds ignore it.
	Alpha float64
}

var activationNames = [...]string{"None", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "ELU", "Softplus", "GELU"}

// String names the activation like the nn module that applies it, with
// its parameter where it has one: "ReLU", "LeakyReLU(0.01)".
func (a Activation) String() string {
	if a.Kind >= NumActivations {
		return fmt.Sprintf("Activation(%d)", a.Kind)
	}
	switch a.Kind {
	case ActLeakyRelu, ActElu:
		return fmt.Sprintf("%s(%v)", activationNames[a.Kind], a.Alpha)
	}
	return activationNames[a.Kind]
}
