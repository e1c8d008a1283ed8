package cuda

import (
	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/backend"
)

// Dropout applies inverted dropout with the mask of Philox counters
// offset, offset+1, ... under seed, recomputed per element by the kernel:
// one thread per element (four per vector on the contiguous path), one
// read and one write, no mask in memory.
func (b *Backend) Dropout(dst, src device.View, p float64, seed, offset uint64) error {
	const op = "dropout"
	if err := backend.CheckDropout(op, dst, src, p); err != nil {
		return b.errf("%w", err)
	}
	ptrs, err := b.pointers(op, dst, src)
	if err != nil {
		return err
	}
	it, err := makeIter(dst.Shape, dst.Layout, src.Layout)
	if err != nil {
		return b.errf("%s: %w", op, err)
	}
	if it.N == 0 {
		return nil
	}
	da := newDropoutArgs(p, seed, offset)
	a := getArgs()
	packDropout(a, ptrs[0], ptrs[1], &it, &da)
	err = b.launch1(modActivation, dropoutKernel(dst.Buf.DType()), it.N, a)
	keepAlive(dst, src)
	return err
}

// UnaryBackward writes dx = g·f'(·) in one pass over g and the operand
// op's gradient reads (the forward input or output).
func (b *Backend) UnaryBackward(op device.UnaryOp, dx, g, x, y device.View, alpha, beta float64) error {
	const name = "unary backward"
	a, err := backend.CheckUnaryBackward(name, op, dx, g, x, y, alpha, beta)
	if err != nil {
		return b.errf("%w", err)
	}
	opName := name + " " + op.String()
	ptrs, err := b.pointers(opName, dx, g, a)
	if err != nil {
		return err
	}
	it, err := makeIter(dx.Shape, dx.Layout, g.Layout, a.Layout)
	if err != nil {
		return b.errf("%s: %w", opName, err)
	}
	if it.N == 0 {
		return nil
	}
	args := getArgs()
	packUnaryBackward(args, ptrs[0], ptrs[1], ptrs[2], &it, alpha, beta)
	err = b.launch1(modActivation, unaryBackwardKernel(op, dx.Buf.DType()), it.N, args)
	keepAlive(dx, g, a)
	return err
}
