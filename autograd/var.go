package autograd

import (
	"fmt"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/tensor"
)

// Var is a tensor together with its place in the autograd graph.
type Var struct {
	data         *tensor.Tensor
	grad         *tensor.Tensor
	requiresGrad bool
	node         *node // the operation that produced the Var; nil for leaves
	// ownGrad is set while grad is a tensor that Backward allocated for
	// this Var alone, which later gradients may then be added into in
	// place; a gradient installed by SetGrad may be shared and is never
	// written.
	ownGrad bool
}

// node is one recorded operation: the inputs it read and the rule that
// turns the gradient of its output into gradients of those inputs.
type node struct {
	op     string
	inputs []*Var
	rule   rule
}

// rule maps the upstream gradient g of an operation's output to one
// gradient per input, in order; an entry may be nil when that input needs
// none.
type rule func(g *tensor.Tensor) []*tensor.Tensor

// Param returns a leaf Var whose gradient Backward computes: a trainable
// parameter. Its dtype must be floating point.
func Param(t *tensor.Tensor) *Var {
	if t == nil {
		panic(&tensor.Error{Op: "Param", Kind: tensor.ErrArgument, Msg: "nil tensor"})
	}
	if !t.DType().IsFloat() {
		panic(&tensor.Error{Op: "Param", Kind: tensor.ErrDType,
			Msg: fmt.Sprintf("only float tensors can require gradients, got %v", t.DType())})
	}
	return &Var{data: t, requiresGrad: true}
}

// Const returns a leaf Var that takes no gradient: inputs, targets, masks.
func Const(t *tensor.Tensor) *Var {
	if t == nil {
		panic(&tensor.Error{Op: "Const", Kind: tensor.ErrArgument, Msg: "nil tensor"})
	}
	return &Var{data: t}
}

// Detach returns v's tensor cut from the graph. It shares memory with v:
// optimizers update parameters in place through it.
func (v *Var) Detach() *tensor.Tensor { return v.data }

// Grad returns the accumulated gradient, or nil before the first Backward
// (and after ZeroGrad). Later Backward calls add into the returned tensor
// in place, as PyTorch accumulates .grad; Clone it to keep a snapshot.
func (v *Var) Grad() *tensor.Tensor { return v.grad }

// SetGrad replaces the accumulated gradient (nil clears it); optimizers and
// gradient clipping use it.
func (v *Var) SetGrad(g *tensor.Tensor) {
	if g != nil {
		checkSameShape("SetGrad", v.data, g)
	}
	v.grad, v.ownGrad = g, false
}

// ZeroGrad clears the accumulated gradient.
func (v *Var) ZeroGrad() { v.grad, v.ownGrad = nil, false }

// RequiresGrad reports whether Backward computes a gradient for v: true for
// Params and for results of operations on them.
func (v *Var) RequiresGrad() bool { return v.requiresGrad }

// IsLeaf reports whether v was made by Param or Const rather than by an
// operation.
func (v *Var) IsLeaf() bool { return v.node == nil }

// SetData replaces a leaf's tensor, for moving parameters between devices
// and loading state. The shape may change; the gradient is cleared.
func (v *Var) SetData(t *tensor.Tensor) {
	if !v.IsLeaf() {
		panic(&tensor.Error{Op: "SetData", Kind: tensor.ErrArgument, Msg: "only leaf Vars (Param, Const) can have their data replaced"})
	}
	v.data, v.grad, v.ownGrad = t, nil, false
}

// Item returns the value of a one-element Var on any device, like loss.item().
func (v *Var) Item() float64 { return v.data.Item() }

// Shape returns a copy of v's dimensions.
func (v *Var) Shape() []int { return v.data.Shape() }

// Size returns the length of dimension d (negative counts from the end).
func (v *Var) Size(d int) int { return v.data.Size(d) }

// Dim returns v's rank.
func (v *Var) Dim() int { return v.data.Dim() }

// Numel returns the number of elements.
func (v *Var) Numel() int { return v.data.Numel() }

// DType returns the element type.
func (v *Var) DType() tensor.DType { return v.data.DType() }

// Device returns the device holding v's data.
func (v *Var) Device() device.Device { return v.data.Device() }

// String prints the data like a tensor, marking Vars that take gradients.
func (v *Var) String() string {
	s := v.data.String()
	if v.requiresGrad {
		op := "Param"
		if v.node != nil {
			op = v.node.op + "Backward"
		}
		s = s[:len(s)-1] + ", grad_fn=<" + op + ">)"
	}
	return s
}

func checkSameShape(op string, a, b *tensor.Tensor) {
	as, bs := a.Shape(), b.Shape()
	if fmt.Sprint(as) != fmt.Sprint(bs) {
		panic(&tensor.Error{Op: op, Kind: tensor.ErrShape, Msg: fmt.Sprintf("gradient shape %v does not match data shape %v", bs, as)})
	}
}
