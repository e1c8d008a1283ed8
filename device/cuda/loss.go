package cuda

import (
	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/backend"
)

// CrossEntropy writes the per-row logsumexp and cross-entropy loss of the
// logits x against labels in one pass over x (kernels/loss.cu). A label
// outside [0, C) surfaces at the next synchronisation.
func (b *Backend) CrossEntropy(loss, lse, x, labels device.View) error {
	const name = "cross_entropy"
	if err := backend.CheckCrossEntropy(name, loss, lse, x, labels); err != nil {
		return b.errf("%w", err)
	}
	ptrs, err := b.pointers(name, loss, lse, x, labels)
	if err != nil {
		return err
	}
	p := planCrossEntropy(x.Layout, device.Layout{}, labels.Layout, loss.Layout, lse.Layout, b.sms)
	if p.args.Rows == 0 {
		return nil
	}
	a := getArgs()
	packCrossEntropy(a, ptrs[0], ptrs[1], ptrs[2], ptrs[3], &p.args, uintptr(b.errDev))
	err = b.launch(modLoss, crossEntropyKernel(x.Buf.DType(), false), [3]uint32{p.blocks, 1, 1}, 0, a)
	keepAlive(loss, lse, x, labels)
	return err
}

// CrossEntropyBackward overwrites dx with g·(softmax(x) - onehot(labels))
// row by row, in one pass over x.
func (b *Backend) CrossEntropyBackward(dx, x, lse, labels, g device.View) error {
	const name = "cross_entropy backward"
	if err := backend.CheckCrossEntropyBackward(name, dx, x, lse, labels, g); err != nil {
		return b.errf("%w", err)
	}
	ptrs, err := b.pointers(name, dx, x, lse, labels, g)
	if err != nil {
		return err
	}
	p := planCrossEntropy(x.Layout, dx.Layout, labels.Layout, lse.Layout, g.Layout, b.sms)
	if p.args.Rows == 0 {
		return nil
	}
	a := getArgs()
	packCrossEntropyBackward(a, ptrs[0], ptrs[1], ptrs[2], ptrs[3], ptrs[4], &p.args, uintptr(b.errDev))
	err = b.launch(modLoss, crossEntropyKernel(x.Buf.DType(), true), [3]uint32{p.blocks, 1, 1}, 0, a)
	keepAlive(dx, x, lse, labels, g)
	return err
}
