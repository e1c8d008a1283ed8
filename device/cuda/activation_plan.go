package cuda

// Host side of kernels/activation.cu: kernel names, parameter packing and
// the launch arguments of Dropout and UnaryBackward. Pure Go (no build
// tag), tested without a GPU in activation_plan_test.go by emulating the
// kernels on the arguments packed here.

import (
	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/backend"
)

// modActivation is kernels/activation.cu.
const modActivation = "activation"

// dropoutKernel names the dropout kernel on dt, or "" when there is none.
func dropoutKernel(dt device.DType) string {
	if dt != device.Float32 && dt != device.Float64 {
		return ""
	}
	return "dropout_" + sfx(dt)
}

// unaryBackwardKernel names the fused gradient kernel of op on dt, or ""
// when op has no fused gradient or dt is not a float dtype.
func unaryBackwardKernel(op device.UnaryOp, dt device.DType) string {
	if op.BackwardOperand() == device.NoBackward || (dt != device.Float32 && dt != device.Float64) {
		return ""
	}
	return op.String() + "_backward_" + sfx(dt)
}

// dropoutArgs are the scalar parameters of a dropout kernel.
type dropoutArgs struct {
	seed, offset, threshold uint64
	scale                   float64 // rounded to float32 by the f32 kernel
}

// newDropoutArgs converts Dropout's probability into the kernel's integer
// threshold and scale (backend.DropoutMask), the numbers the CPU backend
// decides with.
func newDropoutArgs(p float64, seed, offset uint64) dropoutArgs {
	threshold, scale := backend.DropoutMask(p)
	return dropoutArgs{seed: seed, offset: offset, threshold: threshold, scale: scale}
}

// packDropout packs (d, s, Iter, seed, offset, threshold, scale), the
// parameters of dropout_<dtype>.
func packDropout(a *argBuf, d, s uintptr, it *iterArgs, da *dropoutArgs) {
	a.ptr(d)
	a.ptr(s)
	a.iter(it)
	a.u64(da.seed)
	a.u64(da.offset)
	a.u64(da.threshold)
	a.f64(da.scale)
}

// packUnaryBackward packs (dx, g, a, Iter, alpha, beta), the parameters
// of <op>_backward_<dtype>; a is the operand the op's gradient reads.
// alpha and beta travel as float64 and the f32 kernels round them as
// Go's float32() does, so both backends compare with the same T(alpha).
func packUnaryBackward(a *argBuf, dx, g, x uintptr, it *iterArgs, alpha, beta float64) {
	a.ptr(dx)
	a.ptr(g)
	a.ptr(x)
	a.iter(it)
	a.f64(alpha)
	a.f64(beta)
}
