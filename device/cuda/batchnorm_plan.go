package cuda

// Launch planning of the batch-norm kernels (kernels/batchnorm.cu). Pure
// Go (no build tag): batchnorm_plan_test.go emulates the kernels on these
// plans without a GPU.

import (
	"math"

	"github.com/nabla-go/nabla/device"
)

const (
	// bnMinChunk is the fewest positions a block folds per part in the row
	// layout: 8 per thread, so the per-part overhead (a block reduction
	// and a workspace round trip) stays small next to the loads.
	bnMinChunk = 8 * threads
	// bnMinRows is the fewest batch items per part in the column layout:
	// 8 per warp.
	bnMinRows = 8 * threads / 32
	// bnColsMinC is the fewest channels for the column layout, which
	// leaves lanes idle when channels are fewer than 32.
	bnColsMinC = 16
)

// bnPlan is the launch of one batch-norm primitive on an [N, C, L]
// operand: its arguments, the grid of the reduction kernel and of its
// combining kernel (when Split > 1), and of the elementwise kernels.
type bnPlan struct {
	args       bnArgs
	redBlocks  uint32
	partBlocks uint32
	elemBlocks uint32
}

// fastDivider returns the magic numbers with which the kernels' fast_div
// computes u / d as (umulhi(u, mul) + u) >> shift, exactly for every
// u < 2^31 and d in [1, 2^31) (PyTorch's IntDivider): shift is the least
// s with 2^s >= d and mul = 2^32·(2^s - d)/d + 1.
func fastDivider(d uint32) (mul, shift uint32) {
	for shift < 32 && uint64(1)<<shift < uint64(d) {
		shift++
	}
	mul = uint32((uint64(1)<<32)*((uint64(1)<<shift)-uint64(d))/uint64(d) + 1)
	return mul, shift
}

// planBatchNorm lays out a batch-norm kernel family on the [N, C, L]
// shape: the planes (up to three [N, C, L] layouts, zero Layouts for
// absent operands) and vecs (up to four [C] layouts) in the order of the
// kernel's pointer parameters. When reduce is set, lead (the first
// operand the reduction reads) chooses the reduction layout and the
// channels are split into parts to fill the GPU.
func planBatchNorm(shape []int, planes, vecs []device.Layout, reduce bool, lead device.Layout, sms int) bnPlan {
	n, c, l := int64(shape[0]), int64(shape[1]), int64(shape[2])
	var p bnPlan
	a := &p.args
	a.N, a.C, a.L = n, c, l
	a.M, a.Total = n*l, n*c*l
	if a.M > 0 {
		a.InvM = 1 / float64(a.M)
	}
	for k, pl := range planes {
		if len(pl.Strides) == 3 {
			for d := range 3 {
				a.S[k][d] = int64(pl.Strides[d])
			}
		}
	}
	for k, v := range vecs {
		if len(v.Strides) == 1 {
			a.VS[k] = int64(v.Strides[0])
		}
	}
	if a.Total > 0 && a.Total <= math.MaxInt32 {
		a.DivL, a.ShL = fastDivider(uint32(l))
		a.DivC, a.ShC = fastDivider(uint32(c))
	}
	p.elemBlocks = gridFor(a.Total, sms)
	p.args.Split, p.args.Chunk = 1, max(a.M, 1)
	if !reduce || c == 0 || a.M == 0 {
		return p
	}
	wave := int64(max(sms, 1)) * 8
	target := int64(max(sms, 1)) * 4 // work items: a few per SM
	var items int64
	if l == 1 && c >= bnColsMinC && lead.Strides[1] < lead.Strides[0] {
		// Lanes on neighbouring channels: the loads of a warp coalesce.
		a.Cols = 1
		groups := (c + 31) / 32
		split := min(max(bnCeilDiv(target, groups), 1), bnCeilDiv(n, bnMinRows))
		a.Chunk = bnCeilDiv(n, split)
		a.Split = bnCeilDiv(n, a.Chunk)
		items = groups * a.Split
	} else {
		split := min(max(bnCeilDiv(target, c), 1), bnCeilDiv(a.M, bnMinChunk))
		a.Chunk = bnCeilDiv(a.M, split)
		a.Split = bnCeilDiv(a.M, a.Chunk)
		items = c * a.Split
	}
	p.redBlocks = uint32(min(items, wave))
	p.partBlocks = uint32(min(max(bnCeilDiv(c*32, threads), 1), wave))
	return p
}

func bnCeilDiv(a, b int64) int64 { return (a + b - 1) / b }

// bnWorkspace is the number of bytes of the reduction workspace of p
// with entries of size each: one partial result per (channel, part), or
// none when every channel is one part.
func (p *bnPlan) bnWorkspace(size uintptr) int64 {
	if p.args.Split <= 1 {
		return 0
	}
	return p.args.C * p.args.Split * int64(size)
}
