// unary.cuh: the float formulas of every device.UnaryOp, shared by
// unary.cu (the unary kernels) and bias.cu (the fused bias + activation
// epilogue), so that a fused kernel computes exactly what the unary
// kernel would on the same input.
//
// Semantics follow device/cpu_unary.go: NaN passes through Sign, Relu and
// Clamp (Go's min/max), Round is half to even. Float32 transcendental
// functions use CUDA's full-precision single routines (a few ulp);
// PowScalar goes through double as the CPU does.
#pragma once
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
// 1/(1+e^-x) for x >= 0, e^x/(1+e^x) below, so exp never overflows; one
// call to exp serves both branches (inlined once, not twice).
__device__ __forceinline__ double m_sigmoid(double x) {
	const bool pos = x >= 0;
	const double e = exp(pos ? -x : x);
	return pos ? 1.0 / (1.0 + e) : e / (1.0 + e);
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

// op_width<OP>() is the W argument of map1 (elementwise.cuh) for op: the
// ops that call a transcendental function are bound by arithmetic, so
// they take no vector loop (NB_SCALAR) and inline the function once.
template <int OP>
__device__ constexpr int op_width() {
	return (OP == OP_EXP || OP == OP_LOG || OP == OP_SIN || OP == OP_COS || OP == OP_SIGMOID || OP == OP_TANH ||
	        OP == OP_ELU || OP == OP_SOFTPLUS || OP == OP_POW_SCALAR || OP == OP_LOG1P || OP == OP_EXPM1 ||
	        OP == OP_GELU || OP == OP_ERF)
	           ? NB_SCALAR
	           : 0;
}

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
