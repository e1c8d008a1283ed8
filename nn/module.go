package nn

import (
	"fmt"
	"strings"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/tensor"
)

// Module is a layer or a model: a function of its input with trainable
// parameters, state buffers and a training/evaluation mode, like PyTorch's
// nn.Module.
//
// Built-in layers and Sequential implement it; a model of your own can
// embed Base, register its parameters, buffers and sub-modules in its
// constructor, and write only Forward and To.
type Module interface {
	// Forward applies the module to x.
	Forward(x *autograd.Var) *autograd.Var
	// Parameters returns the trainable parameters, for an optimizer, each
	// once even when shared.
	Parameters() []*autograd.Var
	// NamedParameters returns the parameters with PyTorch's dotted names
	// ("0.weight", "0.bias", ...), in PyTorch's order, each once.
	NamedParameters() []NamedVar
	// NamedBuffers returns the state that is saved and moved with the
	// module but not trained (BatchNorm's running statistics), with
	// PyTorch's names; a buffer is a Const Var.
	NamedBuffers() []NamedVar
	// Train puts the module and its sub-modules in training mode (the
	// default): Dropout drops, BatchNorm uses batch statistics.
	Train()
	// Eval puts the module and its sub-modules in evaluation mode: Dropout
	// is the identity, BatchNorm uses its running statistics.
	Eval()
	// Training reports whether the module is in training mode.
	Training() bool
	// To moves the parameters and buffers to dev in place (through
	// Var.SetData) and returns the module itself, so that
	// nn.Sequential(...).To(dev) reads naturally. Gradients are cleared.
	To(dev device.Device) Module
}

// NamedVar is a parameter or buffer with its dotted name.
type NamedVar struct {
	Name string
	Var  *autograd.Var
}

// namedModule is a registered sub-module.
type namedModule struct {
	name string
	m    Module
}

// Base implements the bookkeeping half of Module: it records parameters,
// buffers and sub-modules under names, and derives Parameters,
// NamedParameters, NamedBuffers, Train, Eval and Training from them, with
// PyTorch's naming and ordering (a module's own parameters, then those of
// its sub-modules in registration order, prefixed by their names). Embed
// it in a module and write Forward and To:
//
//	type MLP struct {
//		nn.Base
//		fc1, fc2 *nn.LinearModule
//	}
//
//	func NewMLP() *MLP {
//		m := &MLP{fc1: nn.Linear(784, 128), fc2: nn.Linear(128, 10)}
//		m.RegisterModule("fc1", m.fc1)
//		m.RegisterModule("fc2", m.fc2)
//		return m
//	}
//
//	func (m *MLP) Forward(x *autograd.Var) *autograd.Var { return m.fc2.Forward(m.fc1.Forward(x).Relu()) }
//	func (m *MLP) To(dev device.Device) nn.Module  { m.MoveTo(dev); return m }
//
// Base also gives the module a String method that prints its tree as
// PyTorch prints a module (see Repr), and Summary describes it layer by
// layer. The zero Base is an empty module in training mode.
type Base struct {
	eval     bool
	params   []NamedVar
	buffers  []NamedVar
	children []namedModule
	names    map[string]bool
	// self is the module that embeds this Base, once known (see String).
	self Module
}

// register checks that name is new and well-formed.
func (b *Base) register(kind, name string) {
	if name == "" || strings.Contains(name, ".") {
		panic(&tensor.Error{Op: "Register" + kind, Kind: tensor.ErrArgument,
			Msg: fmt.Sprintf("name %q must be non-empty and contain no '.'", name)})
	}
	if b.names[name] {
		panic(&tensor.Error{Op: "Register" + kind, Kind: tensor.ErrArgument,
			Msg: fmt.Sprintf("the module already has an entry named %q", name)})
	}
	if b.names == nil {
		b.names = map[string]bool{}
	}
	b.names[name] = true
}

// RegisterParameter records the trainable v under name and returns v.
func (b *Base) RegisterParameter(name string, v *autograd.Var) *autograd.Var {
	b.register("Parameter", name)
	b.params = append(b.params, NamedVar{name, v})
	return v
}

// RegisterBuffer records state v (a Const Var) under name and returns v.
func (b *Base) RegisterBuffer(name string, v *autograd.Var) *autograd.Var {
	b.register("Buffer", name)
	b.buffers = append(b.buffers, NamedVar{name, v})
	return v
}

// RegisterModule records the sub-module m under name: its parameters and
// buffers appear under "name." and it follows Train and Eval.
func (b *Base) RegisterModule(name string, m Module) {
	b.register("Module", name)
	b.children = append(b.children, namedModule{name, m})
	if cb := baseOf(m); cb != nil && cb.self == nil {
		cb.self = m
	}
}

