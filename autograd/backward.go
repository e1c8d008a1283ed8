package autograd

import (
	"fmt"

	"github.com/nabla-go/nabla/tensor"
)

// Backward computes the gradient of the scalar v with respect to every
// Param it depends on and adds it to their Grad. Gradients accumulate over
// calls until ZeroGrad, as in PyTorch. The graph is kept, so Backward may be
// called again on the same result.
func (v *Var) Backward() {
	if v.Numel() != 1 {
		panic(&tensor.Error{Op: "Backward", Kind: tensor.ErrShape,
			Msg: fmt.Sprintf("needs a scalar (one element), got shape %v; reduce it first (e.g. .Sum()) or call BackwardWith with an upstream gradient", v.Shape())})
	}
	v.BackwardWith(tensor.OnesLike(v.data))
}

// BackwardWith runs backpropagation from v with the upstream gradient g
// (dL/dv for some scalar L), which must have v's shape, dtype and device.
func (v *Var) BackwardWith(g *tensor.Tensor) {
	if !v.requiresGrad {
		panic(&tensor.Error{Op: "Backward", Kind: tensor.ErrArgument,
			Msg: "the value does not require gradients: it was computed from Consts only, or inside NoGrad"})
	}
	checkSameShape("BackwardWith", v.data, g)
	if g.DType() != v.DType() || g.Device() != v.Device() {
		panic(&tensor.Error{Op: "BackwardWith", Kind: tensor.ErrDType,
			Msg: fmt.Sprintf("gradient is %v on %v, the value is %v on %v", g.DType(), g.Device(), v.DType(), v.Device())})
	}
	grads := map[*Var]*tensor.Tensor{v: g}
	for _, n := range topoOrder(v) {
		g := grads[n]
		delete(grads, n) // free intermediate gradients as soon as they are used
		if g == nil {
			continue
		}
		if n.node == nil {
			if n.requiresGrad {
				n.accumulate(g)
			}
			continue
		}
		gs := n.node.rule(g)
		for i, in := range n.node.inputs {
			if !in.requiresGrad || gs[i] == nil {
				continue
			}
			if prev := grads[in]; prev != nil {
				grads[in] = prev.Add(gs[i])
			} else {
				grads[in] = gs[i]
			}
		}
	}
}

// accumulate adds g into a leaf's gradient. The first gradient is copied so
// that a leaf never shares memory with a tensor some rule may still hold;
// later ones are added into that copy in place, as PyTorch accumulates
// .grad, without allocating. A gradient installed with SetGrad is not the
// Var's to overwrite (the caller may hold or share it), so the first sum
// into it is a new tensor, which later ones then reuse.
func (v *Var) accumulate(g *tensor.Tensor) {
	switch {
	case v.grad == nil:
		v.grad = g.Clone()
	case v.ownGrad:
		v.grad.AddInPlace(g)
		return
	default:
		v.grad = v.grad.Add(g)
	}
	v.ownGrad = true
}

// topoOrder returns the Vars that v depends on (through recorded
// operations) with every Var before all of its inputs. It is iterative so
// that very deep graphs cannot overflow the stack.
func topoOrder(v *Var) []*Var {
	type frame struct {
		v    *Var
		next int
	}
	visited := map[*Var]bool{v: true}
	var post []*Var
	stack := []frame{{v: v}}
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		if top.v.node != nil && top.next < len(top.v.node.inputs) {
			in := top.v.node.inputs[top.next]
			top.next++
			if in.requiresGrad && !visited[in] {
				visited[in] = true
				stack = append(stack, frame{v: in})
			}
			continue
		}
		post = append(post, top.v)
		stack = stack[:len(stack)-1]
	}
	// Reverse post-order: consumers before producers.
	for i, j := 0, len(post)-1; i < j; i, j = i+1, j-1 {
		post[i], post[j] = post[j], post[i]
	}
	return post
}

// record wraps out, the result of op applied to inputs. When gradients are
// being recorded and some input requires one, the result remembers the
// inputs and the rule; otherwise it is a plain constant.
func record(op string, out *tensor.Tensor, r rule, inputs ...*Var) *Var {
	if !IsGradEnabled() {
		return &Var{data: out}
	}
	for _, in := range inputs {
		if in.requiresGrad {
			return &Var{data: out, requiresGrad: true, node: &node{op: op, inputs: inputs, rule: r}}
		}
	}
	return &Var{data: out}
}
