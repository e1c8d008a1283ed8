// reduce.cu: device.Backend.Reduce over the trailing dimensions.
//
// <op>_<dtype> (op: sum prod max min argmax argmin with dtype f32 f64
// i64 u8, Bool reducing as u8; mean logsumexp var with f32 f64 only, as
// package tensor refuses them for integer tensors) folds each row, or each
// chunk of a row, with a group of threads: one thread per row for short
// rows, one warp per row for medium rows, one block per row (or per chunk)
// for long ones, combining the threads' partial states with warp shuffles.
// When rows are few and long (a full reduction), each row is split into
// chunks whose partial states go to a workspace, and <op>_part combines
// them: a two-pass reduction.
//
// Every state is accumulated in double, and the combination rules are
// those of device/cpu_reduce.go: Max/Min propagate NaN, ArgMax/ArgMin
// return the first index of the extreme (ties go to the smaller index),
// Var is the population variance (Welford per thread, Chan et al. to
// combine), LogSumExp is stabilised by the running maximum. The result is
// converted to dst's dtype as device.castCopy does.
#include "nabla.cuh"

struct RedArgs {
	i64 rows, cols;   // number of rows (outer positions) and columns (reduced elements)
	i64 split, chunk; // chunks per row and columns per chunk (split == 1: finish directly)
	int outRank;      // outer rank (dims innermost first)
	int inRank;       // inner rank after merging (0: one column)
	int group;        // threads per work item: 1, 32 or blockDim.x
	int outDType;     // dtype of dst
	i64 outShape[NB_MAX_RANK];
	i64 srcOuter[NB_MAX_RANK];
	i64 dstOuter[NB_MAX_RANK];
	i64 inShape[NB_MAX_RANK];
	i64 inStride[NB_MAX_RANK];
};

// St is a partial reduction, the redState of the CPU backend.
struct St {
	double acc, aux;
	i64 n, idx;
};

enum { R_SUM, R_MEAN, R_PROD, R_MAX, R_MIN, R_ARGMAX, R_ARGMIN, R_LSE, R_VAR };

template <int OP>
__device__ __forceinline__ St st_init() {
	St s;
	s.aux = 0;
	s.n = 0;
	s.idx = 0;
	if (OP == R_PROD) s.acc = 1;
	else if (OP == R_MAX || OP == R_ARGMAX || OP == R_LSE) s.acc = -CUDART_INF;
	else if (OP == R_MIN || OP == R_ARGMIN) s.acc = CUDART_INF;
	else s.acc = 0;
	return s;
}

template <int OP>
__device__ __forceinline__ void st_fold(St& s, double x, i64 j) {
	if (OP == R_SUM || OP == R_MEAN) {
		s.acc += x;
	} else if (OP == R_PROD) {
		s.acc *= x;
	} else if (OP == R_MAX || OP == R_ARGMAX) {
		if (s.n == 0 || x > s.acc || (x != x && s.acc == s.acc)) {
			s.acc = x;
			s.idx = j;
		}
	} else if (OP == R_MIN || OP == R_ARGMIN) {
		if (s.n == 0 || x < s.acc || (x != x && s.acc == s.acc)) {
			s.acc = x;
			s.idx = j;
		}
	} else if (OP == R_LSE) {
		// Two exp call sites, not one exp ahead of the branches: that
		// saved a little code but cost logsumexp_f64 registers (and on
		// sm_90 a block of occupancy).
		if (x != x) {
			s.acc = x;
		} else if (x > s.acc) {
			s.aux = s.aux * exp(s.acc - x) + 1;
			s.acc = x;
		} else if (x != -CUDART_INF) {
			s.aux += exp(x - s.acc);
		}
	} else {  // R_VAR: Welford
		double delta = x - s.acc;
		s.acc += delta / (double)(s.n + 1);
		s.aux += delta * (x - s.acc);
	}
	s.n++;
}

__device__ __forceinline__ double nanmax(double a, double b) { return (a != a || a > b) ? a : b; }

// st_combine merges two partial states in any order; ties of
// ArgMax/ArgMin go to the smaller index.
template <int OP>
__device__ __forceinline__ St st_combine(const St& a, const St& b) {
	if (a.n == 0) return b;
	if (b.n == 0) return a;
	St o;
	o.n = a.n + b.n;
	o.aux = 0;
	o.idx = 0;
	if (OP == R_SUM || OP == R_MEAN) {
		o.acc = a.acc + b.acc;
	} else if (OP == R_PROD) {
		o.acc = a.acc * b.acc;
	} else if (OP == R_MAX || OP == R_ARGMAX || OP == R_MIN || OP == R_ARGMIN) {
		const bool an = a.acc != a.acc, bn = b.acc != b.acc;
		bool better = (OP == R_MAX || OP == R_ARGMAX) ? b.acc > a.acc : b.acc < a.acc;
		bool tie = (an && bn) || (!an && !bn && b.acc == a.acc);
		bool takeB = (bn && !an) || better || (tie && b.idx < a.idx);
		o.acc = takeB ? b.acc : a.acc;
		o.idx = takeB ? b.idx : a.idx;
	} else if (OP == R_LSE) {
		double m = nanmax(a.acc, b.acc);
		o.acc = m;
		if (m != -CUDART_INF) o.aux = a.aux * exp(a.acc - m) + b.aux * exp(b.acc - m);
	} else {  // R_VAR: Chan et al.
		double delta = b.acc - a.acc, n = (double)o.n;
		o.acc = a.acc + delta * (double)b.n / n;
		o.aux = a.aux + b.aux + delta * delta * (double)a.n * (double)b.n / n;
	}
	return o;
}

