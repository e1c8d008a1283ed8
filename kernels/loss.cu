// loss.cu: cross_entropy_<dtype> and cross_entropy_backward_<dtype> (f32
// f64) for device.Backend.CrossEntropy and CrossEntropyBackward: the
// fused log-softmax + negative log-likelihood of logits x [M, C] against
// int64 labels [M].
//
// Forward: lse[i] = logsumexp(x[i, :]) and loss[i] = lse[i] - x[i, k],
// k = labels[i], reading each row once with the online algorithm (a
// running maximum m and sum s of e^(x-m), rescaled when m grows), then
// one lane computes loss = (m - x[k]) + log s (both terms >= 0, so
// nothing cancels) and lse = m + log s. Backward: dx[i, j] =
// g[i]·(e^(x[i, j] - lse[i]) - [j == k]), one pass.
//
// A row is handled by a group of lanes: CeArgs.group lanes (a power of
// two up to 32, the smallest that covers the row, so ten classes keep 10
// of 16 lanes busy rather than 10 of 32) or, with group 0, by a whole
// block for rows above 1024 columns. Rows are handed out per warp (per
// block), so every lane of a warp runs the same number of iterations and
// the shuffles see all 32 lanes; lanes without a row fold nothing.
//
// NaN and infinities give what device/cpu_loss.go gives (the LogSumExp
// reduction's lse): a NaN in the row makes m, lse and loss NaN, an
// infinite maximum m gives lse = m and loss = m - x[k]. A label outside
// [0, C) is reported through the error word (the host raises it at the
// next synchronisation) and gives a NaN loss (forward) or a row without
// the one-hot term (backward).
#include "nabla.cuh"

// NB_ERR_LABEL is the error word's code for a bad label (errLabel in
// device/cuda/abi.go): dim holds the row (or -1 past 2^31), value the
// label and limit the number of classes.
#define NB_ERR_LABEL 4

struct CeArgs {
	i64 rows, cols;
	i64 xs0, xs1;  // x: row and column strides
	i64 ds0, ds1;  // dx (backward)
	i64 ls;        // labels
	i64 as, bs;    // the [M] operands: loss and lse (forward), lse and g (backward)
	int group;     // lanes per row (1, 2, 4, ..., 32), or 0 for a block per row
	int pad;
};

__device__ __forceinline__ float ce_exp(float x) { return expf(x); }
__device__ __forceinline__ double ce_exp(double x) { return exp(x); }
__device__ __forceinline__ float ce_log(float x) { return logf(x); }
__device__ __forceinline__ double ce_log(double x) { return log(x); }

// LS is a partial logsumexp: the maximum m seen and s = Σ e^(x - m).
template <typename T>
struct LS {
	T m, s;
};

template <typename T>
__device__ __forceinline__ void ls_fold(LS<T>& a, T x) {
	if (x > a.m) {
		a.s = a.s * ce_exp(a.m - x) + T(1);
		a.m = x;
	} else if (x != x) {
		a.m = x;  // NaN poisons the maximum, and with it lse and the loss
	} else if (x != T(-CUDART_INF)) {
		a.s += ce_exp(x - a.m);  // -Inf adds nothing; +Inf twice gives NaN, unused as m is infinite
	}
}

template <typename T>
__device__ __forceinline__ LS<T> ls_combine(LS<T> a, LS<T> b) {
	LS<T> o;
	o.m = (a.m != a.m || a.m > b.m) ? a.m : b.m;
	o.s = isfinite(o.m) ? a.s * ce_exp(a.m - o.m) + b.s * ce_exp(b.m - o.m) : T(0);
	return o;
}

// ce_lanes maps the calling thread onto rows: lane is its index within its
// row's group, sub the group's index within the warp, and the rows it
// visits are first + sub, first + step + sub, ...
struct CeLanes {
	int G, lane, sub;
	i64 first, step;
};

__device__ __forceinline__ CeLanes ce_lanes(const CeArgs& a) {
	CeLanes l;
	if (a.group == 0) {
		l.G = blockDim.x;
		l.lane = threadIdx.x;
		l.sub = 0;
		l.first = blockIdx.x;
		l.step = gridDim.x;
		return l;
	}
	const int rpw = 32 / a.group;  // rows per warp
	l.G = a.group;
	l.lane = threadIdx.x & (a.group - 1);
	l.sub = (threadIdx.x & 31) / a.group;
	l.first = (nb_tid() >> 5) * rpw;
	l.step = (nb_nthreads() >> 5) * rpw;
	return l;
}

