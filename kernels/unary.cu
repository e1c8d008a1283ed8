// unary.cu: every device.UnaryOp, as <op>_<dtype> kernels (f32 and f64
// for all ops, i64 and u8 for the integer-capable ones, not_bool).
//
// Semantics follow device/cpu_unary.go: NaN passes through Sign, Relu and
// Clamp (Go's min/max), Round is half to even, integer arithmetic wraps.
// Float32 transcendental functions use CUDA's full-precision single
// routines (a few ulp); PowScalar goes through double as the CPU does.
#include "elementwise.cuh"

// Scalars carries alpha and beta already converted on the host with Go's
// conversions (float32(alpha), int64(alpha), uint8(alpha)).
struct Scalars {
	double da, db;
	i64 ia, ib;
	float fa, fb;
	u8 ua, ub;
	u8 pad[6];
};

template <typename T> struct P {
	T a, b;
	double da, db;
};
template <typename T> __device__ __forceinline__ P<T> params(const Scalars& s);
template <> __device__ __forceinline__ P<float> params<float>(const Scalars& s) { return {s.fa, s.fb, s.da, s.db}; }
template <> __device__ __forceinline__ P<double> params<double>(const Scalars& s) { return {s.da, s.db, s.da, s.db}; }
template <> __device__ __forceinline__ P<i64> params<i64>(const Scalars& s) { return {s.ia, s.ib, s.da, s.db}; }
template <> __device__ __forceinline__ P<u8> params<u8>(const Scalars& s) { return {s.ua, s.ub, s.da, s.db}; }

#define NB_MATH1(name, f32fn, f64fn) \
	__device__ __forceinline__ float name(float x) { return f32fn(x); } \
	__device__ __forceinline__ double name(double x) { return f64fn(x); }
NB_MATH1(m_exp, expf, exp)
NB_MATH1(m_log, logf, log)
NB_MATH1(m_sqrt, sqrtf, sqrt)
NB_MATH1(m_sin, sinf, sin)
NB_MATH1(m_cos, cosf, cos)
NB_MATH1(m_tanh, tanhf, tanh)
NB_MATH1(m_floor, floorf, floor)
NB_MATH1(m_ceil, ceilf, ceil)
NB_MATH1(m_rint, rintf, rint)
NB_MATH1(m_log1p, log1pf, log1p)
NB_MATH1(m_expm1, expm1f, expm1)
NB_MATH1(m_erf, erff, erf)
NB_MATH1(m_fabs, fabsf, fabs)

// Unfused multiply-add, as Go computes x*a + b on amd64.
__device__ __forceinline__ float m_muladd(float x, float a, float b) { return __fadd_rn(__fmul_rn(x, a), b); }
__device__ __forceinline__ double m_muladd(double x, double a, double b) { return __dadd_rn(__dmul_rn(x, a), b); }

__device__ __forceinline__ float m_sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }
__device__ __forceinline__ double m_sigmoid(double x) {
	if (x >= 0) return 1.0 / (1.0 + exp(-x));
	double e = exp(x);
	return e / (1.0 + e);
}
// gelu: x·Φ(x). In float32 the erfc form avoids the cancellation of
// 1+erf for negative x; float64 uses the CPU's formula.
__device__ __forceinline__ float m_gelu(float x) { return 0.5f * x * erfcf(-x * 0.70710678118654752f); }
__device__ __forceinline__ double m_gelu(double x) { return 0.5 * x * (1.0 + erf(x / 1.4142135623730951)); }

enum {
	OP_NEG, OP_ABS, OP_SIGN, OP_SQUARE, OP_EXP, OP_LOG, OP_SQRT, OP_RSQRT, OP_RECIPROCAL,
	OP_SIN, OP_COS, OP_SIGMOID, OP_TANH, OP_RELU, OP_LEAKY_RELU, OP_ELU, OP_SOFTPLUS,
	OP_STEP, OP_THRESHOLD, OP_CLAMP, OP_POW_SCALAR, OP_ADD_SCALAR, OP_MUL_SCALAR, OP_AFFINE,
	OP_RSUB_SCALAR, OP_RDIV_SCALAR, OP_DIV_SCALAR, OP_FLOOR, OP_CEIL, OP_ROUND, OP_LOG1P, OP_EXPM1, OP_GELU, OP_ERF
};