template <int OP>
__device__ __forceinline__ double st_finish(const St& s) {
	if (OP == R_MEAN) return s.n == 0 ? CUDART_NAN : s.acc / (double)s.n;
	if (OP == R_ARGMAX || OP == R_ARGMIN) return (double)s.idx;
	if (OP == R_LSE) return isinf(s.acc) ? s.acc : s.acc + log(s.aux);
	if (OP == R_VAR) return s.n == 0 ? CUDART_NAN : s.aux / (double)s.n;
	return s.acc;
}

// st_shfl_down moves only the fields that OP reads (aux for LogSumExp and
// Var, idx for the extremes, whose ties it breaks); the others are 0, as
// st_combine leaves them. Each 64-bit field costs two shuffles, and ptxas
// adds a fallback sequence for every shuffle.
template <int OP>
__device__ __forceinline__ St st_shfl_down(const St& s, int delta) {
	St o;
	o.acc = __shfl_down_sync(0xffffffffu, s.acc, delta);
	o.n = __shfl_down_sync(0xffffffffu, s.n, delta);
	o.aux = (OP == R_LSE || OP == R_VAR) ? __shfl_down_sync(0xffffffffu, s.aux, delta) : 0.0;
	o.idx = (OP == R_MAX || OP == R_MIN || OP == R_ARGMAX || OP == R_ARGMIN) ? __shfl_down_sync(0xffffffffu, s.idx, delta) : 0;
	return o;
}

// warp_reduce combines the states of a warp into lane 0's. The loop stays
// rolled: unrolled, each of its call sites inlined st_combine five times
// (ten exp for LogSumExp), and a kernel had three call sites.
template <int OP>
__device__ __forceinline__ St warp_reduce(St s) {
#pragma unroll 1
	for (int d = 16; d > 0; d >>= 1) s = st_combine<OP>(s, st_shfl_down<OP>(s, d));
	return s;
}

// group_reduce combines the states of a group of G threads (32: a warp,
// more: the block) into its first thread's. One inlined warp_reduce serves
// both: in a block, the warps' combined states go through shared memory
// to warp 0, which combines them with a second pass (the other warps run
// it too, on the same values, rather than wait at the barrier with a
// second inlined copy of their own). The order of the combinations is the
// warp tree, then the tree of the warps, as before.
template <int OP>
__device__ __forceinline__ St group_reduce(St s, int G) {
	__shared__ St warps[32];
	const int lane = threadIdx.x & 31, nw = (blockDim.x + 31) >> 5;
#pragma unroll 1
	for (int pass = 0;; pass++) {
		s = warp_reduce<OP>(s);
		if (G <= 32 || pass > 0) break;
		if (lane == 0) warps[threadIdx.x >> 5] = s;
		__syncthreads();
		s = lane < nw ? warps[lane] : st_init<OP>();
		__syncthreads();  // warps[] is reused by the next work item
	}
	return s;
}

// outer_offsets and inner_offset split a row index and a column index
// over the merged dimensions (innermost first; the last one needs no
// division). The loops stay rolled, as iter_offsets' do (nabla.cuh): the
// ranks are small at run time, and unrolled to NB_MAX_RANK the 64-bit
// divisions were much of each kernel's code. The divisions are unsigned
// (indices and sizes are never negative; ptxas's unsigned 64-bit division
// is the shorter one), and nvcc divides in 32 bits when both operands fit.
__device__ __forceinline__ void outer_offsets(const RedArgs& a, i64 row, i64& so, i64& dofs) {
	so = 0;
	dofs = 0;
	u64 u = (u64)row;
	const int last = a.outRank - 1;
#pragma unroll 1
	for (int d = 0; d < last; d++) {
		const u64 s = (u64)a.outShape[d], q = u / s, r = u - q * s;
		u = q;
		so += (i64)r * a.srcOuter[d];
		dofs += (i64)r * a.dstOuter[d];
	}
	if (last >= 0) {
		so += (i64)u * a.srcOuter[last];
		dofs += (i64)u * a.dstOuter[last];
	}
}