template <typename T>
__device__ __forceinline__ void ce_forward(T* loss, T* lse, const T* x, const i64* labels, const CeArgs& a, ErrWord* e) {
	__shared__ LS<T> warps[32];
	constexpr int N = 16 / sizeof(T);
	const bool block = a.group == 0;
	const CeLanes l = ce_lanes(a);
	for (i64 base = l.first; base < a.rows; base += l.step) {
		const i64 row = base + l.sub;
		const bool active = row < a.rows;
		LS<T> st;
		st.m = T(-CUDART_INF);
		st.s = T(0);
		if (active) {
			const T* p = x + row * a.xs0;
			if (a.xs1 == 1 && a.cols % N == 0 && nb_aligned<T, N>(p)) {
				for (i64 v = l.lane; v < a.cols / N; v += l.G) {
					const Vec<T, N> xv = ((const Vec<T, N>*)p)[v];
#pragma unroll
					for (int t = 0; t < N; t++) ls_fold(st, xv.v[t]);
				}
			} else {
				for (i64 j = l.lane; j < a.cols; j += l.G) ls_fold(st, p[j * a.xs1]);
			}
		}
		// Combine the group's lanes (the whole warp in block mode).
		for (int d = (block ? 32 : l.G) >> 1; d > 0; d >>= 1) {
			LS<T> o;
			o.m = __shfl_xor_sync(0xffffffffu, st.m, d);
			o.s = __shfl_xor_sync(0xffffffffu, st.s, d);
			st = ls_combine(st, o);
		}
		if (block) {
			const int nw = (blockDim.x + 31) >> 5;
			if ((threadIdx.x & 31) == 0) warps[threadIdx.x >> 5] = st;
			__syncthreads();
			st = warps[0];
			for (int w = 1; w < nw; w++) st = ls_combine(st, warps[w]);
		}
		if (active && l.lane == 0) {
			const i64 k = labels[row * a.ls];
			const T m = st.m;
			const T lg = isfinite(m) ? ce_log(st.s) : T(0);
			T out = T(CUDART_NAN);
			if (k < 0 || k >= a.cols) {
				if (e->code == 0) nb_report(e, NB_ERR_LABEL, row <= 0x7fffffffLL ? (int)row : -1, k, a.cols);
			} else {
				out = (m - x[row * a.xs0 + k * a.xs1]) + lg;
			}
			loss[row * a.as] = out;
			lse[row * a.bs] = m + lg;
		}
		if (block) __syncthreads();  // warps[] is reused by the next row
	}
}

template <typename T>
__device__ __forceinline__ void ce_backward(T* dx, const T* x, const T* lse, const i64* labels, const T* g, const CeArgs& a, ErrWord* e) {
	constexpr int N = 16 / sizeof(T);
	const CeLanes l = ce_lanes(a);
	for (i64 base = l.first; base < a.rows; base += l.step) {
		const i64 row = base + l.sub;
		if (row >= a.rows) continue;  // no shuffles here: lanes may leave early
		const i64 k = labels[row * a.ls];
		if ((k < 0 || k >= a.cols) && l.lane == 0 && e->code == 0) {
			nb_report(e, NB_ERR_LABEL, row <= 0x7fffffffLL ? (int)row : -1, k, a.cols);
		}
		const T lv = lse[row * a.as], gv = g[row * a.bs];
		const T* p = x + row * a.xs0;
		T* q = dx + row * a.ds0;
		// g·(p - 1) at the label, not g·p - g: a probability near 1 keeps
		// its low bits (the CPU backend's order). Vector accesses only for
		// float: a pair of doubles gains little, and ptxas spills the f64
		// kernel for sm_90 with them.
		if (sizeof(T) == 4 && a.xs1 == 1 && a.ds1 == 1 && a.cols % N == 0 && nb_aligned<T, N>(p) && nb_aligned<T, N>(q)) {
			for (i64 v = l.lane; v < a.cols / N; v += l.G) {
				Vec<T, N> xv = ((const Vec<T, N>*)p)[v];
#pragma unroll
				for (int t = 0; t < N; t++) {
					const T pr = ce_exp(xv.v[t] - lv);
					xv.v[t] = gv * (v * N + t == k ? pr - T(1) : pr);
				}
				((Vec<T, N>*)q)[v] = xv;
			}
		} else {
			for (i64 j = l.lane; j < a.cols; j += l.G) {
				const T pr = ce_exp(p[j * a.xs1] - lv);
				q[j * a.ds1] = gv * (j == k ? pr - T(1) : pr);
			}
		}
	}
}

#define LK extern "C" __global__ void __launch_bounds__(256)
#define LOSS(T, sfx) \
	LK cross_entropy_##sfx(T* loss, T* lse, const T* x, const i64* labels, CeArgs a, ErrWord* e) { ce_forward<T>(loss, lse, x, labels, a, e); } \
	LK cross_entropy_backward_##sfx(T* dx, const T* x, const T* lse, const i64* labels, const T* g, CeArgs a, ErrWord* e) { ce_backward<T>(dx, x, lse, labels, g, a, e); }
LOSS(float, f32)
LOSS(double, f64)
