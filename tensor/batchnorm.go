package tensor

import (
	"slices"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/prim"
)

// The batch-norm primitives (device.Backend.BatchNormStats,
// BatchNormForward and BatchNormBackward) for an input [N, C, ...] whose
// channels are dimension 1: the backends see it as [N, C, L] with L the
// product of the trailing dimensions (1 for [N, C]), a view when the
// strides allow it and a contiguous copy otherwise.

// batchNormStats returns the per-channel mean and biased variance of x,
// an [N, C, ...] float tensor, over every dimension but 1, as two [C]
// tensors of x's dtype. Both dtypes accumulate in float64 with a
// numerically stable scheme; an empty batch gives NaN.
func batchNormStats(x *Tensor) (mean, variance *Tensor) {
	const op = "BatchNormStats"
	x3 := bnPlanes(op, "input", x)
	c := x3.layout.Shape[1]
	mean = x.emptyLike(op, x.DType(), []int{c})
	variance = x.emptyLike(op, x.DType(), []int{c})
	check(op, x.be.BatchNormStats(mean.view(), variance.view(), x3.view()))
	return mean, variance
}

// batchNormForward normalises x [N, C, ...] per channel: xhat =
// (x - mean)·invstd and y = xhat·weight + bias, with mean, invstd, weight
// and bias [C] tensors of x's dtype and device (weight and bias may be nil:
// 1 and 0). y has x's shape; xhat, for the backward pass, is returned only
// when keepXhat is set (nil otherwise, saving its memory traffic).
func batchNormForward(x, mean, invstd, weight, bias *Tensor, keepXhat bool) (y, xhat *Tensor) {
	const op = "BatchNormForward"
	x3 := bnPlanes(op, "input", x)
	bnChannels(op, x, []bnVec{{"mean", mean, true}, {"invstd", invstd, true}, {"weight", weight, false}, {"bias", bias, false}})
	y = x.emptyLike(op, x.DType(), x.layout.Shape)
	var hv device.View
	if keepXhat {
		xhat = x.emptyLike(op, x.DType(), x.layout.Shape)
		hv = xhat.Reshape(x3.layout.Shape...).view()
	}
	check(op, x.be.BatchNormForward(y.Reshape(x3.layout.Shape...).view(), hv, x3.view(),
		mean.view(), invstd.view(), bnOptView(weight), bnOptView(bias)))
	return y, xhat
}

// batchNormBackward returns the gradients of batchNormForward from the
// output gradient g and the saved xhat (one [N, C, ...] shape), and invstd
// and weight ([C]; weight nil means 1), each nil unless want asks for it:
// dweight = Σ g·xhat and dbias = Σ g over every dimension but 1, and dx =
// invstd·(w·g - w·(Σg + xhat·Σ g·xhat)/m) in training (m = N·...: the
// statistics came from the batch) or invstd·w·g in evaluation (they were
// fixed).
func batchNormBackward(g, xhat, invstd, weight *Tensor, training bool, want prim.BatchNormGrads) (dx, dweight, dbias *Tensor) {
	const op = "BatchNormBackward"
	g3 := bnPlanes(op, "gradient", g)
	sameDevice(op, g, xhat)
	sameDType(op, g, xhat)
	if !slices.Equal(g.layout.Shape, xhat.layout.Shape) {
		fail(op, ErrShape, "gradient of shape %v and xhat of shape %v differ; pass the xhat that BatchNormForward returned", g.layout.Shape, xhat.layout.Shape)
	}
	h3 := xhat.Reshape(g3.layout.Shape...)
	bnChannels(op, g, []bnVec{{"invstd", invstd, true}, {"weight", weight, false}})
	c := g3.layout.Shape[1]
	var dxv, dwv, dbv device.View
	if want.X {
		dx = g.emptyLike(op, g.DType(), g.layout.Shape)
		dxv = dx.Reshape(g3.layout.Shape...).view()
	}
	if want.Weight {
		dweight = g.emptyLike(op, g.DType(), []int{c})
		dwv = dweight.view()
	}
	if want.Bias {
		dbias = g.emptyLike(op, g.DType(), []int{c})
		dbv = dbias.view()
	}
	if !want.X && !want.Weight && !want.Bias {
		return nil, nil, nil
	}
	check(op, g.be.BatchNormBackward(dxv, dwv, dbv, g3.view(), h3.view(), invstd.view(), bnOptView(weight), training))
	return dx, dweight, dbias
}

// bnPlanes checks an [N, C, ...] float operand and returns it as
// [N, C, L].
func bnPlanes(op, what string, x *Tensor) *Tensor {
	if x.Dim() < 2 {
		fail(op, ErrShape, "the %s must be [N, C, ...] with channels in dimension 1, got shape %v", what, x.layout.Shape)
	}
	if !x.DType().IsFloat() {
		fail(op, ErrDType, "needs a float32 or float64 %s, got %v; convert with .As(tensor.Float32)", what, x.DType())
	}
	s := x.layout.Shape
	return x.Reshape(s[0], s[1], device.Numel(s[2:]))
}

// bnVec is a per-channel operand, for bnChannels.
type bnVec struct {
	name     string
	t        *Tensor
	required bool
}

// bnChannels checks that the per-channel operands are [C] tensors of x's
// dtype and device; absent (nil) ones are allowed unless required.
func bnChannels(op string, x *Tensor, vecs []bnVec) {
	c := x.layout.Shape[1]
	for _, v := range vecs {
		if v.t == nil {
			if v.required {
				fail(op, ErrArgument, "%s is required", v.name)
			}
			continue
		}
		sameDevice(op, x, v.t)
		if v.t.DType() != x.DType() {
			fail(op, ErrDType, "%s is %v but the input is %v; convert it with .As(tensor.%s)", v.name, v.t.DType(), x.DType(), goName(x.DType()))
		}
		if v.t.Dim() != 1 || v.t.layout.Shape[0] != c {
			fail(op, ErrShape, "%s must be [%d] for an input with %d channels (shape %v), got shape %v", v.name, c, c, x.layout.Shape, v.t.layout.Shape)
		}
	}
}

// bnOptView is t's view, or the zero View for nil.
func bnOptView(t *Tensor) device.View {
	if t == nil {
		return device.View{}
	}
	return t.view()
}