// inner_offset is j itself when the columns are one contiguous run
// (inRank 1 with stride 1, or inRank 0: a single column).
__device__ __forceinline__ i64 inner_offset(const RedArgs& a, i64 j) {
	i64 off = 0;
	u64 u = (u64)j;
	const int last = a.inRank - 1;
#pragma unroll 1
	for (int d = 0; d < last; d++) {
		const u64 s = (u64)a.inShape[d], q = u / s, r = u - q * s;
		u = q;
		off += (i64)r * a.inStride[d];
	}
	return last < 0 ? (i64)u : off + (i64)u * a.inStride[last];
}

template <int OP, typename T>
__device__ __forceinline__ void reduce_rows(const T* src, void* dst, St* part, const RedArgs& a) {
	const int G = a.group;
	const i64 items = a.rows * a.split;
	i64 first, step;
	int lane;
	if (G == 1) {
		first = nb_tid();
		step = nb_nthreads();
		lane = 0;
	} else if (G == 32) {
		first = nb_tid() >> 5;
		step = nb_nthreads() >> 5;
		lane = threadIdx.x & 31;
	} else {
		first = blockIdx.x;
		step = gridDim.x;
		lane = threadIdx.x;
	}
	const bool contig = a.inRank == 0 || (a.inRank == 1 && a.inStride[0] == 1);
#pragma unroll 1
	for (i64 w = first; w < items; w += step) {
		const i64 row = (i64)((u64)w / (u64)a.split), chunk = w - row * a.split;  // unsigned, as in outer_offsets
		const i64 lo = chunk * a.chunk, hi = min(a.cols, lo + a.chunk);
		i64 so, dofs;
		outer_offsets(a, row, so, dofs);
		const T* p = src + so;
		St s = st_init<OP>();
		i64 j0 = lo;
		// LogSumExp is bound by exp, not by memory: no vector loads
		// (they would inline exp four times).
		constexpr int N = OP == R_LSE ? 1 : (16 / sizeof(T) > 4 ? 4 : 16 / sizeof(T));
		if (N > 1 && G > 1 && contig && nb_aligned<T, N>(p + lo)) {
			const i64 nv = (hi - lo) / N;
#pragma unroll 1
			for (i64 v = lane; v < nv; v += G) {
				Vec<T, N> x = *(const Vec<T, N>*)(p + lo + v * N);
#pragma unroll
				for (int q = 0; q < N; q++) st_fold<OP>(s, (double)x.v[q], lo + v * N + q);
			}
			j0 = lo + nv * N;
		}
		// One scalar loop for the tail, the short rows (G == 1) and the
		// strided columns: inner_offset(a, j) is j when contiguous, so
		// st_fold is inlined here once rather than once per layout.
#pragma unroll 1
		for (i64 j = j0 + lane; j < hi; j += G) st_fold<OP>(s, (double)p[inner_offset(a, j)], j);
		if (G > 1) s = group_reduce<OP>(s, G);
		if (lane == 0) {
			if (a.split == 1) store_as(dst, dofs, a.outDType, st_finish<OP>(s));
			else part[w] = s;
		}
	}
}

// <op>_part: one warp per row combines the row's split partial states.
template <int OP>
__device__ __forceinline__ void reduce_parts(void* dst, const St* part, const RedArgs& a) {
	const int lane = threadIdx.x & 31;
#pragma unroll 1
	for (i64 row = nb_tid() >> 5; row < a.rows; row += nb_nthreads() >> 5) {
		St s = st_init<OP>();
#pragma unroll 1
		for (i64 k = lane; k < a.split; k += 32) s = st_combine<OP>(s, part[row * a.split + k]);
		s = warp_reduce<OP>(s);
		if (lane == 0) {
			i64 so, dofs;
			outer_offsets(a, row, so, dofs);
			store_as(dst, dofs, a.outDType, st_finish<OP>(s));
		}
	}
}

#define RK extern "C" __global__ void __launch_bounds__(256, 1)
#define REDUCE_T(name, OP, T, sfx) \
	RK name##_##sfx(const T* src, void* dst, St* part, RedArgs a) { reduce_rows<OP, T>(src, dst, part, a); }
#define REDUCE_FLOAT(name, OP) \
	REDUCE_T(name, OP, float, f32) \
	REDUCE_T(name, OP, double, f64) \
	RK name##_part(void* dst, const St* part, RedArgs a) { reduce_parts<OP>(dst, part, a); }
#define REDUCE(name, OP) \
	REDUCE_FLOAT(name, OP) \
	REDUCE_T(name, OP, i64, i64) \
	REDUCE_T(name, OP, u8, u8)

REDUCE(sum, R_SUM)
REDUCE_FLOAT(mean, R_MEAN)
REDUCE(prod, R_PROD)
REDUCE(max, R_MAX)
REDUCE(min, R_MIN)
REDUCE(argmax, R_ARGMAX)
REDUCE(argmin, R_ARGMIN)
REDUCE_FLOAT(logsumexp, R_LSE)
REDUCE_FLOAT(var, R_VAR)
