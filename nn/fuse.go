package nn

import (
	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/tensor"
)

// activation returns a FuncModule that applies f, which must be exactly
// act; Sequential then may run it fused with a preceding Linear.
func activation(name string, f func(*autograd.Var) *autograd.Var, act tensor.Activation) *FuncModule {
	m := Func(name, f)
	m.act = &act
	return m
}

// fusedActivation reports whether the layers a and b, adjacent in a
// Sequential, can run as one autograd.LinearActivation, and returns the
// Linear and the activation. Only the exact types qualify: a nn.Linear
// and a built-in activation module. A user's module, even one embedding
// LinearModule or wrapping an activation with Func, runs unfused, since
// its Forward may do anything.
func fusedActivation(a, b Module) (*LinearModule, tensor.Activation, bool) {
	lin, ok := a.(*LinearModule)
	if !ok {
		return nil, tensor.Activation{}, false
	}
	f, ok := b.(*FuncModule)
	if !ok || f.act == nil {
		return nil, tensor.Activation{}, false
	}
	return lin, *f.act, true
}
