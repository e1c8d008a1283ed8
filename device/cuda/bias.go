package cuda

import (
	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/backend"
)

// BiasActivation sets dst = op(src + bias) with the bias broadcast down
// the rows, in one kernel (kernels/bias.cu): the epilogue of a fully
// connected layer, usually in place on the matrix product's output.
func (b *Backend) BiasActivation(op device.UnaryOp, dst, src, bias device.View, alpha, beta float64) error {
	const name = "bias activation"
	if err := backend.CheckBiasActivation(name, op, dst, src, bias); err != nil {
		return b.errf("%w", err)
	}
	dt := dst.Buf.DType()
	kernel := biasKernel(op, dt)
	if kernel == "" {
		return b.unsupported(name+" "+op.String(), dt)
	}
	ptrs, err := b.pointers(name, dst, src, bias)
	if err != nil {
		return err
	}
	args, items := newBiasArgs(dst.Layout, src.Layout, bias.Layout, ptrs[0], ptrs[1], ptrs[2], dt.Size())
	if items == 0 {
		return nil
	}
	sc := newScalars(alpha, beta)
	a := getArgs()
	packBias(a, ptrs[0], ptrs[1], ptrs[2], &args, &sc)
	err = b.launch1(modBias, kernel, items, a)
	keepAlive(dst, src, bias)
	return err
}
