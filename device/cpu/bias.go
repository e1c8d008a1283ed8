package cpu

import (
	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/backend"
)

// BiasActivation implements device.Backend.BiasActivation in one pass: each block
// of at most `block` elements gets the bias added into the destination
// and is then run through the very block kernel Unary uses, while it is
// still in L1. The sum is rounded to the dtype before the activation reads
// it, exactly as Binary(Add) followed by Unary(op) stores and reloads it,
// and every kernel here is elementwise, so the results are the same bit
// for bit.
func (c *host) BiasActivation(op device.UnaryOp, dst, src, bias device.View, alpha, beta float64) error {
	const name = "bias activation"
	if err := backend.CheckBiasActivation("device: cpu: "+name, op, dst, src, bias); err != nil {
		return err
	}
	rows := biasRows(bias, dst.Shape[0])
	switch dst.Buf.DType() {
	case device.Float32:
		act := float32Unary(op)
		if act == nil {
			act = floatUnary[float32](op, alpha, beta)
		}
		return runBinary(name, dst, src, rows, biasKernel(op, alpha, act))
	case device.Float64:
		return runBinary(name, dst, src, rows, biasKernel(op, alpha, floatUnary[float64](op, alpha, beta)))
	}
	return unsupported(name, dst.Buf.DType())
}

// biasKernel returns the block kernel d = act(x + b). act works in place
// (every unary block kernel reads element i before it writes it).
func biasKernel[T float](op device.UnaryOp, alpha float64, act func(d, s []T)) func(d, x, b []T) {
	add := floatBinary[T](device.Add)
	if backend.BiasOnly(op, alpha) {
		return add
	}
	return func(d, x, b []T) {
		add(d, x, b)
		act(d, d)
	}
}

// biasRows returns bias as an [M, N] view that repeats it down the rows
// (row stride 0), so elementwise code can read it beside an [M, N] operand.
func biasRows(bias device.View, m int) device.View {
	return device.View{Buf: bias.Buf, Layout: device.Layout{
		Shape:   []int{m, bias.Shape[0]},
		Strides: []int{0, bias.Strides[0]},
		Offset:  bias.Offset,
	}}
}