template <int OP, typename T>
__device__ __forceinline__ T float_op(T x, const P<T>& p) {
	if constexpr (OP == OP_NEG) return -x;
	else if constexpr (OP == OP_ABS) return m_fabs(x);
	else if constexpr (OP == OP_SIGN) return x > 0 ? T(1) : (x < 0 ? T(-1) : x);
	else if constexpr (OP == OP_SQUARE) return x * x;
	else if constexpr (OP == OP_EXP) return m_exp(x);
	else if constexpr (OP == OP_LOG) return m_log(x);
	else if constexpr (OP == OP_SQRT) return m_sqrt(x);
	else if constexpr (OP == OP_RSQRT) return T(1) / m_sqrt(x);
	else if constexpr (OP == OP_RECIPROCAL) return T(1) / x;
	else if constexpr (OP == OP_SIN) return m_sin(x);
	else if constexpr (OP == OP_COS) return m_cos(x);
	else if constexpr (OP == OP_SIGMOID) return m_sigmoid(x);
	else if constexpr (OP == OP_TANH) return m_tanh(x);
	else if constexpr (OP == OP_RELU) return x <= 0 ? T(0) : x;
	else if constexpr (OP == OP_LEAKY_RELU) return x > 0 ? x : p.a * x;
	else if constexpr (OP == OP_ELU) return x > 0 ? x : p.a * m_expm1(x);
	else if constexpr (OP == OP_SOFTPLUS) return x > T(20) ? x : m_log1p(m_exp(x));
	else if constexpr (OP == OP_STEP) return x > p.a ? T(1) : T(0);
	else if constexpr (OP == OP_THRESHOLD) return x > p.a ? x : p.b;
	else if constexpr (OP == OP_CLAMP) return go_min(go_max(x, p.a), p.b);
	else if constexpr (OP == OP_POW_SCALAR) return p.da == 2.0 ? x * x : T(pow((double)x, p.da));
	else if constexpr (OP == OP_ADD_SCALAR) return x + p.a;
	else if constexpr (OP == OP_MUL_SCALAR) return x * p.a;
	else if constexpr (OP == OP_AFFINE) return m_muladd(x, p.a, p.b);
	else if constexpr (OP == OP_RSUB_SCALAR) return p.a - x;
	else if constexpr (OP == OP_RDIV_SCALAR) return p.a / x;
	else if constexpr (OP == OP_DIV_SCALAR) return x / p.a;  // a true division, not x * (1/a)
	else if constexpr (OP == OP_FLOOR) return m_floor(x);
	else if constexpr (OP == OP_CEIL) return m_ceil(x);
	else if constexpr (OP == OP_ROUND) return m_rint(x);  // half to even
	else if constexpr (OP == OP_LOG1P) return m_log1p(x);
	else if constexpr (OP == OP_EXPM1) return m_expm1(x);
	else if constexpr (OP == OP_GELU) return m_gelu(x);
	else return m_erf(x);
}

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
		map1(d, s, it, [p](float x) { return float_op<OP, float>(x, p); }); \
	} \
	extern "C" __global__ void __launch_bounds__(NB_EW_THREADS) name##_f64(double* d, const double* s, Iter it, Scalars sc) { \
		const P<double> p = params<double>(sc); \
		map1(d, s, it, [p](double x) { return float_op<OP, double>(x, p); }); \
	}

#define INT_UNARY(name, OP) \
	FLOAT_UNARY(name, OP) \
	extern "C" __global__ void __launch_bounds__(NB_EW_THREADS) name##_i64(i64* d, const i64* s, Iter it, Scalars sc) { \
		const P<i64> p = params<i64>(sc); \
		map1(d, s, it, [p](i64 x) { return int_op<OP, i64>(x, p); }); \
	} \
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
INT_UNARY(add_scalar, OP_ADD_SCALAR)
INT_UNARY(mul_scalar, OP_MUL_SCALAR)
INT_UNARY(affine, OP_AFFINE)
INT_UNARY(rsub_scalar, OP_RSUB_SCALAR)
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
