// Package autograd records operations on tensors and computes gradients by
// reverse-mode automatic differentiation, as PyTorch's autograd does.
//
// A Var wraps a tensor. Param makes a leaf whose gradient is wanted, Const a
// leaf whose gradient is not. Every differentiable operation on Vars returns
// a new Var that remembers its inputs and the rule that maps the gradient of
// its output to gradients of its inputs; Backward walks that graph from a
// scalar back to the leaves and accumulates into each Param's Grad until
// ZeroGrad clears it.
//
// The gradient rules live together in rules.go (tensor operations) and
// rules_nn.go (the fused layer and loss operations of functional*.go), one
// small function per operation.
// Operations dispatch only through package tensor, so they run unchanged on
// every device.
// The backward kernels and fused primitives the rules call are not part of
// tensor's API: they come through the internal bridge internal/prim, which
// also carries the fused Linear-and-activation operation to nn.
//
// A Var in the graph hands out its data only through Detach, which returns
// the tensor cut from the graph: the notes' x.detach().cpu().numpy() is
// x.Detach().CPU().Float32s().
package autograd
