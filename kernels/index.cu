// index.cu: gather_<dtype> (f32 f64 i64 u8; Bool uses u8) and
// scatter_add_<dtype> (f32 f64 i64).
//
// The Iter walks three operands: for gather (dst, src with its stride
// along dim set to 0, idx) over dst's shape; for scatter_add (dst with its
// stride along dim set to 0, src, idx) over src's shape. The index picks
// the position along dim: offset + idx*stride. An index outside [0, size)
// is skipped and reported through the device's error word (the CPU
// backend returns an error at once; here the error surfaces at the next
// synchronisation). Duplicate scatter indices accumulate with atomicAdd
// (int64 through atomicAdd on unsigned long long, which wraps the same way).
#include "elementwise.cuh"

#define IK extern "C" __global__ void __launch_bounds__(NB_EW_THREADS)

template <typename T>
__device__ __forceinline__ void gather(T* d, const T* s, const i64* idx, const Iter& it, i64 size, i64 stride, int dim, ErrWord* e) {
	for (i64 i = nb_tid(); i < it.n; i += nb_nthreads()) {
		i64 off[3];
		at<3>(it, i, off);
		const i64 k = idx[off[2]];
		if (k < 0 || k >= size) {
			if (e->code == 0) nb_report(e, NB_ERR_GATHER_INDEX, dim, k, size);
			continue;
		}
		d[off[0]] = s[off[1] + k * stride];
	}
}

__device__ __forceinline__ void atomic_add(float* p, float v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomic_add(double* p, double v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomic_add(i64* p, i64 v) { atomicAdd((unsigned long long*)p, (unsigned long long)v); }

template <typename T>
__device__ __forceinline__ void scatter_add(T* d, const T* s, const i64* idx, const Iter& it, i64 size, i64 stride, int dim, ErrWord* e) {
	for (i64 i = nb_tid(); i < it.n; i += nb_nthreads()) {
		i64 off[3];
		at<3>(it, i, off);
		const i64 k = idx[off[2]];
		if (k < 0 || k >= size) {
			if (e->code == 0) nb_report(e, NB_ERR_SCATTER_INDEX, dim, k, size);
			continue;
		}
		atomic_add(d + off[0] + k * stride, s[off[1]]);
	}
}

#define GATHER(T, sfx) \
	IK gather_##sfx(T* d, const T* s, const i64* idx, Iter it, i64 size, i64 stride, int dim, ErrWord* e) { gather<T>(d, s, idx, it, size, stride, dim, e); }
#define SCATTER(T, sfx) \
	IK scatter_add_##sfx(T* d, const T* s, const i64* idx, Iter it, i64 size, i64 stride, int dim, ErrWord* e) { scatter_add<T>(d, s, idx, it, size, stride, dim, e); }

GATHER(float, f32)
GATHER(double, f64)
GATHER(i64, i64)
GATHER(u8, u8)
SCATTER(float, f32)
SCATTER(double, f64)
SCATTER(i64, i64)
