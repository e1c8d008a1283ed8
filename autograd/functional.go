package autograd

import (
	"fmt"
	"slices"

	"github.com/nabla-go/nabla/internal/prim"
	"github.com/nabla-go/nabla/tensor"
)

// This file holds the differentiable functional forms of the neural-network
// layers (PyTorch's torch.nn.functional): package nn wraps them in Modules.
// Their gradient rules are in rules_nn.go.

// failf panics with a *tensor.Error, the package's way of reporting misuse.
func failf(op string, kind error, format string, args ...any) {
	panic(&tensor.Error{Op: op, Kind: kind, Msg: fmt.Sprintf(format, args...)})
}

// sameFloat panics unless every Var (nil ones are skipped) has the first
// one's float dtype and device.
func sameFloat(op string, vs ...*Var) {
	first := vs[0]
	if !first.DType().IsFloat() {
		failf(op, tensor.ErrDType, "needs float32 or float64 operands, got %v; convert with .As(tensor.Float32)", first.DType())
	}
	for _, v := range vs[1:] {
		if v == nil {
			continue
		}
		if v.Device() != first.Device() {
			failf(op, tensor.ErrDevice, "operands are on different devices (%v and %v); move one with .To(%v) first", first.Device(), v.Device(), first.Device())
		}
		if v.DType() != first.DType() {
			failf(op, tensor.ErrDType, "dtypes %v and %v differ; convert one with .As", first.DType(), v.DType())
		}
	}
}

// Linear returns x·wᵀ + b, PyTorch's F.linear: x is [..., in] (any number
// of leading dimensions, or none), w is [out, in] and b is [out] or nil for
// no bias. The result is [..., out].
func Linear(x, w, b *Var) *Var {
	const op = "Linear"
	in, out := checkLinear(op, x, w, b)
	xShape := x.Shape()
	x2 := x.data.Reshape(-1, in)
	y := x2.MatMul(w.data.T())
	if b != nil {
		// y is the product's fresh output: add the bias into it rather
		// than into a new tensor (bit for bit what y.Add(b) gives).
		tensorOps.BiasActivationInPlace(y, b.data, prim.Activation{})
	}
	y = y.Reshape(append(slices.Clone(xShape[:len(xShape)-1]), out)...)
	r := linearRule(x2, w.data, xShape, x.requiresGrad, b != nil)
	if b == nil {
		return record(op, y, r, x, w)
	}
	return record(op, y, r, x, w, b)
}

// Conv2dOptions are the stride, padding and dilation of Conv2d, each as
// (height, width). The zero value of Stride and Dilation means 1, of
// Padding 0, so Conv2dOptions{} is PyTorch's default.
type Conv2dOptions struct {
	Stride   [2]int
	Padding  [2]int
	Dilation [2]int
}

// geometry returns the window of a kh × kw kernel under o.
func (o Conv2dOptions) geometry(kh, kw int) tensor.ConvGeometry {
	one := func(v int) int {
		if v == 0 {
			return 1
		}
		return v
	}
	return tensor.ConvGeometry{
		KernelH: kh, KernelW: kw,
		StrideH: one(o.Stride[0]), StrideW: one(o.Stride[1]),
		PadH: o.Padding[0], PadW: o.Padding[1],
		DilationH: one(o.Dilation[0]), DilationW: one(o.Dilation[1]),
	}
}

// Conv2d returns the 2-D convolution (PyTorch's cross-correlation,
// F.conv2d) of x [N, C, H, W] with the kernels w [O, C, KH, KW], plus the
// bias b [O] (nil for none). The result is [N, O, OH, OW] with OH =
// (H + 2·padding - dilation·(KH-1) - 1)/stride + 1, likewise OW. See
// tensor.Conv2d for how it runs.
func Conv2d(x, w, b *Var, opt Conv2dOptions) *Var {
	const op = "Conv2d"
	if x.Dim() != 4 {
		failf(op, tensor.ErrShape, "input must be [N, C, H, W], got shape %v", x.Shape())
	}
	if w.Dim() != 4 {
		failf(op, tensor.ErrShape, "weight must be [out, in, KH, KW], got shape %v", w.Shape())
	}
	c, h, wd := x.Size(1), x.Size(2), x.Size(3)
	oc, kh, kw := w.Size(0), w.Size(2), w.Size(3)
	if w.Size(1) != c {
		failf(op, tensor.ErrShape, "input has %d channels (shape %v) but the weight %v expects %d", c, x.Shape(), w.Shape(), w.Size(1))
	}
	if b != nil && (b.Dim() != 1 || b.Size(0) != oc) {
		failf(op, tensor.ErrShape, "bias must be [%d], got shape %v", oc, b.Shape())
	}
	sameFloat(op, x, w, b)
	g := opt.geometry(kh, kw)
	if err := g.Validate(); err != nil {
		failf(op, tensor.ErrArgument, "%v", err)
	}
	oh, ow := g.OutSize(h, wd)
	if oh < 1 || ow < 1 {
		failf(op, tensor.ErrShape, "kernel %dx%d (dilation %dx%d) is larger than the input %dx%d padded by %dx%d",
			kh, kw, g.DilationH, g.DilationW, h, wd, g.PadH, g.PadW)
	}
	var bias *tensor.Tensor
	if b != nil {
		bias = b.data
	}
	y := tensor.Conv2d(x.data, w.data, bias, g)
	r := conv2dRule(x.data, w.data, g, x.requiresGrad, w.requiresGrad, b != nil)
	if b == nil {
		return record(op, y, r, x, w)
	}
	return record(op, y, r, x, w, b)
}

