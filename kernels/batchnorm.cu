// batchnorm.cu: the batch-norm primitives of device.Backend on an
// [N, C, L] operand (batch, channel, positions) with [C] per-channel
// vectors, for f32 and f64:
//
//   bn_stats_<dtype>          per-channel mean and biased variance
//   bn_stats_part_<dtype>     combines the parts of split channels
//   bn_forward_<dtype>        xhat = (x - mean)·invstd, y = xhat·w + b
//   bn_backward_reduce_<dtype> Σg and Σg·xhat per channel
//   bn_backward_part_<dtype>  combines the parts of split channels
//   bn_backward_dx_<dtype>    the input gradient
//
// The reductions keep a GPU busy when channels are few and long (a
// BatchNorm2d with 32 channels of 50 000 values each): the host splits
// every channel into parts (BnArgs.split), one block per (channel, part)
// folds its part, and when split > 1 a second kernel, one warp per
// channel, combines the parts from a workspace in a fixed order. No
// atomics: the result does not depend on scheduling. When L == 1 and the
// channels are the contiguous direction (BatchNorm1d on [N, C]), lanes
// take 32 neighbouring channels instead (BnArgs.cols), so loads coalesce.
//
// Accumulation is in double for both dtypes. Each thread sums the
// deviations of its values from its own first value (a shift close to
// the data, so the sums of squares do not cancel catastrophically), turns
// them into a (count, mean, M2) state, and states are merged with Chan,
// Golub and LeVeque's rule across lanes, warps and parts.
//
// The elementwise passes round every operation on its own (the __*_rn
// intrinsics are never contracted into FMAs), as the CPU backend does, so
// with the same statistics and sums they match it bit for bit.
#include "nabla.cuh"

struct BnArgs {
	i64 n, c, l;      // the [N, C, L] shape
	i64 m;            // n*l: values per channel
	i64 total;        // n*c*l
	i64 s[3][3];      // strides of the [N, C, L] operands, in the kernel's pointer order
	i64 vs[4];        // strides of the [C] operands, in the kernel's pointer order
	i64 split;        // reduction: parts per channel (1: the reduction kernel finishes)
	i64 chunk;        // reduction: positions (cols == 0) or batch items (cols == 1) per part
	u32 divL, shL;    // magic divider of l (see fast_div), when total < 2^31
	u32 divC, shC;    // magic divider of c
	int cols;         // reduction layout: 1 = lanes on channels (l == 1)
	int training;     // backward: the statistics came from the batch
	double inv_m;     // 1/m
};

// BnSt is a partial statistic: count, mean and the sum of squared
// deviations from the mean.
struct BnSt {
	double n, mean, m2;
};

// BnSums are a channel's (partial) gradient sums Σg and Σg·xhat.
struct BnSums {
	double g, gx;
};

#define BN_THREADS 256
#define BN_WARPS (BN_THREADS / 32)

// fast_div returns u / d for u < 2^31 from the host's magic numbers
// (mul, shift) of d (PyTorch's IntDivider): 3 instructions instead of a
// division subroutine.
__device__ __forceinline__ u32 fast_div(u32 u, u32 mul, u32 shift) { return (__umulhi(u, mul) + u) >> shift; }

// bn_index splits the linear index i of an [N, C, L] element.
__device__ __forceinline__ void bn_index(const BnArgs& a, i64 i, i64& n, i64& c, i64& l) {
	if (a.total <= 0x7fffffffLL) {
		const u32 u = (u32)i;
		const u32 q = fast_div(u, a.divL, a.shL);
		const u32 nn = fast_div(q, a.divC, a.shC);
		l = u - q * (u32)a.l;
		c = q - nn * (u32)a.c;
		n = nn;
	} else {
		const i64 q = i / a.l;
		l = i - q * a.l;
		n = q / a.c;
		c = q - n * a.c;
	}
}

__device__ __forceinline__ i64 bn_off(const BnArgs& a, int k, i64 n, i64 c, i64 l) {
	return n * a.s[k][0] + c * a.s[k][1] + l * a.s[k][2];
}

