// elementwise.cuh: the map kernels shared by unary.cu, binary.cu and
// copy.cu. Each walks an Iter with a grid-stride loop: a contiguous fast
// path with 128-bit vector loads when every pointer is aligned, and a
// strided path that computes each operand's offset from the linear index.
#pragma once
#include "nabla.cuh"

#define NB_EW_THREADS 256

// nb_vec<A, B>::value is the vector width for element sizes A and B:
// 16 bytes of the wider type, at most 4 elements (byte types use 32-bit
// accesses, which keeps the number of inlined copies of the element
// function small).
template <int A, int B>
struct nb_vec {
	static constexpr int w = 16 / (A > B ? A : B);
	static constexpr int value = w > 4 ? 4 : w;
};

// NB_SCALAR is the width argument W of map1 and map2 for element
// functions bound by arithmetic rather than memory (a transcendental
// function, a Philox draw): no vector loop, so the function is inlined
// once instead of N+1 times. Loads and stores stay coalesced; what a
// vector access saves, an instruction or two per element, is noise next
// to such a function. (W = 0, the default, is nb_vec's width.)
#define NB_SCALAR 1

// at computes the operand offsets of element i: i itself on the
// contiguous path, from the strides otherwise. Every map kernel below has
// one vectorised loop for aligned contiguous operands and one general loop
// (the unaligned or tail elements, or the strided case), so the element
// function is inlined N+1 times, not more. Both loops carry
// "#pragma unroll 1": left alone, the compiler unrolls a grid-stride loop
// four times plus a remainder (and computes the trip count with a 64-bit
// division), which inlined the element function 5N+1 times and bought
// little: gridFor launches one thread per element up to a full wave, so
// only tensors of millions of elements loop at all, and without
// __restrict__ the unrolled loads cannot move ahead of the stores (the
// unrolled PTX was load, op, store, load, op, store, ...).
template <int K>
__device__ __forceinline__ void at(const Iter& it, i64 i, i64 (&off)[K]) {
	if (it.rank == 0) {
#pragma unroll
		for (int k = 0; k < K; k++) off[k] = i;
	} else {
		iter_offsets<K>(it, i, off);
	}
}

// map0: d[i] = v (fills).
template <typename D>
__device__ __forceinline__ void map0(D* d, const Iter& it, D val) {
	const i64 n = it.n, step = nb_nthreads(), tid = nb_tid();
	i64 start = 0;
	constexpr int N = nb_vec<sizeof(D), sizeof(D)>::value;
	if (it.rank == 0 && nb_aligned<D, N>(d)) {
		const i64 nv = n / N;
		Vec<D, N> y;
#pragma unroll
		for (int q = 0; q < N; q++) y.v[q] = val;
#pragma unroll 1
		for (i64 v = tid; v < nv; v += step) ((Vec<D, N>*)d)[v] = y;
		start = nv * N;
	}
#pragma unroll 1
	for (i64 i = start + tid; i < n; i += step) {
		i64 off[1];
		at<1>(it, i, off);
		d[off[0]] = val;
	}
}

// map1: d[i] = f(s[i]).
template <int W = 0, typename D, typename S, typename F>
__device__ __forceinline__ void map1(D* d, const S* s, const Iter& it, F f) {
	const i64 n = it.n, step = nb_nthreads(), tid = nb_tid();
	i64 start = 0;
	constexpr int N = W ? W : nb_vec<sizeof(D), sizeof(S)>::value;
	if (N > 1 && it.rank == 0 && nb_aligned<D, N>(d) && nb_aligned<S, N>(s)) {
		const i64 nv = n / N;
#pragma unroll 1
		for (i64 v = tid; v < nv; v += step) {
			Vec<S, N> x = ((const Vec<S, N>*)s)[v];
			Vec<D, N> y;
#pragma unroll
			for (int q = 0; q < N; q++) y.v[q] = f(x.v[q]);
			((Vec<D, N>*)d)[v] = y;
		}
		start = nv * N;
	}
#pragma unroll 1
	for (i64 i = start + tid; i < n; i += step) {
		i64 off[2];
		at<2>(it, i, off);
		d[off[0]] = f(s[off[1]]);
	}
}

// map2: d[i] = f(a[i], b[i]).
template <int W = 0, typename D, typename S, typename F>
__device__ __forceinline__ void map2(D* d, const S* a, const S* b, const Iter& it, F f) {
	const i64 n = it.n, step = nb_nthreads(), tid = nb_tid();
	i64 start = 0;
	constexpr int N = W ? W : nb_vec<sizeof(D), sizeof(S)>::value;
	if (N > 1 && it.rank == 0 && nb_aligned<D, N>(d) && nb_aligned<S, N>(a) && nb_aligned<S, N>(b)) {
		const i64 nv = n / N;
#pragma unroll 1
		for (i64 v = tid; v < nv; v += step) {
			Vec<S, N> x = ((const Vec<S, N>*)a)[v];
			Vec<S, N> y = ((const Vec<S, N>*)b)[v];
			Vec<D, N> z;
#pragma unroll
			for (int q = 0; q < N; q++) z.v[q] = f(x.v[q], y.v[q]);
			((Vec<D, N>*)d)[v] = z;
		}
		start = nv * N;
	}
#pragma unroll 1
	for (i64 i = start + tid; i < n; i += step) {
		i64 off[3];
		at<3>(it, i, off);
		d[off[0]] = f(a[off[1]], b[off[2]]);
	}
}

// map3: d[i] = f(c[i], a[i], b[i]) with a Bool first operand (Where).
template <typename T, typename F>
__device__ __forceinline__ void map3(T* d, const u8* c, const T* a, const T* b, const Iter& it, F f) {
	const i64 n = it.n, step = nb_nthreads(), tid = nb_tid();
	i64 start = 0;
	constexpr int N = nb_vec<sizeof(T), sizeof(T)>::value;
	if (it.rank == 0 && nb_aligned<T, N>(d) && nb_aligned<u8, N>(c) && nb_aligned<T, N>(a) && nb_aligned<T, N>(b)) {
		const i64 nv = n / N;
#pragma unroll 1
		for (i64 v = tid; v < nv; v += step) {
			Vec<u8, N> w = ((const Vec<u8, N>*)c)[v];
			Vec<T, N> x = ((const Vec<T, N>*)a)[v];
			Vec<T, N> y = ((const Vec<T, N>*)b)[v];
			Vec<T, N> z;
#pragma unroll
			for (int q = 0; q < N; q++) z.v[q] = f(w.v[q], x.v[q], y.v[q]);
			((Vec<T, N>*)d)[v] = z;
		}
		start = nv * N;
	}
#pragma unroll 1
	for (i64 i = start + tid; i < n; i += step) {
		i64 off[4];
		at<4>(it, i, off);
		d[off[0]] = f(c[off[1]], a[off[2]], b[off[3]]);
	}
}
