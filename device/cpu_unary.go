package device

import (
	"fmt"
	"math"
)

type float interface{ ~float32 | ~float64 }

type integer interface{ ~int64 | ~uint8 }

type number interface{ float | integer }

func (c *host) Unary(op UnaryOp, dst, src View, alpha, beta float64) error {
	if op >= numUnaryOps {
		return fmt.Errorf("device: cpu: unknown unary op %d", op)
	}
	name := "unary " + op.String()
	switch dst.Buf.DType() {
	case Float32:
		if k := float32Unary(op); k != nil {
			return runUnary(name, dst, src, k)
		}
		return runUnary(name, dst, src, floatUnary[float32](op, alpha, beta))
	case Float64:
		return runUnary(name, dst, src, floatUnary[float64](op, alpha, beta))
	case Int64:
		if k := intUnary[int64](op, alpha, beta); k != nil {
			return runUnary(name, dst, src, k)
		}
	case Uint8:
		if k := intUnary[uint8](op, alpha, beta); k != nil {
			return runUnary(name, dst, src, k)
		}
	case Bool:
		if op == NotBool {
			return runUnary(name, dst, src, func(d, s []bool) {
				for i, x := range s {
					d[i] = !x
				}
			})
		}
	}
	return unsupported(name, dst.Buf.DType())
}

func runUnary[T any](name string, dst, src View, kernel func(d, s []T)) error {
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
func floatUnary[T float](op UnaryOp, alpha, beta float64) func(d, s []T) {
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
	case Abs:
		return func(d, s []T) {
			for i, x := range s {
				d[i] = T(math.Abs(float64(x)))
			}
		}
	case Sign:
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
	case Exp:
		return apply(math.Exp)
	case Log:
		return apply(math.Log)
	case Sqrt:
		// Written out rather than through apply: a direct math.Sqrt call
		// compiles to one instruction, a call through a func value does not.
		return func(d, s []T) {
			for i, x := range s {
				d[i] = T(math.Sqrt(float64(x)))
			}
		}
	case Rsqrt:
		return func(d, s []T) {
			for i, x := range s {
				d[i] = T(1 / math.Sqrt(float64(x)))
			}
		}
	case Reciprocal:
		return func(d, s []T) {
			for i, x := range s {
				d[i] = 1 / x
			}
		}
	case Sin:
		return apply(math.Sin)
	case Cos:
		return apply(math.Cos)
	case Sigmoid:
		return apply(sigmoid)
	case Tanh:
		return apply(math.Tanh)
	case Relu:
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
	case LeakyRelu:
		return func(d, s []T) {
			for i, x := range s {
				if x > 0 {
					d[i] = x
				} else {
					d[i] = a * x
				}
			}
		}
	case Elu:
		return apply(func(x float64) float64 {
			if x > 0 {
				return x
			}
			return alpha * math.Expm1(x)
		})
	case Softplus:
		return apply(softplus)
	case Step:
		return func(d, s []T) {
			for i, x := range s {
				if x > a {
					d[i] = 1
				} else {
					d[i] = 0
				}
			}
		}
	case Threshold:
		return func(d, s []T) {
			for i, x := range s {
				if x > a {
					d[i] = x
				} else {
					d[i] = b
				}
			}
		}
	case PowScalar:
		return apply(func(x float64) float64 { return math.Pow(x, alpha) })
	case RDivScalar:
		return func(d, s []T) {
			for i, x := range s {
				d[i] = a / x
			}
		}
	case DivScalar:
		return func(d, s []T) {
			for i, x := range s {
				d[i] = x / a
			}
		}
	case Floor:
		return func(d, s []T) {
			for i, x := range s {
				d[i] = T(math.Floor(float64(x)))
			}
		}
	case Ceil:
		return func(d, s []T) {
			for i, x := range s {
				d[i] = T(math.Ceil(float64(x)))
			}
		}
	case Round:
		return apply(math.RoundToEven)
	case Log1p:
		return apply(math.Log1p)
	case Expm1:
		return apply(math.Expm1)
	case Gelu:
		return apply(func(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) })
	case Erf:
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
func intUnary[T integer](op UnaryOp, alpha, beta float64) func(d, s []T) {
	if k := arithUnary[T](op, alpha, beta); k != nil {
		return k
	}
	b := T(beta)
	unsigned := T(0)-1 > 0
	switch op {
	case Abs:
		return func(d, s []T) {
			for i, x := range s {
				if !unsigned && x < 0 {
					x = -x
				}
				d[i] = x
			}
		}
	case Sign:
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
	case Relu:
		return func(d, s []T) {
			for i, x := range s {
				d[i] = max(x, 0)
			}
		}
	case Step:
		return func(d, s []T) {
			for i, x := range s {
				if float64(x) > alpha {
					d[i] = 1
				} else {
					d[i] = 0
				}
			}
		}
	case Threshold:
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
func arithUnary[T number](op UnaryOp, alpha, beta float64) func(d, s []T) {
	a, b := T(alpha), T(beta)
	switch op {
	case Neg:
		return func(d, s []T) {
			for i, x := range s {
				d[i] = -x
			}
		}
	case Square:
		return func(d, s []T) {
			for i, x := range s {
				d[i] = x * x
			}
		}
	case Clamp:
		return func(d, s []T) {
			for i, x := range s {
				d[i] = min(max(x, a), b)
			}
		}
	case AddScalar:
		return func(d, s []T) {
			for i, x := range s {
				d[i] = x + a
			}
		}
	case MulScalar:
		return func(d, s []T) {
			for i, x := range s {
				d[i] = x * a
			}
		}
	case Affine:
		return func(d, s []T) {
			for i, x := range s {
				d[i] = x*a + b
			}
		}
	case RSubScalar:
		return func(d, s []T) {
			for i, x := range s {
				d[i] = a - x
			}
		}
	}
	return nil
}
