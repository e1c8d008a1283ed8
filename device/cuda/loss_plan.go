package cuda

// Launch planning of the fused cross-entropy kernels (kernels/loss.cu).
// Pure Go (no build tag), tested without a GPU in loss_plan_test.go by
// emulating the kernels' row mapping and arithmetic.

import "github.com/nabla-go/nabla/device"

// ceBlockCols is the longest row a group of at most one warp handles;
// longer rows get a block of threads each, as in the softmax kernels.
const ceBlockCols = 1024

// cePlan is the launch of a CrossEntropy or CrossEntropyBackward.
type cePlan struct {
	args   ceArgs
	blocks uint32
}

// ceGroup returns the lanes per row for rows of cols columns: the
// smallest power of two covering the row, up to a warp, so short rows
// (ten classes) share a warp instead of idling most of it; 0 (a block
// per row) above ceBlockCols.
func ceGroup(cols int64) int32 {
	switch {
	case cols > ceBlockCols:
		return 0
	case cols >= 32:
		return 32
	}
	g := int32(1)
	for int64(g) < cols {
		g <<= 1
	}
	return g
}

// planCrossEntropy lays out a cross-entropy over the rows of x [M, C]
// with labels [M], the [M] operands a and b (loss and lse forward, lse
// and g backward) and, for the backward pass, dx [M, C] (the zero Layout
// forward).
func planCrossEntropy(x, dx, labels, a, b device.Layout, sms int) cePlan {
	var p cePlan
	c := &p.args
	c.Rows, c.Cols = int64(x.Shape[0]), int64(x.Shape[1])
	c.Xs0, c.Xs1 = int64(x.Strides[0]), int64(x.Strides[1])
	if len(dx.Strides) == 2 {
		c.Ds0, c.Ds1 = int64(dx.Strides[0]), int64(dx.Strides[1])
	}
	c.Ls, c.As, c.Bs = int64(labels.Strides[0]), int64(a.Strides[0]), int64(b.Strides[0])
	c.Group = ceGroup(c.Cols)
	if c.Group == 0 {
		p.blocks = uint32(max(1, min(c.Rows, int64(max(sms, 1))*32)))
		return p
	}
	// The kernels hand out rows per warp: 32/Group rows each.
	warps := (c.Rows + int64(32/c.Group) - 1) / int64(32/c.Group)
	p.blocks = gridFor(warps*32, sms)
	return p
}
