// softmax.cu: softmax_<dtype> and log_softmax_<dtype> along the last
// dimension (f32, f64).
//
// One warp per row for rows up to 1024 columns, one block per row above.
// The statistics come from a single pass over the row with the online
// algorithm (running maximum m and sum s of e^(x-m), rescaled when m
// grows); in block mode the row is also kept in shared memory when it
// fits, so the input is read from global memory exactly once. The output
// pass writes e^(x-m)/s or (x - m) - log s (the CPU's order). NaN and infinities give what
// device/cpu_softmax.go gives: a row holding NaN, +Inf, or only -Inf is
// all NaN.
#include "nabla.cuh"

struct SmArgs {
	i64 rows, cols;
	int rank;     // outer rank, dims innermost first
	int cache;    // block mode: the row is cached in dynamic shared memory
	i64 shape[NB_MAX_RANK];
	i64 sOuter[NB_MAX_RANK];
	i64 dOuter[NB_MAX_RANK];
	i64 ss, ds;   // element strides along the row
};

__device__ __forceinline__ float m_exp(float x) { return expf(x); }
__device__ __forceinline__ double m_exp(double x) { return exp(x); }
__device__ __forceinline__ float m_log(float x) { return logf(x); }
__device__ __forceinline__ double m_log(double x) { return log(x); }

template <typename T>
struct MS {
	T m, s;
};

// ms_fold keeps an exp call in each branch: one exp ahead of the branches
// (as loss.cu's ls_fold has) saved a little code here but raised the f64
// kernels from 48 to 61 registers, a block of occupancy on sm_90.
template <typename T>
__device__ __forceinline__ void ms_fold(MS<T>& a, T x) {
	if (x > a.m) {
		a.s = a.s * m_exp(a.m - x) + T(1);
		a.m = x;
	} else if (x != -CUDART_INF) {  // -Inf adds nothing (a row of only -Inf is handled after pass 1)
		a.s += m_exp(x - a.m);       // NaN lands here and poisons s
	}
}

template <typename T>
__device__ __forceinline__ MS<T> ms_combine(MS<T> a, MS<T> b) {
	T m = (a.m != a.m || a.m > b.m) ? a.m : b.m;
	MS<T> o;
	o.m = m;
	o.s = m == -CUDART_INF ? T(0) : a.s * m_exp(a.m - m) + b.s * m_exp(b.m - m);
	return o;
}

// ms_warp and the block's combination below stay rolled: unrolled, they
// inlined ms_combine (two exp) five and up to 31 times.
template <typename T>
__device__ __forceinline__ MS<T> ms_warp(MS<T> a) {
#pragma unroll 1
	for (int d = 16; d > 0; d >>= 1) {
		MS<T> b;
		b.m = __shfl_xor_sync(0xffffffffu, a.m, d);
		b.s = __shfl_xor_sync(0xffffffffu, a.s, d);
		a = ms_combine(a, b);
	}
	return a;
}

template <typename T, bool LOG>
__device__ __forceinline__ void softmax_rows(T* dst, const T* src, const SmArgs& a, bool block) {
	extern __shared__ __align__(16) unsigned char sm_raw[];
	__shared__ MS<T> warps[32];
	T* cache = (T*)sm_raw;
	const int G = block ? blockDim.x : 32;
	const int lane = block ? threadIdx.x : (threadIdx.x & 31);
	const i64 first = block ? blockIdx.x : (nb_tid() >> 5);
	const i64 step = block ? gridDim.x : (nb_nthreads() >> 5);
	const bool useCache = block && a.cache;
	constexpr int N = 16 / sizeof(T);
#pragma unroll 1
	for (i64 row = first; row < a.rows; row += step) {
		// The row's offsets, over the merged outer dimensions (innermost
		// first; rolled and unsigned, as reduce.cu's outer_offsets).
		i64 so = 0, dofs = 0;
		u64 u = (u64)row;
		const int last = a.rank - 1;
#pragma unroll 1
		for (int d = 0; d < last; d++) {
			const u64 s = (u64)a.shape[d], q = u / s, r = u - q * s;
			u = q;
			so += (i64)r * a.sOuter[d];
			dofs += (i64)r * a.dOuter[d];
		}
		if (last >= 0) {
			so += (i64)u * a.sOuter[last];
			dofs += (i64)u * a.dOuter[last];
		}
		const T* p = src + so;
		T* q = dst + dofs;
		const bool vec = a.ss == 1 && a.ds == 1 && a.cols % N == 0 && nb_aligned<T, N>(p) && nb_aligned<T, N>(q);

		// Pass 1: running maximum and rescaled sum.
		MS<T> st;
		st.m = -CUDART_INF;
		st.s = 0;
		if (vec) {
			for (i64 v = lane; v < a.cols / N; v += G) {
				Vec<T, N> x = ((const Vec<T, N>*)p)[v];
				if (useCache) ((Vec<T, N>*)cache)[v] = x;
#pragma unroll
				for (int k = 0; k < N; k++) ms_fold(st, x.v[k]);
			}
		} else {
			for (i64 j = lane; j < a.cols; j += G) {
				T x = p[j * a.ss];
				if (useCache) cache[j] = x;
				ms_fold(st, x);
			}
		}
		st = ms_warp(st);
		if (block) {
			const int w = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
			if ((threadIdx.x & 31) == 0) warps[w] = st;
			__syncthreads();
			st = warps[0];
#pragma unroll 1
			for (int k = 1; k < nw; k++) st = ms_combine(st, warps[k]);
		}
		// A row of only -Inf (max -Inf) is NaN, as e^(-Inf - -Inf) is.
		const T m = st.m;
		const T s = m == -CUDART_INF ? T(CUDART_NAN) : st.s;
		const T inv = T(1) / s, ls = m_log(s);

		// Pass 2: write (from the cache when there is one).
		if (vec) {
			for (i64 v = lane; v < a.cols / N; v += G) {
				Vec<T, N> x = useCache ? ((const Vec<T, N>*)cache)[v] : ((const Vec<T, N>*)p)[v];
#pragma unroll
				for (int k = 0; k < N; k++) x.v[k] = LOG ? (x.v[k] - m) - ls : m_exp(x.v[k] - m) * inv;
				((Vec<T, N>*)q)[v] = x;
			}
		} else {
			for (i64 j = lane; j < a.cols; j += G) {
				T x = useCache ? cache[j] : p[j * a.ss];
				q[j * a.ds] = LOG ? (x - m) - ls : m_exp(x - m) * inv;
			}
		}
		if (block) __syncthreads();  // warps[] and the cache are reused by the next row
	}
}

#define SM extern "C" __global__ void __launch_bounds__(256, 1)
SM softmax_f32(float* d, const float* s, SmArgs a, int block) { softmax_rows<float, false>(d, s, a, block); }
SM softmax_f64(double* d, const double* s, SmArgs a, int block) { softmax_rows<double, false>(d, s, a, block); }
SM log_softmax_f32(float* d, const float* s, SmArgs a, int block) { softmax_rows<float, true>(d, s, a, block); }
SM log_softmax_f64(double* d, const double* s, SmArgs a, int block) { softmax_rows<double, true>(d, s, a, block); }