// Parameters returns every trainable parameter, each once.
func (b *Base) Parameters() []*autograd.Var {
	named := b.NamedParameters()
	out := make([]*autograd.Var, len(named))
	for i, p := range named {
		out[i] = p.Var
	}
	return out
}

// NamedParameters returns the parameters with dotted names, a shared
// parameter only under its first name (as PyTorch).
func (b *Base) NamedParameters() []NamedVar {
	var out []NamedVar
	seen := map[*autograd.Var]bool{}
	for _, p := range b.params {
		if !seen[p.Var] {
			seen[p.Var] = true
			out = append(out, p)
		}
	}
	for _, c := range b.children {
		for _, p := range c.m.NamedParameters() {
			if !seen[p.Var] {
				seen[p.Var] = true
				out = append(out, NamedVar{c.name + "." + p.Name, p.Var})
			}
		}
	}
	return out
}

// NamedBuffers returns the buffers with dotted names.
func (b *Base) NamedBuffers() []NamedVar {
	out := append([]NamedVar(nil), b.buffers...)
	for _, c := range b.children {
		for _, p := range c.m.NamedBuffers() {
			out = append(out, NamedVar{c.name + "." + p.Name, p.Var})
		}
	}
	return out
}

// NamedState returns the entries of the state dict in PyTorch's order: a
// module's parameters, then its buffers, then each sub-module's state.
// Shared parameters appear under every name.
func (b *Base) NamedState() []NamedVar {
	out := append(append([]NamedVar(nil), b.params...), b.buffers...)
	for _, c := range b.children {
		for _, p := range namedState(c.m) {
			out = append(out, NamedVar{c.name + "." + p.Name, p.Var})
		}
	}
	return out
}

// Children returns the registered sub-modules in order.
func (b *Base) Children() []Module {
	out := make([]Module, len(b.children))
	for i, c := range b.children {
		out[i] = c.m
	}
	return out
}

// Train switches the module and its sub-modules to training mode.
func (b *Base) Train() {
	b.eval = false
	for _, c := range b.children {
		c.m.Train()
	}
}

// Eval switches the module and its sub-modules to evaluation mode.
func (b *Base) Eval() {
	b.eval = true
	for _, c := range b.children {
		c.m.Eval()
	}
}

// Training reports whether the module is in training mode.
func (b *Base) Training() bool { return !b.eval }

// MoveTo moves the module's own parameters and buffers to dev in place and
// calls To on every sub-module: the body of a module's To method.
func (b *Base) MoveTo(dev device.Device) {
	for _, p := range append(append([]NamedVar(nil), b.params...), b.buffers...) {
		if t := p.Var.Detach(); t.Device() != dev {
			p.Var.SetData(t.To(dev))
		}
	}
	for _, c := range b.children {
		c.m.To(dev)
	}
}

// stater is implemented by modules that know their state dict order (every
// module that embeds Base).
type stater interface {
	NamedState() []NamedVar
}

// namedState returns m's state entries: in PyTorch's order when m embeds
// Base, otherwise its parameters followed by its buffers.
func namedState(m Module) []NamedVar {
	if s, ok := m.(stater); ok {
		return s.NamedState()
	}
	return append(m.NamedParameters(), m.NamedBuffers()...)
}

// Cast converts m's parameters and floating-point buffers to the float
// dtype dt in place (PyTorch's module.double() / .float()) and returns m.
// Integer buffers such as num_batches_tracked keep their dtype.
func Cast(m Module, dt tensor.DType) Module {
	if !dt.IsFloat() {
		panic(&tensor.Error{Op: "Cast", Kind: tensor.ErrDType,
			Msg: fmt.Sprintf("modules hold float parameters; cast to Float32 or Float64, not %v", dt)})
	}
	seen := map[*autograd.Var]bool{}
	for _, p := range namedState(m) {
		t := p.Var.Detach()
		if seen[p.Var] || !t.DType().IsFloat() || t.DType() == dt {
			continue
		}
		seen[p.Var] = true
		p.Var.SetData(t.As(dt))
	}
	return m
}

// ZeroGrad clears the gradients of every parameter of m.
func ZeroGrad(m Module) {
	for _, p := range m.Parameters() {
		p.ZeroGrad()
	}
}

// NumParameters returns the number of trainable numbers in m.
func NumParameters(m Module) int {
	n := 0
	for _, p := range m.Parameters() {
		n += p.Numel()
	}
	return n
}
