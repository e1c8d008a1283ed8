// nabla.cuh: definitions shared by every kernel family in kernels/*.cu.
//
// The Go side (package device/cuda) mirrors the structs below byte for
// byte and packs them into the kernel parameter buffer; change both
// together. All fields are 64-bit or explicitly padded so the layout is
// the same on every compiler.
#pragma once
#include <math_constants.h>

typedef long long i64;
typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned char u8;

#define NB_MAX_RANK 8
#define NB_MAX_OPS 4

// dtype codes, the values of device.DType.
#define NB_F32 0
#define NB_F64 1
#define NB_I64 2
#define NB_BOOL 3
#define NB_U8 4

// Iter is the iteration space of an elementwise operation over up to four
// operands of one shape. The host drops size-1 dimensions and merges
// adjacent dimensions that every operand allows, then stores the
// dimensions innermost first: shape[0] is the fastest-varying dimension.
// rank == 0 means that every operand is contiguous (the operands' offsets
// are folded into their pointers), so element i lives at p[i].
struct Iter {
	i64 n;       // number of elements
	int rank;    // 0: contiguous fast path; else 1..NB_MAX_RANK
	int pad;
	i64 shape[NB_MAX_RANK];
	i64 stride[NB_MAX_OPS][NB_MAX_RANK];
};

// iter_offsets computes the element offsets of linear index i (row-major
// over the unmerged shape) for the first K operands of it. This is the
// strided path of every map kernel (broadcasts, transposed views), so it
// is inlined into hundreds of kernels: the loops over the dimensions stay
// rolled (unrolled to NB_MAX_RANK for 32- and 64-bit indices they were
// most of the PTX of a simple kernel, and the rank is small at run time).
// The innermost dimension comes first; the last one needs no division.
// Needs it.rank >= 1 (at() in elementwise.cuh takes rank 0 itself).
template <int K>
__device__ __forceinline__ void iter_offsets(const Iter& it, i64 i, i64 (&off)[K]) {
#pragma unroll
	for (int k = 0; k < K; k++) off[k] = 0;
	const int last = it.rank - 1;
	if (it.n <= 0x7fffffffLL) {
		// 32-bit division is several times cheaper than 64-bit.
		u32 u = (u32)i;
#pragma unroll 1
		for (int d = 0; d < last; d++) {
			const u32 s = (u32)it.shape[d];
			const u32 q = u / s, r = u - q * s;
			u = q;
#pragma unroll
			for (int k = 0; k < K; k++) off[k] += (i64)r * it.stride[k][d];
		}
#pragma unroll
		for (int k = 0; k < K; k++) off[k] += (i64)u * it.stride[k][last];
	} else {
		// Unsigned: indices and sizes are never negative, and ptxas's
		// unsigned 64-bit division is shorter than the signed one.
		u64 u = (u64)i;
#pragma unroll 1
		for (int d = 0; d < last; d++) {
			const u64 s = (u64)it.shape[d];
			const u64 q = u / s, r = u - q * s;
			u = q;
#pragma unroll
			for (int k = 0; k < K; k++) off[k] += (i64)r * it.stride[k][d];
		}
#pragma unroll
		for (int k = 0; k < K; k++) off[k] += (i64)u * it.stride[k][last];
	}
}

// nb_opaque returns x unchanged, hidden from the optimizer (an empty asm
// that claims to modify it). A loop that tests a flag through it is not
// unswitched on the flag: on the plain flag nvcc 11.8 emits one copy of
// the loop per value of the flag.
__device__ __forceinline__ int nb_opaque(int x) {
	asm("" : "+r"(x));
	return x;
}

// Grid-stride loop helpers.
__device__ __forceinline__ i64 nb_tid() { return (i64)blockIdx.x * blockDim.x + threadIdx.x; }
__device__ __forceinline__ i64 nb_nthreads() { return (i64)gridDim.x * blockDim.x; }

// Vec is N elements of T loaded or stored with one vector instruction.
template <typename T, int N>
struct __align__(sizeof(T) * N) Vec {
	T v[N];
};

template <typename T, int N>
__device__ __forceinline__ bool nb_aligned(const void* p) {
	return ((unsigned long long)p % (sizeof(T) * N)) == 0;
}

// ErrWord is the asynchronous error report of a device: the first kernel
// that finds a bad input (an integer division by zero, an index out of
// range) claims it with an atomic compare-and-swap; the host reads and
// clears it when it next synchronises.
struct ErrWord {
	int code;    // 0: no error; see the NB_ERR_* codes
	int dim;
	i64 value;   // the offending index
	i64 limit;   // the size it had to be below
};

