// unary.cu: every device.UnaryOp, as <op>_<dtype> kernels (f32 and f64
// for all ops, i64 and u8 for the integer-capable ones except that the
// scalar arithmetic add_scalar, mul_scalar and rsub_scalar has no u8
// kernel: package tensor sends Uint8 scalar arithmetic through the binary
// kernels, so nothing would launch it; and not_bool).
//
// Semantics follow device/cpu_unary.go: NaN passes through Sign, Relu and
// Clamp (Go's min/max), Round is half to even, integer arithmetic wraps.
// Float32 transcendental functions use CUDA's full-precision single
// routines (a few ulp); PowScalar goes through double as the CPU does.
#include "unary.cuh"

// Integer ops wrap around like Go's: arithmetic is done on the unsigned
// type of the same width.
template <typename T> struct U;
template <> struct U<i64> { typedef u64 t; };
template <> struct U<u8> { typedef u32 t; };

template <int OP, typename T>
__device__ __forceinline__ T int_op(T x, const P<T>& p) {
	typedef typename U<T>::t W;
	if constexpr (OP == OP_NEG) return (T)(W(0) - (W)x);
	else if constexpr (OP == OP_ABS) {
		if constexpr (T(-1) > T(0)) return x;  // unsigned
		else return x < 0 ? (T)(W(0) - (W)x) : x;
	} else if constexpr (OP == OP_SIGN) {
		if constexpr (T(-1) > T(0)) return x > 0 ? T(1) : T(0);
		else return x > 0 ? T(1) : (x < 0 ? T(-1) : T(0));
	}
	else if constexpr (OP == OP_SQUARE) return (T)((W)x * (W)x);
	else if constexpr (OP == OP_RELU) return x > 0 ? x : T(0);
	else if constexpr (OP == OP_STEP) return (double)x > p.da ? T(1) : T(0);
	else if constexpr (OP == OP_THRESHOLD) return (double)x > p.da ? x : p.b;
	else if constexpr (OP == OP_CLAMP) return go_min(go_max(x, p.a), p.b);
	else if constexpr (OP == OP_ADD_SCALAR) return (T)((W)x + (W)p.a);
	else if constexpr (OP == OP_MUL_SCALAR) return (T)((W)x * (W)p.a);
	else if constexpr (OP == OP_AFFINE) return (T)((W)x * (W)p.a + (W)p.b);
	else return (T)((W)p.a - (W)x);  // OP_RSUB_SCALAR
}

#define FLOAT_UNARY(name, OP) \
	extern "C" __global__ void __launch_bounds__(NB_EW_THREADS) name##_f32(float* d, const float* s, Iter it, Scalars sc) { \
		const P<float> p = params<float>(sc); \
		map1<op_width<OP>()>(d, s, it, [p](float x) { return float_op<OP, float>(x, p); }); \
	} \
	extern "C" __global__ void __launch_bounds__(NB_EW_THREADS) name##_f64(double* d, const double* s, Iter it, Scalars sc) { \
		const P<double> p = params<double>(sc); \
		map1<op_width<OP>()>(d, s, it, [p](double x) { return float_op<OP, double>(x, p); }); \
	}

#define I64_UNARY(name, OP) \
	FLOAT_UNARY(name, OP) \
	extern "C" __global__ void __launch_bounds__(NB_EW_THREADS) name##_i64(i64* d, const i64* s, Iter it, Scalars sc) { \
		const P<i64> p = params<i64>(sc); \
		map1(d, s, it, [p](i64 x) { return int_op<OP, i64>(x, p); }); \
	}

#define INT_UNARY(name, OP) \
	I64_UNARY(name, OP) \
	extern "C" __global__ void __launch_bounds__(NB_EW_THREADS) name##_u8(u8* d, const u8* s, Iter it, Scalars sc) { \
		const P<u8> p = params<u8>(sc); \
		map1(d, s, it, [p](u8 x) { return int_op<OP, u8>(x, p); }); \
	}

INT_UNARY(neg, OP_NEG)
INT_UNARY(abs, OP_ABS)
INT_UNARY(sign, OP_SIGN)
INT_UNARY(square, OP_SQUARE)
FLOAT_UNARY(exp, OP_EXP)
FLOAT_UNARY(log, OP_LOG)
FLOAT_UNARY(sqrt, OP_SQRT)
FLOAT_UNARY(rsqrt, OP_RSQRT)
FLOAT_UNARY(reciprocal, OP_RECIPROCAL)
FLOAT_UNARY(sin, OP_SIN)
FLOAT_UNARY(cos, OP_COS)
FLOAT_UNARY(sigmoid, OP_SIGMOID)
FLOAT_UNARY(tanh, OP_TANH)
INT_UNARY(relu, OP_RELU)
FLOAT_UNARY(leaky_relu, OP_LEAKY_RELU)
FLOAT_UNARY(elu, OP_ELU)
FLOAT_UNARY(softplus, OP_SOFTPLUS)
INT_UNARY(step, OP_STEP)
INT_UNARY(threshold, OP_THRESHOLD)
INT_UNARY(clamp, OP_CLAMP)
FLOAT_UNARY(pow_scalar, OP_POW_SCALAR)
I64_UNARY(add_scalar, OP_ADD_SCALAR)
I64_UNARY(mul_scalar, OP_MUL_SCALAR)
INT_UNARY(affine, OP_AFFINE)
I64_UNARY(rsub_scalar, OP_RSUB_SCALAR)
FLOAT_UNARY(rdiv_scalar, OP_RDIV_SCALAR)
FLOAT_UNARY(div_scalar, OP_DIV_SCALAR)
FLOAT_UNARY(floor, OP_FLOOR)
FLOAT_UNARY(ceil, OP_CEIL)
FLOAT_UNARY(round, OP_ROUND)
FLOAT_UNARY(log1p, OP_LOG1P)
FLOAT_UNARY(expm1, OP_EXPM1)
FLOAT_UNARY(gelu, OP_GELU)
FLOAT_UNARY(erf, OP_ERF)

extern "C" __global__ void __launch_bounds__(NB_EW_THREADS) not_bool(u8* d, const u8* s, Iter it, Scalars sc) {
	map1(d, s, it, [](u8 x) { return (u8)(x == 0); });
}