// ---- statistics ----

// Acc is one thread's running sums of deviations from its first value.
struct Acc {
	double shift, s1, s2, n;
};

__device__ __forceinline__ void acc_add(Acc& a, double v) {
	if (a.n == 0) a.shift = v;
	const double d = v - a.shift;
	a.s1 += d;
	a.s2 += d * d;
	a.n += 1;
}

__device__ __forceinline__ BnSt acc_state(const Acc& a) {
	BnSt s;
	s.n = a.n;
	s.mean = 0;
	s.m2 = 0;
	if (a.n > 0) {
		s.mean = a.shift + a.s1 / a.n;
		s.m2 = fmax(0.0, a.s2 - a.s1 * a.s1 / a.n);
	}
	return s;
}

// st_merge is Chan et al.'s combination of two partial statistics.
__device__ __forceinline__ BnSt st_merge(const BnSt& a, const BnSt& b) {
	if (b.n == 0) return a;
	if (a.n == 0) return b;
	BnSt o;
	o.n = a.n + b.n;
	const double d = b.mean - a.mean, fb = b.n / o.n;  // one division
	o.mean = a.mean + d * fb;
	o.m2 = a.m2 + b.m2 + d * d * (a.n * fb);
	return o;
}

__device__ __forceinline__ BnSt st_shfl_down(const BnSt& s, int delta) {
	BnSt o;
	o.n = __shfl_down_sync(0xffffffffu, s.n, delta);
	o.mean = __shfl_down_sync(0xffffffffu, s.mean, delta);
	o.m2 = __shfl_down_sync(0xffffffffu, s.m2, delta);
	return o;
}

// st_warp and sums_warp stay rolled, as every loop below that is not a
// hot reduction loop: unrolled, each st_warp inlined five merges (five
// double divisions), and nvcc unrolled the grid-stride loops of the
// elementwise passes four times (copying their bodies for every
// combination of the null-pointer tests) to no benefit, as loads cannot
// move ahead of the stores through these unrestricted pointers. The order
// of every operation is unchanged.
__device__ __forceinline__ BnSt st_warp(BnSt s) {
#pragma unroll 1
	for (int d = 16; d > 0; d >>= 1) s = st_merge(s, st_shfl_down(s, d));
	return s;
}

__device__ __forceinline__ BnSums sums_add(const BnSums& a, const BnSums& b) {
	BnSums o;
	o.g = a.g + b.g;
	o.gx = a.gx + b.gx;
	return o;
}

__device__ __forceinline__ BnSums sums_warp(BnSums s) {
#pragma unroll 1
	for (int d = 16; d > 0; d >>= 1) {
		BnSums o;
		o.g = __shfl_down_sync(0xffffffffu, s.g, d);
		o.gx = __shfl_down_sync(0xffffffffu, s.gx, d);
		s = sums_add(s, o);
	}
	return s;
}

// RowWalk steps one thread through a channel's positions j, j+B, j+2B, ...
// of an operand without dividing: j = nn*l + ll, and a step of B adds
// B/l batch items and B%l positions, carrying into the batch index when
// the position overflows.
struct RowWalk {
	i64 ll, dl;        // position, position step
	i64 off[2];        // offsets of up to two operands
	i64 step[2], wrap[2];
};

__device__ __forceinline__ RowWalk row_walk(const BnArgs& a, int k0, int nops, i64 c, i64 j) {
	RowWalk w;
	const i64 B = blockDim.x;
	const i64 nn = j / a.l, dn = B / a.l;
	w.ll = j - nn * a.l;
	w.dl = B - dn * a.l;
	for (int k = 0; k < 2; k++) {
		const int o = k0 + (k < nops ? k : 0);
		w.off[k] = c * a.s[o][1] + nn * a.s[o][0] + w.ll * a.s[o][2];
		w.step[k] = dn * a.s[o][0] + w.dl * a.s[o][2];
		w.wrap[k] = a.s[o][0] - a.l * a.s[o][2];
	}
	return w;
}

