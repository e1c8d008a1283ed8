// Package prim is the bridge through which the packages of this module
// reach one another's primitives: the gradient kernels, fused optimizer
// steps and fused layer epilogues that autograd, nn and optim are built
// from but that no user calls. Exported from tensor or autograd they would
// be API that users read about and that we would have to keep; unexported,
// the packages above could not reach them. So tensor and autograd register
// their unexported implementations here in an init function, and the
// packages above fetch them once into a package-level variable (Go
// initialises an imported package first, so the registration is always in
// place by then).
//
// The tables are generic over the tensor, generator and Var types because
// this package sits below tensor and autograd and cannot name their types
// without an import cycle; a wrong type argument panics on first use
// rather than failing at compile time, once, at program start-up.
package prim

import (
	"fmt"

	"github.com/nabla-go/nabla/device"
)

// Tensor holds tensor's primitives. T is *tensor.Tensor and G
// *tensor.Generator; every function panics with a *tensor.Error on misuse,
// as tensor's exported operations do.
type Tensor[T, G any] struct {
	// ActivationGrad returns g·f'(·) for the activation op (with the
	// forward op's scalars alpha and beta) in one pass, reading a, the
	// operand op.BackwardOperand() names: the forward input or output.
	ActivationGrad func(op device.UnaryOp, g, a T, alpha, beta float64) T

	// BiasActivation returns act(t + bias) for t [..., N] and bias [N] in
	// one pass, equal bit for bit to t.Add(bias) followed by act.
	BiasActivation func(t, bias T, act Activation) T
	// BiasActivationInPlace overwrites t with act(t + bias) and returns
	// t; t's leading dimensions must merge into rows.
	BiasActivationInPlace func(t, bias T, act Activation) T
	// ApplyActivation returns act(x) with the ordinary elementwise op (x
	// itself for ActNone): the unfused form of the epilogue.
	ApplyActivation func(act Activation, x T) T

	// BatchNormStats returns the per-channel mean and biased variance of
	// x [N, C, ...] over every dimension but 1.
	BatchNormStats func(x T) (mean, variance T)
	// BatchNormForward returns y = (x - mean)·invstd·weight + bias per
	// channel (weight and bias may be nil) and, with keepXhat, the
	// normalised input xhat for the backward pass.
	BatchNormForward func(x, mean, invstd, weight, bias T, keepXhat bool) (y, xhat T)
	// BatchNormBackward returns the gradients of BatchNormForward that
	// want selects (nil for the others).
	BatchNormBackward func(g, xhat, invstd, weight T, training bool, want BatchNormGrads) (dx, dweight, dbias T)

	// Conv2dBackward returns the gradients of tensor.Conv2d(x, w, b, g)
	// for the output gradient dy, each only when asked for.
	Conv2dBackward func(dy, x, w T, g device.ConvGeometry, wantX, wantW, wantB bool) (dx, dw, db T)
	// MaxPool2dBackward scatters dy to the positions idx (from
	// tensor.MaxPool2d) of an input plane of height × width.
	MaxPool2dBackward func(dy, idx T, height, width int, g device.ConvGeometry) T
	// AvgPool2dBackward spreads dy over the windows of an input plane of
	// height × width.
	AvgPool2dBackward func(dy T, height, width int, g device.ConvGeometry) T

	// CrossEntropy returns the per-row cross-entropy of the logits x [M, C]
	// against Int64 labels [M], and the row log-sum-exps that
	// CrossEntropyBackward needs, from one pass over x.
	CrossEntropy func(x, labels T) (loss, lse T)
	// CrossEntropyBackward returns the gradient [M, C] of CrossEntropy's
	// loss for the upstream gradient g [M].
	CrossEntropyBackward func(x, lse, labels, g T) T

	// Dropout zeroes each element of x with probability p and scales the
	// others by 1/(1-p), drawing from x.Numel() Philox counters reserved
	// from gen (the default generator when nil), and returns the key and
	// first counter for DropoutWith.
	Dropout func(x T, p float64, gen G) (y T, seed, offset uint64)
	// DropoutWith applies the mask that Dropout drew under seed and
	// offset: dropout's backward pass.
	DropoutWith func(x T, p float64, seed, offset uint64) T

	// CanFuseOptim reports whether the fused steps accept these tensors:
	// contiguous, of one shape, float dtype and device (nil skipped).
	CanFuseOptim func(p T, others ...T) bool
	// FusedSGDStep applies device.SGDStep to p in place, updating the
	// momentum buffer buf (nil without momentum).
	FusedSGDStep func(p, g, buf T, h device.OptimHyper)
	// FusedAdamStep applies device.AdamStep to p in place, updating the
	// moments m, v and, with AMSGrad, vmax (nil otherwise).
	FusedAdamStep func(p, g, m, v, vmax T, h device.OptimHyper)
	// FusedAdagradStep applies device.AdagradStep to p in place, updating
	// the sum of squared gradients.
	FusedAdagradStep func(p, g, sum T, h device.OptimHyper)
	// FusedRMSPropStep applies device.RMSPropStep to p in place, updating
	// the square average v, the momentum buffer buf (nil without momentum)
	// and, when centered, the gradient average gavg (nil otherwise).
	FusedRMSPropStep func(p, g, v, buf, gavg T, h device.OptimHyper)
}

// BatchNormGrads selects the gradients BatchNormBackward computes.
type BatchNormGrads struct {
	X, Weight, Bias bool
}

// Autograd holds autograd's primitives for nn. V is *autograd.Var.
type Autograd[V any] struct {
	// LinearActivation returns act(x·wᵀ + b) (b may be nil) as one
	// recorded operation, bias and activation in one pass over the
	// product: nn.Sequential runs a Linear followed by a built-in
	// activation through it.
	LinearActivation func(x, w, b V, act Activation) V
}

var tensorOps, autogradOps any

// RegisterTensor installs tensor's primitives; package tensor calls it
// from its init function, once.
func RegisterTensor[T, G any](ops *Tensor[T, G]) { register(&tensorOps, "RegisterTensor", ops) }

// TensorOps returns the primitives tensor registered. Call it as
// prim.TensorOps[*tensor.Tensor, *tensor.Generator]().
func TensorOps[T, G any]() *Tensor[T, G] { return lookup[*Tensor[T, G]](tensorOps, "tensor") }

// RegisterAutograd installs autograd's primitives; package autograd calls
// it from its init function, once.
func RegisterAutograd[V any](ops *Autograd[V]) { register(&autogradOps, "RegisterAutograd", ops) }

// AutogradOps returns the primitives autograd registered. Call it as
// prim.AutogradOps[*autograd.Var]().
func AutogradOps[V any]() *Autograd[V] { return lookup[*Autograd[V]](autogradOps, "autograd") }

func register(slot *any, name string, ops any) {
	if *slot != nil {
		panic("prim: " + name + " called twice")
	}
	*slot = ops
}

func lookup[P any](slot any, pkg string) P {
	ops, ok := slot.(P)
	if !ok {
		panic(fmt.Sprintf("prim: no %s primitives of type %T registered (found %T); import github.com/nabla-go/nabla/%s, whose init registers them", pkg, ops, slot, pkg))
	}
	return ops
}
