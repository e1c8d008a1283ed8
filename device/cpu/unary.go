package cpu

import (
	"fmt"
	"math"

	"github.com/nabla-go/nabla/device"
)

type float interface{ ~float32 | ~float64 }

type integer interface{ ~int64 | ~uint8 }

type number interface{ float | integer }

func (c *host) Unary(op device.UnaryOp, dst, src device.View, alpha, beta float64) error {
	if !op.Valid() {
		return fmt.Errorf("device: cpu: unknown unary op %d", op)
	}
	name := "unary " + op.String()
	switch dst.Buf.DType() {
	case device.Float32:
		if k := float32Unary(op); k != nil {
			return runUnary(name, dst, src, k)
		}
		return runUnary(name, dst, src, floatUnary[float32](op, alpha, beta))
	case device.Float64:
		return runUnary(name, dst, src, floatUnary[float64](op, alpha, beta))
	case device.Int64:
		if k := intUnary[int64](op, alpha, beta); k != nil {
			return runUnary(name, dst, src, k)
		}
	case device.Uint8:
		if k := intUnary[uint8](op, alpha, beta); k != nil {
			return runUnary(name, dst, src, k)
		}
	case device.Bool:
		if op == device.NotBool {
			return runUnary(name, dst, src, func(d, s []bool) {
				for i, x := range s {
					d[i] = !x
				}
			})
		}
	}
	return unsupported(name, dst.Buf.DType())
}

func runUnary[T any](name string, dst, src device.View, kernel func(d, s []T)) error {
	d, err := slice[T](name, dst)
	if err != nil {
		return err
	}
	s, err := slice[T](name, src)
	if err != nil {
		return err
	}
	map1(d, dst.Layout, s, src.Layout, kernel)
	return nil
}

// floatUnary returns the block kernel of op for a float type. Math is done
// in float64 and rounded once, so float32 results are correctly rounded or
// within an ulp of it.
func floatUnary[T float](op device.UnaryOp, alpha, beta float64) func(d, s []T) {
	if k := arithUnary[T](op, alpha, beta); k != nil {
		return k
	}
	a, b := T(alpha), T(beta)
	apply := func(f func(float64) float64) func(d, s []T) {
		return func(d, s []T) {
			for i, x := range s {
				d[i] = T(f(float64(x)))
			}
		}
	}
	switch op {
	case device.Abs:
		return func(d, s []T) {
			for i, x := range s {
				d[i] = T(math.Abs(float64(x)))
			}
		}
	case device.Sign:
		return func(d, s []T) {
			for i, x := range s {
				switch {
				case x > 0:
					d[i] = 1
				case x < 0:
					d[i] = -1
				default:
					d[i] = x // keeps 0, -0 and NaN
				}
			}
		}
	case device.Exp:
		return apply(math.Exp)
	case device.Log:
		return apply(math.Log)
	case device.Sqrt:
		// Written out rather than through apply: a direct math.Sqrt call
		// compiles to one instruction, a call through a func value does not.
		return func(d, s []T) {
			for i, x := range s {
				d[i] = T(math.Sqrt(float64(x)))
			}
		}
	case device.Rsqrt:
		return func(d, s []T) {
			for i, x := range s {
				d[i] = T(1 / math.Sqrt(float64(x)))
			}
		}
	case device.Reciprocal:
		return func(d, s []T) {
			for i, x := range s {
				d[i] = 1 / x
			}
		}
	case device.Sin:
		return apply(math.Sin)
	case device.Cos:
		return apply(math.Cos)
	case device.Sigmoid:
		return apply(sigmoid)
	case device.Tanh:
		return apply(math.Tanh)
	case device.Relu:
		return func(d, s []T) {
			s = s[:len(d)]
			for i, x := range s {
				// Go's max maps NaN to NaN, as PyTorch's relu does, and
				// -0 to +0 (it orders -0 below +0); and it compiles
				// without a branch, which on random signs would be
				// mispredicted every other element (four times slower).
				d[i] = max(x, 0)
			}
		}
	case device.LeakyRelu:
		return func(d, s []T) {
			for i, x := range s {
				if x > 0 {
					d[i] = x
				} else {
					d[i] = a * x
				}
			}
		}
	case device.Elu:
		return apply(func(x float64) float64 {
			if x > 0 {
				return x
			}
			return alpha * math.Expm1(x)
		})
	case device.Softplus:
		return apply(softplus)
	case device.Step:
		return func(d, s []T) {
			for i, x := range s {
				if x > a {
					d[i] = 1
				} else {
					d[i] = 0
				}
			}
		}
	case device.Threshold:
		return func(d, s []T) {
			for i, x := range s {
				if x > a {
					d[i] = x
				} else {
					d[i] = b
				}
			}
		}
	case device.PowScalar:
		return apply(func(x float64) float64 { return math.Pow(x, alpha) })
	case device.RDivScalar:
		return func(d, s []T) {
			for i, x := range s {
				d[i] = a / x
			}
		}
	case device.DivScalar:
		return func(d, s []T) {
			for i, x := range s {
				d[i] = x / a
			}
		}
	case device.Floor:
		return func(d, s []T) {
			for i, x := range s {
				d[i] = T(math.Floor(float64(x)))
			}
		}
	case device.Ceil:
		return func(d, s []T) {
			for i, x := range s {
				d[i] = T(math.Ceil(float64(x)))
			}
		}
	case device.Round:
		return apply(math.RoundToEven)
	case device.Log1p:
		return apply(math.Log1p)
	case device.Expm1:
		return apply(math.Expm1)
	case device.Gelu:
		return apply(func(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) })
	case device.Erf:
		return apply(math.Erf)
	}
	return func(d, s []T) { panic("device: unreachable unary op " + op.String()) }
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// softplus is log(1+e^x) without overflow for large x or loss of
// precision for very negative x.
func softplus(x float64) float64 {
	if x > 20 {
		return x
	}
	return math.Log1p(math.Exp(x))
}