__device__ __forceinline__ void row_next(RowWalk& w, i64 l) {
	w.off[0] += w.step[0];
	w.off[1] += w.step[1];
	w.ll += w.dl;
	if (w.ll >= l) {
		w.ll -= l;
		w.off[0] += w.wrap[0];
		w.off[1] += w.wrap[1];
	}
}

// bn_stats: each work item is (channel, part) (rows) or (group of 32
// channels, part) (cols); it writes the channel's statistics, or the
// part's state to the workspace.
template <typename T>
__device__ __forceinline__ void bn_stats(const T* x, T* mean, T* var, BnSt* part, const BnArgs& a) {
	__shared__ BnSt sh[BN_WARPS][32];
	const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
	const i64 groups = a.cols ? (a.c + 31) / 32 : a.c;
	const i64 items = groups * a.split;
#pragma unroll 1
	for (i64 item = blockIdx.x; item < items; item += gridDim.x) {
		const i64 grp = item / a.split, s = item - grp * a.split;
		Acc acc = {0, 0, 0, 0};
		BnSt st;
		i64 c;
		if (a.cols) {
			c = grp * 32 + lane;
			const i64 r0 = s * a.chunk, r1 = min(a.n, r0 + a.chunk);
			if (c < a.c) {
				i64 off = c * a.s[0][1] + (r0 + warp) * a.s[0][0];
				const i64 step = nw * a.s[0][0];
				for (i64 r = r0 + warp; r < r1; r += nw, off += step) acc_add(acc, (double)x[off]);
			}
			// Merge the warps' states of each channel, in warp order.
			sh[warp][lane] = acc_state(acc);
			__syncthreads();
			st = sh[0][lane];
			if (warp == 0) {
#pragma unroll 1
				for (int k = 1; k < nw; k++) st = st_merge(st, sh[k][lane]);
			}
			__syncthreads();  // sh is reused by the next item
			if (warp != 0 || c >= a.c) continue;
		} else {
			c = grp;
			const i64 j0 = s * a.chunk, j1 = min(a.m, j0 + a.chunk);
			i64 j = j0 + threadIdx.x;
			if (j < j1) {
				RowWalk rw = row_walk(a, 0, 1, c, j);
				for (; j < j1; j += blockDim.x) {
					acc_add(acc, (double)x[rw.off[0]]);
					row_next(rw, a.l);
				}
			}
			st = st_warp(acc_state(acc));
			if (lane == 0) sh[0][warp] = st;
			__syncthreads();
			if (warp == 0) {
				st = lane < nw ? sh[0][lane] : BnSt{0, 0, 0};
				st = st_warp(st);
			}
			__syncthreads();
			if (threadIdx.x != 0) continue;
		}
		if (a.split == 1) {
			mean[c * a.vs[0]] = (T)st.mean;
			var[c * a.vs[1]] = (T)(st.m2 / st.n);
		} else {
			part[c * a.split + s] = st;
		}
	}
}

// bn_stats_part: one warp per channel merges the channel's parts; lane k
// takes parts k, k+32, ... in order, then the lanes merge as a tree.
template <typename T>
__device__ __forceinline__ void bn_stats_part(T* mean, T* var, const BnSt* part, const BnArgs& a) {
	const int lane = threadIdx.x & 31;
#pragma unroll 1
	for (i64 c = nb_tid() >> 5; c < a.c; c += nb_nthreads() >> 5) {
		BnSt st = {0, 0, 0};
#pragma unroll 1
		for (i64 k = lane; k < a.split; k += 32) st = st_merge(st, part[c * a.split + k]);
		st = st_warp(st);
		if (lane == 0) {
			mean[c * a.vs[0]] = (T)st.mean;
			var[c * a.vs[1]] = (T)(st.m2 / st.n);
		}
	}
}

// ---- forward ----