// Pool2dOptions describe the window of MaxPool2d and AvgPool2d, each size
// as (height, width). Kernel is required; a zero Stride means the kernel
// size (PyTorch's default); Padding adds that many implicit elements on
// each side: -∞ for max pooling, 0 for average pooling (counted in the
// average, PyTorch's count_include_pad=True). Padding may be at most half
// the kernel size, as in PyTorch, so no window lies wholly in the padding.
type Pool2dOptions struct {
	Kernel  [2]int
	Stride  [2]int
	Padding [2]int
}

// poolSetup validates a pooling call and returns its geometry and output
// size.
func poolSetup(op string, x *Var, o Pool2dOptions) (g tensor.ConvGeometry, oh, ow int) {
	if x.Dim() != 4 {
		failf(op, tensor.ErrShape, "input must be [N, C, H, W], got shape %v", x.Shape())
	}
	sameFloat(op, x)
	st := o.Stride
	if st == [2]int{} {
		st = o.Kernel
	}
	g = tensor.ConvGeometry{KernelH: o.Kernel[0], KernelW: o.Kernel[1], StrideH: st[0], StrideW: st[1], PadH: o.Padding[0], PadW: o.Padding[1]}
	if err := g.Validate(); err != nil {
		failf(op, tensor.ErrArgument, "%v", err)
	}
	if 2*g.PadH > g.KernelH || 2*g.PadW > g.KernelW {
		failf(op, tensor.ErrArgument, "padding %dx%d must be at most half the kernel size %dx%d", g.PadH, g.PadW, g.KernelH, g.KernelW)
	}
	oh, ow = g.OutSize(x.Size(2), x.Size(3))
	if oh < 1 || ow < 1 {
		failf(op, tensor.ErrShape, "kernel %dx%d is larger than the input %dx%d padded by %dx%d",
			g.KernelH, g.KernelW, x.Size(2), x.Size(3), g.PadH, g.PadW)
	}
	return g, oh, ow
}

// MaxPool2d returns the maximum of each window of x [N, C, H, W]
// (F.max_pool2d). The gradient goes to the first maximum of each window, as
// in PyTorch.
func MaxPool2d(x *Var, opt Pool2dOptions) *Var {
	const op = "MaxPool2d"
	g, _, _ := poolSetup(op, x, opt)
	y, idx := tensor.MaxPool2d(x.data, g)
	return record(op, y, maxPool2dRule(idx, x.Shape(), g), x)
}

// AvgPool2d returns the mean of each window of x [N, C, H, W]
// (F.avg_pool2d with count_include_pad=True).
func AvgPool2d(x *Var, opt Pool2dOptions) *Var {
	const op = "AvgPool2d"
	g, _, _ := poolSetup(op, x, opt)
	return record(op, tensor.AvgPool2d(x.data, g), avgPool2dRule(x.Shape(), g), x)
}

// Dropout zeroes each element of x with probability p and scales the
// survivors by 1/(1-p) (inverted dropout, F.dropout in training mode), so
// the expected value is unchanged and evaluation needs no rescaling. The
// mask is drawn from gen, or from the default generator when gen is nil,
// so tensor.ManualSeed makes it reproducible. It is never stored: the
// backward pass recomputes it from the same Philox counters. p = 0
// returns x; p = 1 zeroes everything.
func Dropout(x *Var, p float64, gen *tensor.Generator) *Var {
	const op = "Dropout"
	if !(p >= 0 && p <= 1) {
		failf(op, tensor.ErrArgument, "probability %v is outside [0, 1]", p)
	}
	sameFloat(op, x)
	if p == 0 {
		return x
	}
	if p == 1 {
		mask := tensor.ZerosLike(x.data)
		return record(op, x.data.Mul(mask), mulByRule(mask), x)
	}
	y, seed, offset := tensorOps.Dropout(x.data, p, gen)
	return record(op, y, dropoutRule(p, seed, offset), x)
}

