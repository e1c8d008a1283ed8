package cuda

import (
	"math"
	"unsafe"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/backend"
)

// The batch-norm primitives: the kernels of kernels/batchnorm.cu, laid out
// by planBatchNorm. The reductions run as one kernel when each channel is
// one part and as two (fold the parts into a workspace, then combine them
// per channel) when the channels are split to fill the GPU; the
// workspaces come from the caching allocator and go back to it once the
// kernels that use them are queued, since any later user is ordered after
// them on the stream.

// bnPointers is pointers for operands that may be the zero View, whose
// address is 0 (the kernels skip null operands).
func (b *Backend) bnPointers(op string, views ...device.View) ([]uintptr, error) {
	ptrs := make([]uintptr, len(views))
	for i, v := range views {
		if v.Buf == nil {
			continue
		}
		_, p, err := b.operand(op, v)
		if err != nil {
			return nil, err
		}
		ptrs[i] = p
	}
	return ptrs, nil
}

// bnScratch returns a workspace block of the given size, or nil for 0.
func (b *Backend) bnScratch(bytes int64) (*block, error) {
	if bytes == 0 {
		return nil, nil
	}
	return b.alloc.get(bytes)
}

func (b *Backend) bnRelease(blks ...*block) {
	for _, blk := range blks {
		if blk != nil {
			b.alloc.put(blk)
		}
	}
}

// BatchNormStats writes the per-channel mean and biased variance of x.
func (b *Backend) BatchNormStats(mean, variance, x device.View) error {
	const name = "batch norm stats"
	if err := backend.CheckBatchNormStats(name, mean, variance, x); err != nil {
		return b.errf("%w", err)
	}
	ptrs, err := b.pointers(name, x, mean, variance)
	if err != nil {
		return err
	}
	if x.Shape[1] == 0 {
		return nil
	}
	if x.Shape[0]*x.Shape[2] == 0 {
		// No values: NaN, the mean of nothing, as on the CPU.
		if err := b.Fill(mean, math.NaN()); err != nil {
			return err
		}
		return b.Fill(variance, math.NaN())
	}
	dt := x.Buf.DType()
	p := planBatchNorm(x.Shape, []device.Layout{x.Layout}, []device.Layout{mean.Layout, variance.Layout}, true, x.Layout, b.sms)
	part, err := b.bnScratch(p.bnWorkspace(unsafe.Sizeof(bnState{})))
	if err != nil {
		return err
	}
	defer b.bnRelease(part)
	a := getArgs()
	packBN(a, &p.args, ptrs[0], ptrs[1], ptrs[2], blockPtr(part))
	err = b.launch(modBatchNorm, bnKernel("bn_stats", dt), [3]uint32{p.redBlocks}, 0, a)
	if err == nil && part != nil {
		a = getArgs()
		packBN(a, &p.args, ptrs[1], ptrs[2], blockPtr(part))
		err = b.launch(modBatchNorm, bnKernel("bn_stats_part", dt), [3]uint32{p.partBlocks}, 0, a)
	}
	keepAlive(x, mean, variance)
	return err
}

// BatchNormForward normalises x per channel into y (and xhat when given):
// one thread per element.
func (b *Backend) BatchNormForward(y, xhat, x, mean, invstd, weight, bias device.View) error {
	const name = "batch norm forward"
	if err := backend.CheckBatchNormForward(name, y, xhat, x, mean, invstd, weight, bias); err != nil {
		return b.errf("%w", err)
	}
	ptrs, err := b.bnPointers(name, y, xhat, x, mean, invstd, weight, bias)
	if err != nil {
		return err
	}
	if x.Numel() == 0 {
		return nil
	}
	p := planBatchNorm(x.Shape, []device.Layout{y.Layout, xhat.Layout, x.Layout},
		[]device.Layout{mean.Layout, invstd.Layout, weight.Layout, bias.Layout}, false, x.Layout, b.sms)
	a := getArgs()
	packBN(a, &p.args, ptrs...)
	err = b.launch(modBatchNorm, bnKernel("bn_forward", x.Buf.DType()), [3]uint32{p.elemBlocks}, 0, a)
	keepAlive(y, xhat, x, mean, invstd, weight, bias)
	return err
}

// BatchNormBackward computes the gradients of BatchNormForward: the
// per-channel sums (when dweight, dbias or a training dx needs them),
// which also leave dx's per-channel coefficients in a workspace, then dx,
// one thread per element.
func (b *Backend) BatchNormBackward(dx, dweight, dbias, g, xhat, invstd, weight device.View, training bool) error {
	const name = "batch norm backward"
	if err := backend.CheckBatchNormBackward(name, dx, dweight, dbias, g, xhat, invstd, weight); err != nil {
		return b.errf("%w", err)
	}
	ptrs, err := b.bnPointers(name, dx, dweight, dbias, g, xhat, invstd, weight)
	if err != nil {
		return err
	}
	pdx, pdw, pdb, pg, ph, pis, pw := ptrs[0], ptrs[1], ptrs[2], ptrs[3], ptrs[4], ptrs[5], ptrs[6]
	if g.Shape[1] == 0 {
		return nil
	}
	if g.Shape[0]*g.Shape[2] == 0 {
		// Empty sums, and no dx to write.
		for _, v := range []device.View{dweight, dbias} {
			if v.Buf != nil {
				if err := b.Fill(v, 0); err != nil {
					return err
				}
			}
		}
		return nil
	}
	dt := g.Buf.DType()
	var coef, part *block
	defer func() { b.bnRelease(coef, part) }()
	if dweight.Buf != nil || dbias.Buf != nil || (training && dx.Buf != nil) {
		p := planBatchNorm(g.Shape, []device.Layout{g.Layout, xhat.Layout},
			[]device.Layout{invstd.Layout, weight.Layout, dweight.Layout, dbias.Layout}, true, g.Layout, b.sms)
		if training && dx.Buf != nil {
			// (a, k, b) of dx = a·g + k·xhat + b per channel.
			if coef, err = b.alloc.get(3 * p.args.C * int64(dt.Size())); err != nil {
				return err
			}
		}
		if part, err = b.bnScratch(p.bnWorkspace(unsafe.Sizeof(bnSums{}))); err != nil {
			return err
		}
		a := getArgs()
		packBN(a, &p.args, pg, ph, blockPtr(part), blockPtr(coef), pdw, pdb, pis, pw)
		err = b.launch(modBatchNorm, bnKernel("bn_backward_reduce", dt), [3]uint32{p.redBlocks}, 0, a)
		if err == nil && part != nil {
			a = getArgs()
			packBN(a, &p.args, blockPtr(part), blockPtr(coef), pdw, pdb, pis, pw)
			err = b.launch(modBatchNorm, bnKernel("bn_backward_part", dt), [3]uint32{p.partBlocks}, 0, a)
		}
		if err != nil {
			keepAlive(dweight, dbias, g, xhat, invstd, weight)
			return err
		}
	}
	if dx.Buf != nil {
		p := planBatchNorm(g.Shape, []device.Layout{dx.Layout, g.Layout, xhat.Layout},
			[]device.Layout{invstd.Layout, weight.Layout}, false, g.Layout, b.sms)
		if training {
			p.args.Training = 1
		}
		a := getArgs()
		packBN(a, &p.args, pdx, pg, ph, blockPtr(coef), pis, pw)
		err = b.launch(modBatchNorm, bnKernel("bn_backward_dx", dt), [3]uint32{p.elemBlocks}, 0, a)
	}
	keepAlive(dx, dweight, dbias, g, xhat, invstd, weight)
	return err
}
