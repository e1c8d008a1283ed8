package cpu

import (
	"math"
	"unsafe"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/backend"
)

// UnaryBackward implements device.Backend.UnaryBackward: dx = g·f'(·) in one
// pass over g and the operand the op reads (see UnaryOp.BackwardOperand).
//
// Precision: the selections (Relu, LeakyRelu, Threshold, Clamp) and the
// polynomial gradients of Sigmoid, Tanh and Elu are computed in the
// dtype, with the operations the CUDA kernels perform in the same order,
// so both backends agree bit for bit; Gelu and the float64 Softplus are
// computed in float64 and rounded once. The float32 Softplus uses the
// vectorised float32 exponential of the forward Sigmoid (a few ulp): a
// gradient need not match any forward value bit for bit, and this one is
// the cost of an exp per element.
func (c *host) UnaryBackward(op device.UnaryOp, dx, g, x, y device.View, alpha, beta float64) error {
	a, err := backend.CheckUnaryBackward("device: cpu: unary backward", op, dx, g, x, y, alpha, beta)
	if err != nil {
		return err
	}
	name := "unary backward " + op.String()
	switch dx.Buf.DType() {
	case device.Float32:
		if op == device.Softplus {
			return runBinary(name, dx, g, a, softplusGradF32)
		}
		return runBinary(name, dx, g, a, floatUnaryGrad[float32, uint32](op, alpha, beta))
	case device.Float64:
		return runBinary(name, dx, g, a, floatUnaryGrad[float64, uint64](op, alpha, beta))
	}
	return unsupported(name, dx.Buf.DType())
}

// floatUnaryGrad returns the block kernel d[i] = g[i]·f'(a[i]) of op,
// where a is the input or the output as op.BackwardOperand says; U is the
// unsigned integer of T's size (uint32 for float32, uint64 for float64).
// Kernels read g[i] and a[i] before writing d[i], so d may alias g.
//
// The piecewise gradients select without branches: the comparison sets a
// mask of all ones or zeros (a conditional move) that picks the bits of
// g or of the other branch's value. With random signs a branch would be
// mispredicted half the time, which made a Relu gradient five times
// slower than this.
func floatUnaryGrad[T float, U uint32 | uint64](op device.UnaryOp, alpha, beta float64) func(d, g, a []T) {
	lo, hi := T(alpha), T(beta)
	// scaled is d[i] = g[i]·f(a[i]) for a factor computed in float64.
	scaled := func(f func(float64) float64) func(d, g, a []T) {
		return func(d, g, a []T) {
			g, a = g[:len(d)], a[:len(d)]
			for i, v := range a {
				d[i] = T(float64(g[i]) * f(float64(v)))
			}
		}
	}
	switch op {
	case device.Relu:
		return func(d, g, a []T) {
			g, a = g[:len(d)], a[:len(d)]
			for i, v := range a {
				d[i] = fromBits[T](toBits[U](g[i]) & maskIf[U](v > 0))
			}
		}
	case device.Threshold:
		return func(d, g, a []T) {
			g, a = g[:len(d)], a[:len(d)]
			for i, v := range a {
				d[i] = fromBits[T](toBits[U](g[i]) & maskIf[U](v > lo))
			}
		}
	case device.Clamp:
		return func(d, g, a []T) {
			g, a = g[:len(d)], a[:len(d)]
			for i, v := range a {
				d[i] = fromBits[T](toBits[U](g[i]) & maskIf[U](v >= lo && v <= hi))
			}
		}
	case device.LeakyRelu:
		return func(d, g, a []T) {
			g, a = g[:len(d)], a[:len(d)]
			for i, v := range a {
				m := maskIf[U](v > 0)
				d[i] = fromBits[T](toBits[U](g[i])&m | toBits[U](g[i]*lo)&^m)
			}
		}
	case device.Elu: // a is the output
		return func(d, g, a []T) {
			g, a = g[:len(d)], a[:len(d)]
			for i, v := range a {
				m := maskIf[U](v > 0)
				d[i] = fromBits[T](toBits[U](g[i])&m | toBits[U](g[i]*(v+lo))&^m)
			}
		}
	case device.Sigmoid:
		return func(d, g, a []T) {
			g, a = g[:len(d)], a[:len(d)]
			for i, v := range a {
				d[i] = g[i] * (v * (1 - v))
			}
		}
	case device.Tanh:
		return func(d, g, a []T) {
			g, a = g[:len(d)], a[:len(d)]
			for i, v := range a {
				d[i] = g[i] * ((1 - v) * (1 + v))
			}
		}
	case device.Softplus:
		return scaled(softplusGrad)
	case device.Gelu:
		return scaled(geluGrad)
	}
	return func(d, g, a []T) { panic("device: unreachable unary backward op " + op.String()) }
}

// maskIf is the mask of a condition: all ones when it holds, else zero.
func maskIf[U uint32 | uint64](c bool) U {
	var m U
	if c {
		m = ^U(0)
	}
	return m
}

// toBits and fromBits reinterpret a float as the unsigned integer of its
// size and back (math.Float32bits and friends, for either float type).
func toBits[U uint32 | uint64, T float](x T) U   { return *(*U)(unsafe.Pointer(&x)) }
func fromBits[T float, U uint32 | uint64](x U) T { return *(*T)(unsafe.Pointer(&x)) }

// softplusGrad is the derivative of softplus: 1 above the threshold
// where the forward returns x itself, the sigmoid elsewhere.
func softplusGrad(x float64) float64 {
	if x > 20 {
		return 1
	}
	return sigmoid(x)
}

// geluGrad is Φ(x) + x·φ(x). Φ is computed as erfc(-x/√2)/2, which keeps
// its relative accuracy for negative x where 1+erf(x/√2) would cancel.
func geluGrad(x float64) float64 {
	const invSqrt2Pi = 0.3989422804014327 // 1/√(2π)
	return 0.5*math.Erfc(-x/math.Sqrt2) + x*invSqrt2Pi*math.Exp(-0.5*x*x)
}

// softplusGradF32 is the float32 Softplus gradient d[i] = g[i]·σ(a[i])
// (g[i] above the threshold 20), with e^-a exponentiated a chunk at a
// time by the vector kernel, as sigmoidBlock does.
func softplusGradF32(d, g, a []float32) {
	g, a = g[:len(d)], a[:len(d)]
	var buf [256]float32
	for len(d) > 0 {
		k := min(len(d), len(buf))
		t := buf[:k]
		for i, v := range a[:k] {
			t[i] = -v
		}
		expF32(t, t)
		for i, v := range a[:k] {
			if v > 20 {
				d[i] = g[i]
			} else {
				d[i] = g[i] / (1 + t[i])
			}
		}
		d, g, a = d[k:], g[k:], a[k:]
	}
}
