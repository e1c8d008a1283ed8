// activation.cu: the fused training primitives of activations.
//
//   dropout_<f32|f64>(d, s, Iter, seed, offset, threshold, scale)
//     Backend.Dropout: d[i] = s[i]·m with m = scale where the Philox
//     draw of counter offset+i keeps element i and 0 elsewhere. The mask
//     is recomputed from the counters in the backward pass, never stored.
//
//   <op>_backward_<f32|f64>(dx, g, a, Iter, alpha, beta)
//     Backend.UnaryBackward: dx[i] = g[i]·f'(·) from a, the forward input
//     or output as device.UnaryOp.BackwardOperand says, for op in relu,
//     leaky_relu, threshold, clamp, softplus, gelu (a = x) and sigmoid,
//     tanh, elu (a = y).
//
// Bit-for-bit agreement with the CPU backend (device/cpu_dropout.go,
// device/cpu_unary_backward.go): dropout draws with philox.cuh, the
// generator of device/philox.go, and decides with the same integer
// comparison of the top 53 bits (device.DropoutMask), then multiplies
// once, as the CPU does. The selections and the polynomial gradients
// (sigmoid, tanh, elu) are the CPU's operations in the CPU's order, with
// no multiply-add to contract, so they agree exactly too; softplus and
// gelu use CUDA's exp and erfc in the dtype (a few ulp), where the CPU
// rounds a float64 result or uses its vectorised float32 exponential.
#include "elementwise.cuh"
#include "philox.cuh"

// dropout_mask is the factor of the element with counter ctr: scale when
// the top 53 bits of its first two Philox words (as device.randomValue
// combines them for a Bernoulli draw) are below threshold, else 0.
template <typename T>
__device__ __forceinline__ T dropout_mask(u64 seed, u64 ctr, u64 threshold, T scale) {
	const uint4 w = philox(seed, ctr);
	const u64 u = ((u64)w.x << 32) | (u64)w.y;
	return (u >> 11) < threshold ? scale : T(0);
}

// dropout_map is map1 (elementwise.cuh) with the element's linear index,
// its Philox counter less the offset, known to the element function. A
// Philox draw is ten rounds of multiplications, so the kernel is bound by
// arithmetic: no vector loop (see NB_SCALAR), one inlined copy of philox.
template <typename T>
__device__ __forceinline__ void dropout_map(T* d, const T* s, const Iter& it, u64 seed, u64 offset, u64 threshold, T scale) {
	const i64 n = it.n, step = nb_nthreads(), tid = nb_tid();
#pragma unroll 1
	for (i64 i = tid; i < n; i += step) {
		i64 off[2];
		at<2>(it, i, off);
		d[off[0]] = s[off[1]] * dropout_mask(seed, offset + (u64)i, threshold, scale);
	}
}

// scale arrives as the double 1/(1-p); (float) rounds it as Go's
// float32(scale) does.
extern "C" __global__ void __launch_bounds__(NB_EW_THREADS) dropout_f32(float* d, const float* s, Iter it, u64 seed, u64 offset, u64 threshold, double scale) {
	dropout_map<float>(d, s, it, seed, offset, threshold, (float)scale);
}
extern "C" __global__ void __launch_bounds__(NB_EW_THREADS) dropout_f64(double* d, const double* s, Iter it, u64 seed, u64 offset, u64 threshold, double scale) {
	dropout_map<double>(d, s, it, seed, offset, threshold, scale);
}

enum { G_RELU, G_LEAKY_RELU, G_THRESHOLD, G_CLAMP, G_SOFTPLUS, G_GELU, G_SIGMOID, G_TANH, G_ELU };

// The factors that need a transcendental function, in the dtype.
__device__ __forceinline__ float sigmoid_of(float x) { return 1.0f / (1.0f + expf(-x)); }
// The float64 form never overflows exp, as device's sigmoid; one call to
// exp serves both signs (inlined once, not twice).
__device__ __forceinline__ double sigmoid_of(double x) {
	const bool pos = x >= 0;
	const double e = exp(pos ? -x : x);
	return pos ? 1.0 / (1.0 + e) : e / (1.0 + e);
}
// gelu_grad is Φ(x) + x·φ(x), Φ through erfc so that it keeps its
// relative accuracy for negative x.
__device__ __forceinline__ float gelu_grad(float x) {
	return 0.5f * erfcf(-x * 0.70710678118654752f) + x * 0.39894228040143268f * expf(-0.5f * x * x);
}
__device__ __forceinline__ double gelu_grad(double x) {
	return 0.5 * erfc(-x / 1.4142135623730951) + x * 0.3989422804014327 * exp(-0.5 * x * x);
}

// grad_op is dx for one element: g the upstream gradient, a the operand
// the op reads, p and q alpha and beta in the dtype.
template <int OP, typename T>
__device__ __forceinline__ T grad_op(T g, T a, T p, T q) {
	if constexpr (OP == G_RELU) return a > T(0) ? g : T(0);
	else if constexpr (OP == G_LEAKY_RELU) return a > T(0) ? g : g * p;
	else if constexpr (OP == G_THRESHOLD) return a > p ? g : T(0);
	else if constexpr (OP == G_CLAMP) return (a >= p && a <= q) ? g : T(0);
	else if constexpr (OP == G_SOFTPLUS) return a > T(20) ? g : g * sigmoid_of(a);
	else if constexpr (OP == G_GELU) return g * gelu_grad(a);
	else if constexpr (OP == G_SIGMOID) return g * (a * (T(1) - a));
	else if constexpr (OP == G_TANH) return g * ((T(1) - a) * (T(1) + a));
	else return a > T(0) ? g : g * (a + p);  // G_ELU: a is the output
}

// The float32 softplus gradient divides, as the CPU's vector form does.
template <>
__device__ __forceinline__ float grad_op<G_SOFTPLUS, float>(float g, float a, float p, float q) {
	return a > 20.0f ? g : g / (1.0f + expf(-a));
}

// The gradients that call exp or erfc are bound by arithmetic: no vector
// loop (NB_SCALAR in elementwise.cuh), the function is inlined once.
template <int OP>
__device__ constexpr int grad_width() { return (OP == G_SOFTPLUS || OP == G_GELU) ? NB_SCALAR : 0; }

#define ACT_GRAD(name, OP) \
	extern "C" __global__ void __launch_bounds__(NB_EW_THREADS) name##_backward_f32(float* dx, const float* g, const float* a, Iter it, double alpha, double beta) { \
		const float p = (float)alpha, q = (float)beta; \
		map2<grad_width<OP>()>(dx, g, a, it, [p, q](float gv, float av) { return grad_op<OP, float>(gv, av, p, q); }); \
	} \
	extern "C" __global__ void __launch_bounds__(NB_EW_THREADS) name##_backward_f64(double* dx, const double* g, const double* a, Iter it, double alpha, double beta) { \
		map2<grad_width<OP>()>(dx, g, a, it, [alpha, beta](double gv, double av) { return grad_op<OP, double>(gv, av, alpha, beta); }); \
	}

ACT_GRAD(relu, G_RELU)
ACT_GRAD(leaky_relu, G_LEAKY_RELU)
ACT_GRAD(threshold, G_THRESHOLD)
ACT_GRAD(clamp, G_CLAMP)
ACT_GRAD(softplus, G_SOFTPLUS)
ACT_GRAD(gelu, G_GELU)
ACT_GRAD(sigmoid, G_SIGMOID)
ACT_GRAD(tanh, G_TANH)
ACT_GRAD(elu, G_ELU)