// intUnary returns the block kernel of op for an integer type, or nil when
// op needs floating point.
func intUnary[T integer](op device.UnaryOp, alpha, beta float64) func(d, s []T) {
	if k := arithUnary[T](op, alpha, beta); k != nil {
		return k
	}
	b := T(beta)
	unsigned := T(0)-1 > 0
	switch op {
	case device.Abs:
		return func(d, s []T) {
			for i, x := range s {
				if !unsigned && x < 0 {
					x = -x
				}
				d[i] = x
			}
		}
	case device.Sign:
		return func(d, s []T) {
			for i, x := range s {
				switch {
				case x > 0:
					d[i] = 1
				case x < 0:
					one := T(1)
					d[i] = -one
				default:
					d[i] = 0
				}
			}
		}
	case device.Relu:
		return func(d, s []T) {
			for i, x := range s {
				d[i] = max(x, 0)
			}
		}
	case device.Step:
		return func(d, s []T) {
			for i, x := range s {
				if float64(x) > alpha {
					d[i] = 1
				} else {
					d[i] = 0
				}
			}
		}
	case device.Threshold:
		return func(d, s []T) {
			for i, x := range s {
				if float64(x) > alpha {
					d[i] = x
				} else {
					d[i] = b
				}
			}
		}
	}
	return nil
}

// arithUnary returns the kernels that read the same for every numeric
// type, or nil for the others.
func arithUnary[T number](op device.UnaryOp, alpha, beta float64) func(d, s []T) {
	a, b := T(alpha), T(beta)
	switch op {
	case device.Neg:
		return func(d, s []T) {
			for i, x := range s {
				d[i] = -x
			}
		}
	case device.Square:
		return func(d, s []T) {
			for i, x := range s {
				d[i] = x * x
			}
		}
	case device.Clamp:
		return func(d, s []T) {
			for i, x := range s {
				d[i] = min(max(x, a), b)
			}
		}
	case device.AddScalar:
		return func(d, s []T) {
			for i, x := range s {
				d[i] = x + a
			}
		}
	case device.MulScalar:
		return func(d, s []T) {
			for i, x := range s {
				d[i] = x * a
			}
		}
	case device.Affine:
		return func(d, s []T) {
			for i, x := range s {
				d[i] = x*a + b
			}
		}
	case device.RSubScalar:
		return func(d, s []T) {
			for i, x := range s {
				d[i] = a - x
			}
		}
	}
	return nil
}
