package tensor

import (
	"math"
	"reflect"

	"github.com/nabla-go/nabla/device"
)

// operand turns the right-hand side of a binary operation into a tensor:
// a *Tensor is used as is; a Go number becomes a 0-d tensor of t's dtype on
// t's device, built there without a host round trip.
func (t *Tensor) operand(op string, other any) *Tensor {
	switch v := other.(type) {
	case *Tensor:
		if v == nil {
			fail(op, ErrArgument, "nil tensor operand")
		}
		return v
	}
	f, ok := number(other)
	if !ok {
		fail(op, ErrArgument, "operand of type %T is neither a *Tensor nor a Go number", other)
	}
	checkScalar(op, t.DType(), f)
	return t.scalarLike(op, f, t.DType())
}

// number converts a Go numeric value (any integer, float or bool type,
// including named types such as `type Celsius float64`) to float64.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case nil:
		return 0, false
	}
	r := reflect.ValueOf(v)
	switch r.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(r.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return float64(r.Uint()), true
	case reflect.Float32, reflect.Float64:
		return r.Float(), true
	case reflect.Bool:
		if r.Bool() {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// checkScalar panics with ErrDType when the Go number v cannot be held
// exactly by dtype dt: a fraction, NaN or infinity for an integer dtype,
// or a value outside 0..255 for Uint8. Mixing dtypes is an error, not a
// silent truncation.
func checkScalar(op string, dt DType, v float64) {
	var ok bool
	switch dt {
	case Int64:
		ok = v == math.Trunc(v) && v >= -(1<<63) && v < 1<<63
	case Uint8:
		ok = v == math.Trunc(v) && v >= 0 && v <= math.MaxUint8
	default:
		return
	}
	if !ok {
		fail(op, ErrDType, "the scalar %v cannot be represented as %v; convert the tensor with .As(tensor.Float32) first", v, dt)
	}
}

// scalarFast reports whether other is a Go number that the unary scalar
// kernels (AddScalar, MulScalar, ...) can apply to t directly, and its
// value. It panics when the number does not fit t's dtype.
func (t *Tensor) scalarFast(op string, other any) (float64, bool) {
	s, ok := scalarOf(other)
	if !ok {
		return 0, false
	}
	dt := t.DType()
	checkScalar(op, dt, s)
	// Uint8 goes through the binary kernels: a negated scalar (Sub) would
	// not be representable.
	return s, dt.IsFloat() || dt == Int64
}

// binary runs an elementwise binary op with broadcasting.
func (t *Tensor) binary(name string, op device.BinaryOp, other any) *Tensor {
	u := t.operand(name, other)
	sameDevice(name, t, u)
	sameDType(name, t, u)
	dt := t.DType()
	switch {
	case op.IsLogical():
		if dt != Bool {
			fail(name, ErrDType, "needs Bool operands, got %v", dt)
		}
	case op.IsComparison():
	case dt == Bool:
		fail(name, ErrDType, "is not defined for Bool tensors; convert with .As(tensor.Float32) or use LogicalAnd/LogicalOr")
	case op == device.Pow && !dt.IsFloat():
		fail(name, ErrDType, "needs float operands, got %v; convert with .As(tensor.Float32)", dt)
	}
	shape := broadcast(name, t, u)
	outDT := dt
	if op.IsComparison() {
		outDT = Bool
	}
	out := t.emptyLike(name, outDT, shape)
	check(name, t.be.Binary(op, out.view(), t.viewAs(shape), u.viewAs(shape)))
	return out
}

// unary runs an elementwise op with scalar parameters alpha and beta.
func (t *Tensor) unary(name string, op device.UnaryOp, alpha, beta float64) *Tensor {
	dt := t.DType()
	if (op.FloatOnly() && !dt.IsFloat()) || (dt == Bool && op != device.NotBool) || (op == device.NotBool && dt != Bool) {
		if op == device.NotBool {
			fail(name, ErrDType, "needs a Bool tensor, got %v", dt)
		}
		fail(name, ErrDType, "is not defined for %v tensors; convert with .As(tensor.Float32)", dt)
	}
	out := t.emptyLike(name, dt, t.layout.Shape)
	check(name, t.be.Unary(op, out.view(), t.view(), alpha, beta))
	return out
}

// scalarOf reports whether other is a plain Go number, and its value.
func scalarOf(other any) (float64, bool) {
	if _, isT := other.(*Tensor); isT {
		return 0, false
	}
	return number(other)
}

// Add returns t + other. other is a *Tensor (broadcast with t) or a Go number.
func (t *Tensor) Add(other any) *Tensor {
	if s, ok := t.scalarFast("Add", other); ok {
		return t.unary("Add", device.AddScalar, s, 0)
	}
	return t.binary("Add", device.Add, other)
}

// Sub returns t - other.
func (t *Tensor) Sub(other any) *Tensor {
	if s, ok := t.scalarFast("Sub", other); ok && s != -(1<<63) {
		return t.unary("Sub", device.AddScalar, -s, 0)
	}
	return t.binary("Sub", device.Sub, other)
}

// Mul returns t * other, elementwise.
func (t *Tensor) Mul(other any) *Tensor {
	if s, ok := t.scalarFast("Mul", other); ok {
		return t.unary("Mul", device.MulScalar, s, 0)
	}
	return t.binary("Mul", device.Mul, other)
}

// Div returns t / other, elementwise. Integer division truncates toward
// zero; use As(Float32) first for true division of integers.
func (t *Tensor) Div(other any) *Tensor {
	if s, ok := t.scalarFast("Div", other); ok && t.DType().IsFloat() {
		// A true division, not a multiplication by 1/s: 49/7 is exactly 7.
		return t.unary("Div", device.DivScalar, s, 0)
	}
	return t.binary("Div", device.Div, other)
}

// Pow returns t raised to other, elementwise (float dtypes).
func (t *Tensor) Pow(other any) *Tensor {
	if s, ok := scalarOf(other); ok {
		requireFloat("Pow", t)
		switch s {
		case 1:
			return t.Clone()
		case 2:
			return t.unary("Pow", device.Square, 0, 0)
		case 0.5:
			return t.unary("Pow", device.Sqrt, 0, 0)
		}
		return t.unary("Pow", device.PowScalar, s, 0)
	}
	return t.binary("Pow", device.Pow, other)
}

// RSub returns other - t.
func (t *Tensor) RSub(other any) *Tensor {
	if s, ok := t.scalarFast("RSub", other); ok {
		return t.unary("RSub", device.RSubScalar, s, 0)
	}
	return t.operand("RSub", other).Sub(t)
}

// RDiv returns other / t.
func (t *Tensor) RDiv(other any) *Tensor {
	if s, ok := t.scalarFast("RDiv", other); ok && t.DType().IsFloat() {
		return t.unary("RDiv", device.RDivScalar, s, 0)
	}
	return t.operand("RDiv", other).Div(t)
}

// Minimum returns the elementwise minimum of t and other (NaN wins).
func (t *Tensor) Minimum(other any) *Tensor { return t.binary("Minimum", device.Minimum, other) }

// Maximum returns the elementwise maximum of t and other (NaN wins).
func (t *Tensor) Maximum(other any) *Tensor { return t.binary("Maximum", device.Maximum, other) }

// Eq returns t == other as a Bool tensor.
func (t *Tensor) Eq(other any) *Tensor { return t.binary("Eq", device.Eq, other) }

// Ne returns t != other as a Bool tensor.
func (t *Tensor) Ne(other any) *Tensor { return t.binary("Ne", device.Ne, other) }

// Lt returns t < other as a Bool tensor.
func (t *Tensor) Lt(other any) *Tensor { return t.binary("Lt", device.Lt, other) }

// Le returns t <= other as a Bool tensor.
func (t *Tensor) Le(other any) *Tensor { return t.binary("Le", device.Le, other) }

// Gt returns t > other as a Bool tensor, e.g. pred.Gt(0.5).
func (t *Tensor) Gt(other any) *Tensor { return t.binary("Gt", device.Gt, other) }

// Ge returns t >= other as a Bool tensor.
func (t *Tensor) Ge(other any) *Tensor { return t.binary("Ge", device.Ge, other) }

// LogicalAnd returns t && other for Bool tensors.
func (t *Tensor) LogicalAnd(other any) *Tensor { return t.binary("LogicalAnd", device.And, other) }

// LogicalOr returns t || other for Bool tensors.
func (t *Tensor) LogicalOr(other any) *Tensor { return t.binary("LogicalOr", device.Or, other) }

// LogicalXor returns t != other for Bool tensors.
func (t *Tensor) LogicalXor(other any) *Tensor { return t.binary("LogicalXor", device.Xor, other) }

// LogicalNot returns !t for a Bool tensor.
func (t *Tensor) LogicalNot() *Tensor { return t.unary("LogicalNot", device.NotBool, 0, 0) }

// Neg returns -t.
func (t *Tensor) Neg() *Tensor { return t.unary("Neg", device.Neg, 0, 0) }

// Abs returns |t|.
func (t *Tensor) Abs() *Tensor { return t.unary("Abs", device.Abs, 0, 0) }

// Sign returns -1, 0 or 1 by the sign of each element.
func (t *Tensor) Sign() *Tensor { return t.unary("Sign", device.Sign, 0, 0) }

// Square returns t*t.
func (t *Tensor) Square() *Tensor { return t.unary("Square", device.Square, 0, 0) }

// Exp returns e^t.
func (t *Tensor) Exp() *Tensor { return t.unary("Exp", device.Exp, 0, 0) }

// Log returns the natural logarithm.
func (t *Tensor) Log() *Tensor { return t.unary("Log", device.Log, 0, 0) }

// Sqrt returns the square root.
func (t *Tensor) Sqrt() *Tensor { return t.unary("Sqrt", device.Sqrt, 0, 0) }

// Rsqrt returns 1/√t.
func (t *Tensor) Rsqrt() *Tensor { return t.unary("Rsqrt", device.Rsqrt, 0, 0) }

// Reciprocal returns 1/t.
func (t *Tensor) Reciprocal() *Tensor { return t.unary("Reciprocal", device.Reciprocal, 0, 0) }

// Sin returns the sine.
func (t *Tensor) Sin() *Tensor { return t.unary("Sin", device.Sin, 0, 0) }

// Cos returns the cosine.
func (t *Tensor) Cos() *Tensor { return t.unary("Cos", device.Cos, 0, 0) }

// Log1p returns ln(1+t), accurate near zero.
func (t *Tensor) Log1p() *Tensor { return t.unary("Log1p", device.Log1p, 0, 0) }

// Expm1 returns e^t - 1, accurate near zero.
func (t *Tensor) Expm1() *Tensor { return t.unary("Expm1", device.Expm1, 0, 0) }

// Floor rounds down.
func (t *Tensor) Floor() *Tensor { return t.unary("Floor", device.Floor, 0, 0) }

// Ceil rounds up.
func (t *Tensor) Ceil() *Tensor { return t.unary("Ceil", device.Ceil, 0, 0) }

// Round rounds half to even, as torch.round.
func (t *Tensor) Round() *Tensor { return t.unary("Round", device.Round, 0, 0) }

// Erf returns the error function.
func (t *Tensor) Erf() *Tensor { return t.unary("Erf", device.Erf, 0, 0) }

// Clamp limits every element to [lo, hi]; pass math.Inf for a one-sided clamp.
func (t *Tensor) Clamp(lo, hi float64) *Tensor {
	if math.IsNaN(lo) || math.IsNaN(hi) {
		fail("Clamp", ErrArgument, "bounds must not be NaN, got [%v, %v]", lo, hi)
	}
	if lo > hi {
		fail("Clamp", ErrArgument, "lower bound %v exceeds upper bound %v", lo, hi)
	}
	if dt := t.DType(); dt == Int64 || dt == Uint8 {
		// Integer kernels convert the bounds to the element type: round
		// them inward and keep them in range (an infinite bound would
		// otherwise convert to an arbitrary integer). For Int64 the upper
		// limit is the largest float64 below 2^63, 2^63-1024.
		bottom, top := 0.0, float64(math.MaxUint8)
		if dt == Int64 {
			bottom, top = -(1 << 63), math.Nextafter(1<<63, 0)
		}
		lo, hi = min(max(math.Ceil(lo), bottom), top), max(min(math.Floor(hi), top), bottom)
		if lo > hi {
			// No integer lies in [lo, hi]: PyTorch's min(max(x, lo), hi) gives hi.
			lo = hi
		}
	}
	return t.unary("Clamp", device.Clamp, lo, hi)
}

// ClampMin limits every element to at least lo.
func (t *Tensor) ClampMin(lo float64) *Tensor { return t.Clamp(lo, math.Inf(1)) }

// ClampMax limits every element to at most hi.
func (t *Tensor) ClampMax(hi float64) *Tensor { return t.Clamp(math.Inf(-1), hi) }

// Affine returns t*scale + shift in one pass.
func (t *Tensor) Affine(scale, shift float64) *Tensor {
	checkScalar("Affine", t.DType(), scale)
	checkScalar("Affine", t.DType(), shift)
	return t.unary("Affine", device.Affine, scale, shift)
}

// Sigmoid returns 1/(1+e^-t).
func (t *Tensor) Sigmoid() *Tensor { return t.unary("Sigmoid", device.Sigmoid, 0, 0) }

// Tanh returns the hyperbolic tangent.
func (t *Tensor) Tanh() *Tensor { return t.unary("Tanh", device.Tanh, 0, 0) }

// Relu returns max(t, 0).
func (t *Tensor) Relu() *Tensor { return t.unary("Relu", device.Relu, 0, 0) }

// LeakyRelu returns t where t > 0 and slope*t elsewhere.
func (t *Tensor) LeakyRelu(slope float64) *Tensor {
	return t.unary("LeakyRelu", device.LeakyRelu, slope, 0)
}

// Elu returns t where t > 0 and alpha*(e^t - 1) elsewhere.
func (t *Tensor) Elu(alpha float64) *Tensor { return t.unary("Elu", device.Elu, alpha, 0) }

// Softplus returns ln(1+e^t), computed without overflow.
func (t *Tensor) Softplus() *Tensor { return t.unary("Softplus", device.Softplus, 0, 0) }

// Gelu returns t·Φ(t) (the exact, erf-based form).
func (t *Tensor) Gelu() *Tensor { return t.unary("Gelu", device.Gelu, 0, 0) }

// Step returns the Heaviside step: 1 where t > 0, else 0.
func (t *Tensor) Step() *Tensor { return t.unary("Step", device.Step, 0, 0) }

// Threshold returns t where t > threshold and value elsewhere, as
// torch.nn.functional.threshold.
func (t *Tensor) Threshold(threshold, value float64) *Tensor {
	checkScalar("Threshold", t.DType(), value)
	return t.unary("Threshold", device.Threshold, threshold, value)
}