#define NB_ERR_DIV_ZERO 1
#define NB_ERR_GATHER_INDEX 2
#define NB_ERR_SCATTER_INDEX 3

__device__ __forceinline__ void nb_report(ErrWord* e, int code, int dim, i64 value, i64 limit) {
	if (atomicCAS(&e->code, 0, -1) == 0) {
		e->dim = dim;
		e->value = value;
		e->limit = limit;
		__threadfence_system();
		atomicExch(&e->code, code);
	}
}

// Go's min and max for floats: NaN if either operand is NaN (x's when
// both are), and -0 < +0. Written as a chain of selects, the later ones
// taking precedence, rather than early returns: with branches nvcc
// unswitched the map loops on a loop-invariant operand's NaN test (clamp's
// bounds), copying the whole loop, and inlined each test N+1 times.
template <typename T>
__device__ __forceinline__ T go_max(T x, T y) {
	T r = signbit(x) ? y : x;  // equal: prefer +0
	r = y > x ? y : r;
	r = x > y ? x : r;
	r = y != y ? y : r;
	return x != x ? x : r;
}
template <typename T>
__device__ __forceinline__ T go_min(T x, T y) {
	T r = signbit(x) ? x : y;  // equal: prefer -0
	r = y < x ? y : r;
	r = x < y ? x : r;
	r = y != y ? y : r;
	return x != x ? x : r;
}
__device__ __forceinline__ i64 go_max(i64 x, i64 y) { return x > y ? x : y; }
__device__ __forceinline__ i64 go_min(i64 x, i64 y) { return x < y ? x : y; }
__device__ __forceinline__ u8 go_max(u8 x, u8 y) { return x > y ? x : y; }
__device__ __forceinline__ u8 go_min(u8 x, u8 y) { return x < y ? x : y; }

// go_i64 is Go's int64(v) as the CPU backend computes it on amd64: it
// truncates toward zero, and a NaN or out-of-range value gives MinInt64
// (the x86 conversion's "integer indefinite"), where a plain CUDA
// conversion would saturate.
__device__ __forceinline__ i64 go_i64(double v) {
	return (v >= -9223372036854775808.0 && v < 9223372036854775808.0) ? (i64)v : (i64)0x8000000000000000ULL;
}

// Conversions with the CPU backend's semantics: every cast goes through
// float64, as device.castCopy does; to u8 through int64, wrapping.
template <typename T> __device__ __forceinline__ double to_f64(T x) { return (double)x; }
template <typename T> __device__ __forceinline__ T from_f64(double v);
template <> __device__ __forceinline__ float from_f64<float>(double v) { return (float)v; }
template <> __device__ __forceinline__ double from_f64<double>(double v) { return v; }
template <> __device__ __forceinline__ i64 from_f64<i64>(double v) { return go_i64(v); }
template <> __device__ __forceinline__ u8 from_f64<u8>(double v) { return (u8)go_i64(v); }


// store_as writes v converted to dtype dt at p[i] (reductions choose the
// output dtype at run time).
__device__ __forceinline__ void store_as(void* p, i64 i, int dt, double v) {
	switch (dt) {
	case NB_F32: ((float*)p)[i] = (float)v; break;
	case NB_F64: ((double*)p)[i] = v; break;
	case NB_I64: ((i64*)p)[i] = go_i64(v); break;
	case NB_BOOL: ((u8*)p)[i] = (v != 0); break;
	default: ((u8*)p)[i] = (u8)go_i64(v); break;
	}
}

// Correctly rounded arithmetic that the compiler may not contract into
// FMAs: kernels whose results must equal the CPU backend's bit for bit
// (optimizer updates, batch-norm passes) spell every operation with these.
__device__ __forceinline__ float mul_rn(float a, float b) { return __fmul_rn(a, b); }
__device__ __forceinline__ double mul_rn(double a, double b) { return __dmul_rn(a, b); }
__device__ __forceinline__ float add_rn(float a, float b) { return __fadd_rn(a, b); }
__device__ __forceinline__ double add_rn(double a, double b) { return __dadd_rn(a, b); }
__device__ __forceinline__ float sub_rn(float a, float b) { return __fsub_rn(a, b); }
__device__ __forceinline__ double sub_rn(double a, double b) { return __dsub_rn(a, b); }
__device__ __forceinline__ float div_rn(float a, float b) { return __fdiv_rn(a, b); }
__device__ __forceinline__ double div_rn(double a, double b) { return __ddiv_rn(a, b); }
__device__ __forceinline__ float sqrt_rn(float a) { return __fsqrt_rn(a); }
__device__ __forceinline__ double sqrt_rn(double a) { return __dsqrt_rn(a); }