// Operands: s[0] = y, s[1] = xhat (may be null), s[2] = x; vs = mean,
// invstd, weight, bias (the last two may be null: 1 and 0).
template <typename T>
__device__ __forceinline__ void bn_forward(T* y, T* xhat, const T* x, const T* mean, const T* invstd,
                                           const T* w, const T* b, const BnArgs& a) {
#pragma unroll 1
	for (i64 i = nb_tid(); i < a.total; i += nb_nthreads()) {
		i64 n, c, l;
		bn_index(a, i, n, c, l);
		const T xh = mul_rn(sub_rn(x[bn_off(a, 2, n, c, l)], mean[c * a.vs[0]]), invstd[c * a.vs[1]]);
		if (xhat) xhat[bn_off(a, 1, n, c, l)] = xh;
		const T wc = w ? w[c * a.vs[2]] : T(1);
		const T bc = b ? b[c * a.vs[3]] : T(0);
		y[bn_off(a, 0, n, c, l)] = add_rn(mul_rn(xh, wc), bc);
	}
}

// ---- backward ----

// bn_finish writes a channel's results from its sums: dweight and dbias
// (either may be null) and, in training, the coefficients (a, k, b) of
// dx = a·g + k·xhat + b, computed in double and rounded once, as the CPU
// backend does. vs = invstd, weight, dweight, dbias.
template <typename T>
__device__ __forceinline__ void bn_finish(const BnSums& s, i64 c, T* coef, T* dw, T* db, const T* invstd,
                                          const T* w, const BnArgs& a) {
	if (dw) dw[c * a.vs[2]] = (T)s.gx;
	if (db) db[c * a.vs[3]] = (T)s.g;
	if (coef) {
		const double k = (double)invstd[c * a.vs[0]] * (w ? (double)w[c * a.vs[1]] : 1.0);
		coef[3 * c] = (T)k;
		coef[3 * c + 1] = (T)(-k * s.gx * a.inv_m);
		coef[3 * c + 2] = (T)(-k * s.g * a.inv_m);
	}
}

// bn_backward_reduce: Σg and Σg·xhat per (channel, part), as bn_stats.
// Operands: s[0] = g, s[1] = xhat.
template <typename T>
__device__ __forceinline__ void bn_backward_reduce(const T* g, const T* xhat, BnSums* part, T* coef, T* dw, T* db,
                                                   const T* invstd, const T* w, const BnArgs& a) {
	__shared__ BnSums sh[BN_WARPS][32];
	const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
	const i64 groups = a.cols ? (a.c + 31) / 32 : a.c;
	const i64 items = groups * a.split;
#pragma unroll 1
	for (i64 item = blockIdx.x; item < items; item += gridDim.x) {
		const i64 grp = item / a.split, s = item - grp * a.split;
		BnSums acc = {0, 0};
		i64 c;
		if (a.cols) {
			c = grp * 32 + lane;
			const i64 r0 = s * a.chunk, r1 = min(a.n, r0 + a.chunk);
			if (c < a.c) {
				i64 og = c * a.s[0][1] + (r0 + warp) * a.s[0][0];
				i64 oh = c * a.s[1][1] + (r0 + warp) * a.s[1][0];
				const i64 sg = nw * a.s[0][0], shh = nw * a.s[1][0];
				for (i64 r = r0 + warp; r < r1; r += nw, og += sg, oh += shh) {
					const double v = (double)g[og];
					acc.g += v;
					acc.gx += v * (double)xhat[oh];
				}
			}
			sh[warp][lane] = acc;
			__syncthreads();
			acc = sh[0][lane];
			if (warp == 0) {
#pragma unroll 1
				for (int k = 1; k < nw; k++) acc = sums_add(acc, sh[k][lane]);
			}
			__syncthreads();
			if (warp != 0 || c >= a.c) continue;
		} else {
			c = grp;
			const i64 j0 = s * a.chunk, j1 = min(a.m, j0 + a.chunk);
			i64 j = j0 + threadIdx.x;
			if (j < j1) {
				RowWalk rw = row_walk(a, 0, 2, c, j);
				for (; j < j1; j += blockDim.x) {
					const double v = (double)g[rw.off[0]];
					acc.g += v;
					acc.gx += v * (double)xhat[rw.off[1]];
					row_next(rw, a.l);
				}
			}
			acc = sums_warp(acc);
			if (lane == 0) sh[0][warp] = acc;
			__syncthreads();
			if (warp == 0) {
				acc = lane < nw ? sh[0][lane] : BnSums{0, 0};
				acc = sums_warp(acc);
			}
			__syncthreads();
			if (threadIdx.x != 0) continue;
		}
		if (a.split == 1) bn_finish<T>(acc, c, coef, dw, db, invstd, w, a);
		else part[c * a.split + s] = acc;
	}
}

