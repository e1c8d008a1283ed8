// bias.cu: the fused epilogue of a fully connected layer,
// d[m, n] = op(s[m, n] + bias[n]), as bias_<op>_<dtype> kernels (f32 and
// f64) for the activations of device.BiasActivationOps and add_scalar.
//
// The sum is rounded to T and then passed through unary.cuh's float_op,
// the function the unary kernels apply, so a fused kernel gives exactly
// what the binary add kernel followed by the unary kernel gives (there is
// no multiply before the add for the compiler to contract into an FMA).
// add_scalar with alpha 0 is the bias alone, without the "+ 0" that would
// turn a -0 sum into +0, matching device.BiasOnly.
#include "unary.cuh"

// BiasArgs is the launch geometry, planned on the host (device/cuda
// bias_plan.go): strides are in elements; vec selects the vector path,
// valid only when d and s are contiguous [m, n] rows, bias is contiguous,
// n is a multiple of the vector width and every pointer is 16-byte
// aligned.
struct BiasArgs {
	i64 m, n;      // rows, columns
	i64 ds0, ds1;  // destination row and column strides
	i64 ss0, ss1;  // source row and column strides
	i64 bs;        // bias stride
	int vec;
	int pad;
};

template <int OP, typename T>
__device__ __forceinline__ T bias_op(T x, T b, const P<T>& p) {
	const T z = x + b;
	if constexpr (OP == OP_ADD_SCALAR) {
		if (p.da == 0.0) return z;
	}
	return float_op<OP, T>(z, p);
}

// bias_act walks the work items with a grid-stride loop and keeps each
// item's column (and row) up to date by adding the stride's quotient and
// remainder, with a carry: one division per thread instead of one per
// item. The activations that call a transcendental function take one
// element per item even on the vector path (op_width in unary.cuh), so
// that the function is inlined once, not N+1 times; the grid, which the
// host sizes for vectors, covers them through the grid-stride loop.
template <int OP, typename T>
__device__ __forceinline__ void bias_act(T* d, const T* s, const T* b, const BiasArgs& a, const P<T>& p) {
	const i64 step = nb_nthreads(), tid = nb_tid();
	const i64 total = a.m * a.n;
	if (a.vec) {
		constexpr int N = op_width<OP>() ? op_width<OP>() : nb_vec<sizeof(T), sizeof(T)>::value;
		const i64 nv = total / N, per_row = a.n / N, dc = step % per_row;
		i64 c = tid % per_row;
#pragma unroll 1
		for (i64 v = tid; v < nv; v += step) {
			Vec<T, N> x = ((const Vec<T, N>*)s)[v];
			Vec<T, N> y = ((const Vec<T, N>*)b)[c];
			Vec<T, N> z;
#pragma unroll
			for (int q = 0; q < N; q++) z.v[q] = bias_op<OP, T>(x.v[q], y.v[q], p);
			((Vec<T, N>*)d)[v] = z;
			c += dc;
			if (c >= per_row) c -= per_row;
		}
		return;
	}
	const i64 dr = step / a.n, dc = step - dr * a.n;
	i64 r = tid / a.n, c = tid - r * a.n;
#pragma unroll 1
	for (i64 i = tid; i < total; i += step) {
		d[r * a.ds0 + c * a.ds1] = bias_op<OP, T>(s[r * a.ss0 + c * a.ss1], b[c * a.bs], p);
		r += dr;
		c += dc;
		if (c >= a.n) {
			c -= a.n;
			r++;
		}
	}
}

#define BIAS_ACT(name, OP) \
	extern "C" __global__ void __launch_bounds__(NB_EW_THREADS) bias_##name##_f32(float* d, const float* s, const float* b, BiasArgs a, Scalars sc) { \
		bias_act<OP, float>(d, s, b, a, params<float>(sc)); \
	} \
	extern "C" __global__ void __launch_bounds__(NB_EW_THREADS) bias_##name##_f64(double* d, const double* s, const double* b, BiasArgs a, Scalars sc) { \
		bias_act<OP, double>(d, s, b, a, params<double>(sc)); \
	}

BIAS_ACT(relu, OP_RELU)
BIAS_ACT(leaky_relu, OP_LEAKY_RELU)
BIAS_ACT(sigmoid, OP_SIGMOID)
BIAS_ACT(tanh, OP_TANH)
BIAS_ACT(elu, OP_ELU)
BIAS_ACT(softplus, OP_SOFTPLUS)
BIAS_ACT(gelu, OP_GELU)
BIAS_ACT(add_scalar, OP_ADD_SCALAR)
