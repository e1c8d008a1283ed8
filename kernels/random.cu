// random.cu: random_<dtype> (f32 f64 i64 bool u8) fills dst from the
// counter-based Philox4x32-10 generator, bit for bit the stream of
// device/philox.go: element k (row-major in dst) draws counter offset+k
// under key seed, and the distributions transform the words exactly as
// randomValue and uniformFloat32 do (unfused float arithmetic, so the
// uniform draws are identical; normal draws go through CUDA's log and cos,
// which may differ from Go's in the last bit).
#include "elementwise.cuh"
#include "philox.cuh"

enum { D_UNIFORM, D_NORMAL, D_INTRANGE, D_BERNOULLI };

// random_value is device.randomValue.
__device__ __forceinline__ double random_value(int dist, u64 seed, u64 ctr, double a, double b) {
	const uint4 w = philox(seed, ctr);
	const u64 u = ((u64)w.x << 32) | (u64)w.y;
	switch (dist) {
	case D_NORMAL: {
		const double u1 = __dmul_rn(__dadd_rn((double)w.x, 1.0), 1.0 / 4294967296.0);
		const double u2 = __dmul_rn((double)w.y, 1.0 / 4294967296.0);
		const double r = sqrt(__dmul_rn(-2.0, log(u1)));
		const double c = cos(__dmul_rn(6.283185307179586, u2));
		return __dadd_rn(a, __dmul_rn(__dmul_rn(b, r), c));
	}
	case D_INTRANGE: {
		const u64 span = (u64)go_i64(b) - (u64)go_i64(a);
		const u64 hi = __umul64hi(u, span);
		return (double)(i64)((u64)go_i64(a) + hi);
	}
	case D_BERNOULLI:
		return __dmul_rn((double)(u >> 11), 1.0 / 9007199254740992.0) < a ? 1.0 : 0.0;
	default:
		return __dadd_rn(a, __ddiv_rn(__dmul_rn(__dsub_rn(b, a), (double)(u >> 11)), 9007199254740992.0));
	}
}

// uniform_f32 is device.uniformFloat32.
__device__ __forceinline__ float uniform_f32(u64 seed, u64 ctr, float a, float b) {
	const uint4 w = philox(seed, ctr);
	const float u = __fmul_rn((float)(w.x >> 8), 1.0f / 16777216.0f);
	float v = __fadd_rn(a, __fmul_rn(__fsub_rn(b, a), u));
	if (v >= b && b > a) v = nextafterf(b, a);
	return v;
}

template <typename T>
__device__ __forceinline__ T convert_random(double v);
template <> __device__ __forceinline__ double convert_random<double>(double v) { return v; }
template <> __device__ __forceinline__ i64 convert_random<i64>(double v) { return go_i64(v); }
template <> __device__ __forceinline__ u8 convert_random<u8>(double v) { return (u8)go_i64(v); }  // Go's uint8(v) on amd64

#define RK extern "C" __global__ void __launch_bounds__(NB_EW_THREADS)

template <typename T>
__device__ __forceinline__ void random_fill(T* d, const Iter& it, int dist, u64 seed, u64 offset, double a, double b) {
	for (i64 i = nb_tid(); i < it.n; i += nb_nthreads()) {
		i64 off[1];
		at<1>(it, i, off);
		d[off[0]] = convert_random<T>(random_value(dist, seed, offset + (u64)i, a, b));
	}
}

RK random_f32(float* d, Iter it, int dist, u64 seed, u64 offset, double a, double b) {
	const float fa = (float)a, fb = (float)b;
	for (i64 i = nb_tid(); i < it.n; i += nb_nthreads()) {
		i64 off[1];
		at<1>(it, i, off);
		d[off[0]] = dist == D_UNIFORM ? uniform_f32(seed, offset + (u64)i, fa, fb) : (float)random_value(dist, seed, offset + (u64)i, a, b);
	}
}
RK random_f64(double* d, Iter it, int dist, u64 seed, u64 offset, double a, double b) { random_fill<double>(d, it, dist, seed, offset, a, b); }
RK random_i64(i64* d, Iter it, int dist, u64 seed, u64 offset, double a, double b) { random_fill<i64>(d, it, dist, seed, offset, a, b); }
RK random_u8(u8* d, Iter it, int dist, u64 seed, u64 offset, double a, double b) { random_fill<u8>(d, it, dist, seed, offset, a, b); }
RK random_bool(u8* d, Iter it, int dist, u64 seed, u64 offset, double a, double b) {
	for (i64 i = nb_tid(); i < it.n; i += nb_nthreads()) {
		i64 off[1];
		at<1>(it, i, off);
		d[off[0]] = (u8)(random_value(dist, seed, offset + (u64)i, a, b) != 0);
	}
}