// PReLU returns x where x > 0 and weight·x elsewhere (F.prelu). weight
// holds one slope shared by all channels, or one per channel (dimension 1
// of x).
func PReLU(x, weight *Var) *Var {
	const op = "PReLU"
	sameFloat(op, x, weight)
	a := weight.Reshape(-1)
	if k := a.Size(0); k != 1 {
		if x.Dim() < 2 || x.Size(1) != k {
			failf(op, tensor.ErrShape, "%d slopes need an input with %d channels in dimension 1, got shape %v", k, k, x.Shape())
		}
		shape := make([]int, x.Dim())
		for i := range shape {
			shape[i] = 1
		}
		shape[1] = k
		a = a.Reshape(shape...)
	} else {
		a = a.Reshape()
	}
	return Where(x.data.Gt(0.0), x, x.Mul(a))
}

// BatchNorm normalises x [N, C, ...] per channel (dimension 1) and applies
// the affine map weight·x̂ + bias (F.batch_norm); weight and bias [C] may be
// nil. In training it uses the batch's mean and biased variance and, when
// runningMean and runningVar [C] are not nil, updates them in place as
// running = (1-momentum)·running + momentum·batch, with the unbiased
// variance, as PyTorch does. Otherwise it normalises with the running
// statistics, which must then be given.
func BatchNorm(x *Var, runningMean, runningVar *tensor.Tensor, weight, bias *Var, training bool, momentum, eps float64) *Var {
	const op = "BatchNorm"
	if x.Dim() < 2 {
		failf(op, tensor.ErrShape, "input must be [N, C, ...], got shape %v", x.Shape())
	}
	sameFloat(op, x, weight, bias)
	c := x.Size(1)
	for _, p := range []*Var{weight, bias} {
		if p != nil && (p.Dim() != 1 || p.Size(0) != c) {
			failf(op, tensor.ErrShape, "weight and bias must be [%d] for an input with %d channels, got shape %v", c, c, p.Shape())
		}
	}
	for _, s := range []*tensor.Tensor{runningMean, runningVar} {
		if s != nil && (s.Dim() != 1 || s.Size(0) != c) {
			failf(op, tensor.ErrShape, "running statistics must be [%d] for an input with %d channels, got shape %v", c, c, s.Shape())
		}
	}
	if (runningMean == nil) != (runningVar == nil) {
		failf(op, tensor.ErrArgument, "give both running statistics or neither")
	}
	if !training && runningMean == nil {
		failf(op, tensor.ErrArgument, "evaluation mode normalises with the running statistics, but none were given")
	}
	m := x.Numel() / max(c, 1)
	xd := x.data
	var mean, invstd *tensor.Tensor
	if training {
		if m <= 1 {
			failf(op, tensor.ErrShape, "expected more than 1 value per channel when training, got input of shape %v", x.Shape())
		}
		var v *tensor.Tensor
		mean, v = tensorOps.BatchNormStats(xd) // [C] each; v is the biased variance
		invstd = v.Add(eps).Rsqrt()
		if runningMean != nil {
			runningMean.CopyFrom(runningMean.Affine(1-momentum, 0).Add(mean.Mul(momentum)))
			runningVar.CopyFrom(runningVar.Affine(1-momentum, 0).Add(v.Mul(momentum * float64(m) / float64(m-1))))
		}
	} else {
		mean = runningMean
		invstd = runningVar.Add(eps).Rsqrt()
	}
	inputs := []*Var{x}
	var w, b *tensor.Tensor
	if weight != nil {
		inputs = append(inputs, weight)
		w = weight.data
	}
	if bias != nil {
		inputs = append(inputs, bias)
		b = bias.data
	}
	// x̂ is kept only for a backward pass that will happen (record keeps
	// the rule under the same condition).
	keep := IsGradEnabled() && slices.ContainsFunc(inputs, func(v *Var) bool { return v.requiresGrad })
	y, xhat := tensorOps.BatchNormForward(xd, mean, invstd, w, b, keep)
	want := prim.BatchNormGrads{X: x.requiresGrad, Weight: weight != nil && weight.requiresGrad, Bias: bias != nil && bias.requiresGrad}
	return record(op, y, batchNormRule(xhat, invstd, w, training, want, weight != nil, bias != nil), inputs...)
}
