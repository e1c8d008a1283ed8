package autograd

import (
	"fmt"
	"math"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/tensor"
)

// operand turns the right-hand side of a binary operation into a Var: a
// *Var as is, a *tensor.Tensor as a Const, a Go number as a 0-d Const of
// v's dtype on v's device.
func (v *Var) operand(op string, other any) *Var {
	switch o := other.(type) {
	case *Var:
		return o
	case *tensor.Tensor:
		return Const(o)
	}
	f, ok := toFloat(other)
	if !ok {
		panic(&tensor.Error{Op: op, Kind: tensor.ErrArgument,
			Msg: fmt.Sprintf("operand of type %T is not a *Var, *tensor.Tensor or Go number", other)})
	}
	return Const(tensor.On(v.Device()).Of(v.DType()).Scalar(f))
}

func toFloat(x any) (float64, bool) {
	switch n := x.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	}
	return 0, false
}

// scalar reports whether other is a plain Go number.
func scalar(other any) (float64, bool) {
	switch other.(type) {
	case *Var, *tensor.Tensor:
		return 0, false
	}
	return toFloat(other)
}

// Add returns v + other (a *Var, a *tensor.Tensor or a Go number), with
// broadcasting.
func (v *Var) Add(other any) *Var {
	if s, ok := scalar(other); ok {
		return record("Add", v.data.Add(s), identityRule, v)
	}
	u := v.operand("Add", other)
	return record("Add", v.data.Add(u.data), addRule(v.data.Shape(), u.data.Shape()), v, u)
}

// Sub returns v - other.
func (v *Var) Sub(other any) *Var {
	if s, ok := scalar(other); ok {
		return record("Sub", v.data.Sub(s), identityRule, v)
	}
	u := v.operand("Sub", other)
	return record("Sub", v.data.Sub(u.data), subRule(v.data.Shape(), u.data.Shape()), v, u)
}

// RSub returns other - v.
func (v *Var) RSub(other any) *Var {
	if s, ok := scalar(other); ok {
		return record("RSub", v.data.RSub(s), scaleRule(-1), v)
	}
	return v.operand("RSub", other).Sub(v)
}

// Mul returns v * other, elementwise.
func (v *Var) Mul(other any) *Var {
	if s, ok := scalar(other); ok {
		return record("Mul", v.data.Mul(s), scaleRule(s), v)
	}
	u := v.operand("Mul", other)
	return record("Mul", v.data.Mul(u.data), mulRule(v.data, u.data), v, u)
}

// Div returns v / other, elementwise.
func (v *Var) Div(other any) *Var {
	if s, ok := scalar(other); ok {
		return record("Div", v.data.Div(s), scaleRule(1/s), v)
	}
	u := v.operand("Div", other)
	return record("Div", v.data.Div(u.data), divRule(v.data, u.data), v, u)
}

// Pow returns v raised to other, elementwise.
func (v *Var) Pow(other any) *Var {
	if p, ok := scalar(other); ok {
		return record("Pow", v.data.Pow(p), powScalarRule(v.data, p), v)
	}
	u := v.operand("Pow", other)
	out := v.data.Pow(u.data)
	return record("Pow", out, powRule(v.data, u.data, out), v, u)
}

// Minimum returns the elementwise minimum of v and other.
func (v *Var) Minimum(other any) *Var {
	u := v.operand("Minimum", other)
	out := v.data.Minimum(u.data)
	return record("Minimum", out, minMaxRule(v.data, u.data, out), v, u)
}

// Maximum returns the elementwise maximum of v and other.
func (v *Var) Maximum(other any) *Var {
	u := v.operand("Maximum", other)
	out := v.data.Maximum(u.data)
	return record("Maximum", out, minMaxRule(v.data, u.data, out), v, u)
}

// Neg returns -v.
func (v *Var) Neg() *Var { return record("Neg", v.data.Neg(), scaleRule(-1), v) }

// Exp returns e^v.
func (v *Var) Exp() *Var {
	out := v.data.Exp()
	return record("Exp", out, expRule(out), v)
}

// Log returns ln v.
func (v *Var) Log() *Var { return record("Log", v.data.Log(), logRule(v.data), v) }

// Sqrt returns √v.
func (v *Var) Sqrt() *Var {
	out := v.data.Sqrt()
	return record("Sqrt", out, sqrtRule(out), v)
}

// Abs returns |v|.
func (v *Var) Abs() *Var { return record("Abs", v.data.Abs(), absRule(v.data), v) }

// Square returns v*v.
func (v *Var) Square() *Var { return record("Square", v.data.Square(), squareRule(v.data), v) }

// Sigmoid returns 1/(1+e^-v).
func (v *Var) Sigmoid() *Var {
	out := v.data.Sigmoid()
	return record("Sigmoid", out, sigmoidRule(out), v)
}

// Tanh returns the hyperbolic tangent.
func (v *Var) Tanh() *Var {
	out := v.data.Tanh()
	return record("Tanh", out, tanhRule(out), v)
}

// Relu returns max(v, 0). The gradient is computed from the output,
// which is positive exactly where v is, so the graph need not keep v.
func (v *Var) Relu() *Var {
	out := v.data.Relu()
	return record("Relu", out, activationRule(device.Relu, out, 0, 0), v)
}

// LeakyRelu returns v where v > 0 and slope*v elsewhere. For slope >= 0
// the gradient is computed from the output, as for Relu.
func (v *Var) LeakyRelu(slope float64) *Var {
	out := v.data.LeakyRelu(slope)
	sign := out
	if !(slope >= 0) {
		sign = v.data
	}
	return record("LeakyRelu", out, leakyReluRule(sign, slope), v)
}

// Elu returns v where v > 0 and alpha*(e^v - 1) elsewhere.
func (v *Var) Elu(alpha float64) *Var {
	out := v.data.Elu(alpha)
	var in *tensor.Tensor // only a negative alpha needs the input (eluRule)
	if !(alpha >= 0) {
		in = v.data
	}
	return record("Elu", out, eluRule(in, out, alpha), v)
}

// Softplus returns ln(1+e^v).
func (v *Var) Softplus() *Var { return record("Softplus", v.data.Softplus(), softplusRule(v.data), v) }

// Gelu returns v·Φ(v).
func (v *Var) Gelu() *Var { return record("Gelu", v.data.Gelu(), geluRule(v.data), v) }

// Step returns the Heaviside step (1 where v > 0, else 0). It has no
// gradient: Backward through it panics with an explanation.
func (v *Var) Step() *Var { return record("Step", v.data.Step(), stepRule, v) }

// Threshold returns v where v > threshold and value elsewhere.
func (v *Var) Threshold(threshold, value float64) *Var {
	a := v.data
	return record("Threshold", a.Threshold(threshold, value), activationRule(device.Threshold, a, threshold, value), v)
}

// Clamp limits v to [lo, hi]; the gradient passes where lo <= v <= hi.
func (v *Var) Clamp(lo, hi float64) *Var {
	a := v.data
	return record("Clamp", a.Clamp(lo, hi), activationRule(device.Clamp, a, lo, hi), v)
}

// ClampMin limits v to at least lo.
func (v *Var) ClampMin(lo float64) *Var { return v.Clamp(lo, math.Inf(1)) }

// As converts v to another float dtype; the gradient converts back.
func (v *Var) As(dt tensor.DType) *Var {
	if v.DType() == dt {
		return v
	}
	return record("As", v.data.As(dt), castRule(v.DType()), v)
}