template <typename T>
__device__ __forceinline__ void bn_backward_part(const BnSums* part, T* coef, T* dw, T* db, const T* invstd,
                                                 const T* w, const BnArgs& a) {
	const int lane = threadIdx.x & 31;
#pragma unroll 1
	for (i64 c = nb_tid() >> 5; c < a.c; c += nb_nthreads() >> 5) {
		BnSums s = {0, 0};
#pragma unroll 1
		for (i64 k = lane; k < a.split; k += 32) s = sums_add(s, part[c * a.split + k]);
		s = sums_warp(s);
		if (lane == 0) bn_finish<T>(s, c, coef, dw, db, invstd, w, a);
	}
}

// bn_backward_dx: training reads the coefficients bn_finish wrote;
// evaluation needs only invstd·w. Operands: s[0] = dx, s[1] = g,
// s[2] = xhat; vs[0] = invstd, vs[1] = weight (may be null).
template <typename T>
__device__ __forceinline__ void bn_backward_dx(T* dx, const T* g, const T* xhat, const T* coef, const T* invstd,
                                               const T* w, const BnArgs& a) {
#pragma unroll 1
	for (i64 i = nb_tid(); i < a.total; i += nb_nthreads()) {
		i64 n, c, l;
		bn_index(a, i, n, c, l);
		const T gv = g[bn_off(a, 1, n, c, l)];
		T v;
		if (a.training) {
			v = add_rn(add_rn(mul_rn(coef[3 * c], gv), mul_rn(coef[3 * c + 1], xhat[bn_off(a, 2, n, c, l)])), coef[3 * c + 2]);
		} else {
			const T k = (T)((double)invstd[c * a.vs[0]] * (w ? (double)w[c * a.vs[1]] : 1.0));
			v = mul_rn(k, gv);
		}
		dx[bn_off(a, 0, n, c, l)] = v;
	}
}

#define BK extern "C" __global__ void __launch_bounds__(BN_THREADS)
#define BATCHNORM(T, sfx) \
	BK bn_stats_##sfx(const T* x, T* mean, T* var, BnSt* part, BnArgs a) { bn_stats<T>(x, mean, var, part, a); } \
	BK bn_stats_part_##sfx(T* mean, T* var, const BnSt* part, BnArgs a) { bn_stats_part<T>(mean, var, part, a); } \
	BK bn_forward_##sfx(T* y, T* xhat, const T* x, const T* mean, const T* invstd, const T* w, const T* b, BnArgs a) { \
		bn_forward<T>(y, xhat, x, mean, invstd, w, b, a); \
	} \
	BK bn_backward_reduce_##sfx(const T* g, const T* xhat, BnSums* part, T* coef, T* dw, T* db, const T* invstd, \
	                            const T* w, BnArgs a) { \
		bn_backward_reduce<T>(g, xhat, part, coef, dw, db, invstd, w, a); \
	} \
	BK bn_backward_part_##sfx(const BnSums* part, T* coef, T* dw, T* db, const T* invstd, const T* w, BnArgs a) { \
		bn_backward_part<T>(part, coef, dw, db, invstd, w, a); \
	} \
	BK bn_backward_dx_##sfx(T* dx, const T* g, const T* xhat, const T* coef, const T* invstd, const T* w, BnArgs a) { \
		bn_backward_dx<T>(dx, g, xhat, coef, invstd, w, a); \
	}
BATCHNORM(float, f32)
BATCHNORM(double, f64)
