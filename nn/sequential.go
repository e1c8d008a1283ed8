package nn

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/device"
)

// SequentialModule chains modules, made by Sequential.
type SequentialModule struct {
	Base
	layers []Module
}

// Sequential returns a module that applies mods in order, each to the
// previous one's output (torch.nn.Sequential). Its sub-modules are named
// "0", "1", ..., so the first layer's weight is "0.weight".
func Sequential(mods ...Module) *SequentialModule {
	s := &SequentialModule{}
	for _, m := range mods {
		s.Append(m)
	}
	return s
}

// Append adds m as the last layer and returns s.
func (s *SequentialModule) Append(m Module) *SequentialModule {
	s.RegisterModule(strconv.Itoa(len(s.layers)), m)
	s.layers = append(s.layers, m)
	return s
}

// Layers returns the chained modules in order.
func (s *SequentialModule) Layers() []Module { return append([]Module(nil), s.layers...) }

// Len returns the number of layers.
func (s *SequentialModule) Len() int { return len(s.layers) }

// At returns layer i.
func (s *SequentialModule) At(i int) Module { return s.layers[i] }

// Forward applies every layer in order. A Linear directly followed by a
// built-in activation (ReLU, LeakyReLU, Sigmoid, Tanh, ELU, GELU,
// Softplus) runs as one fused operation, which applies the bias
// and the activation in one pass; a ReLU directly followed by max pooling
// runs after the pooling, on the smaller tensor (see reluBeforeMaxPool).
// Values and gradients are those of the layers run one after the other in
// their written order, bit for bit. (While Summary traces a forward pass
// the layers run one by one, so that each reports its output shape.)
//
// An input on another device than a layer's parameters panics with an
// ErrDevice *tensor.Error that names the layer and its place
// ("layer 2, Linear(in_features=8, ...)"); tensor.Catch recovers it.
func (s *SequentialModule) Forward(x *autograd.Var) *autograd.Var { return s.forwardAt(x, "") }

// forwardAt is Forward for the Sequential named path in an outer one
// ("" at the top), which prefixes the names of its layers in errors.
func (s *SequentialModule) forwardAt(x *autograd.Var, path string) *autograd.Var {
	for i := 0; i < len(s.layers); i++ {
		at := strconv.Itoa(i)
		if path != "" {
			at = path + "." + at
		}
		if c, ok := s.layers[i].(inputChecker); ok {
			c.checkInput(x, at)
		}
		if i+1 < len(s.layers) && !tracing() {
			if lin, act, ok := fusedActivation(s.layers[i], s.layers[i+1]); ok {
				x = autogradOps.LinearActivation(x, lin.Weight, lin.Bias, act)
				i++
				continue
			}
			if relu, pool, ok := reluBeforeMaxPool(s.layers[i], s.layers[i+1]); ok {
				x = relu.Forward(pool.Forward(x))
				i++
				continue
			}
		}
		if inner, ok := s.layers[i].(*SequentialModule); ok {
			x = inner.forwardAt(x, at)
			continue
		}
		x = s.layers[i].Forward(x)
	}
	return observe(s, x)
}

// To moves every layer to dev and returns s.
func (s *SequentialModule) To(dev device.Device) Module { s.MoveTo(dev); return s }

// String prints the layers like PyTorch's repr.
func (s *SequentialModule) String() string {
	var b strings.Builder
	b.WriteString("Sequential(\n")
	for i, m := range s.layers {
		inner := strings.ReplaceAll(fmt.Sprint(m), "\n", "\n  ")
		fmt.Fprintf(&b, "  (%d): %s\n", i, inner)
	}
	b.WriteString(")")
	return b.String()
}
