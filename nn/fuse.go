package nn

import (
	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/internal/prim"
)

// autogradOps carries autograd's fused Linear-and-activation operation,
// which is no API of autograd, to Sequential.
var autogradOps = prim.AutogradOps[*autograd.Var]()

// activation returns a FuncModule that applies f, which must be exactly
// act; Sequential then may run it fused with a preceding Linear.
func activation(name string, f func(*autograd.Var) *autograd.Var, act prim.Activation) *FuncModule {
	m := Func(name, f)
	m.act = &act
	return m
}

// fusedActivation reports whether the layers a and b, adjacent in a
// Sequential, can run as one fused LinearActivation, and returns the
// Linear and the activation. Only the exact types qualify: a nn.Linear
// and a built-in activation module. A user's module, even one embedding
// LinearModule or wrapping an activation with Func, runs unfused, since
// its Forward may do anything.
func fusedActivation(a, b Module) (*LinearModule, prim.Activation, bool) {
	lin, ok := a.(*LinearModule)
	if !ok {
		return nil, prim.Activation{}, false
	}
	f, ok := b.(*FuncModule)
	if !ok || f.act == nil {
		return nil, prim.Activation{}, false
	}
	return lin, *f.act, true
}

// reluBeforeMaxPool reports whether a and b, adjacent in a Sequential, are
// the built-in ReLU followed by max pooling, which Sequential runs in the
// other order: max pooling and ReLU commute, and pooling first leaves
// ReLU a quarter of the elements (for 2×2 windows) in both passes.
//
// The results are those of the layers in their written order, bit for
// bit. Values: ReLU is max(x, 0), and max over a window of max(x, 0) is
// max(max over the window, 0), padding included (it reads -∞ either way).
// Gradients: where a window's maximum is positive, both orders pick the
// same first maximum (ReLU leaves positive values alone and maps the rest
// below them) and pass g to it; where it is not, ReLU-first sends g to a
// position whose input is not positive, where ReLU's gradient selects 0,
// and pool-first has ReLU's gradient select 0 before pooling's scatter
// adds it, so every input of the window gets +0 in both. NaN takes the
// first-NaN rule of pooling through both orders. Only ReLU qualifies: an
// activation that maps distinct inputs to one value (LeakyReLU's
// rounding, Sigmoid's saturation) could change which maximum is first.
func reluBeforeMaxPool(a, b Module) (*FuncModule, *PoolModule, bool) {
	f, ok := a.(*FuncModule)
	if !ok || f.act == nil || f.act.Kind != prim.ActRelu {
		return nil, nil, false
	}
	p, ok := b.(*PoolModule)
	if !ok || !p.Max {
		return nil, nil, false
	}
	return f, p, true
}
