// copy.cu: fill, where and the strided copy with dtype casts.
//
// copy_<src>_<dst> exists for src f32 f64 i64 u8 and dst f32 f64 i64 bool
// u8. A Bool source uses the u8 kernels (device/cuda copyKernel): its byte
// is already 0 or 1, so it converts exactly as a u8 does, and Bool to
// Bool is the byte move of u8 to u8. Casts follow device.castCopy: through
// float64, float to integer truncates toward zero, anything nonzero (NaN
// included) becomes true, and integer to u8 wraps modulo 256 after the
// conversion to int64.
#include "elementwise.cuh"

#define EW extern "C" __global__ void __launch_bounds__(NB_EW_THREADS)

// fill_<dtype>: the host converts the value with Go's conversion and
// passes its bits.
EW fill_f32(float* d, Iter it, float v) { map0(d, it, v); }
EW fill_f64(double* d, Iter it, double v) { map0(d, it, v); }
EW fill_i64(i64* d, Iter it, i64 v) { map0(d, it, v); }
EW fill_u8(u8* d, Iter it, u8 v) { map0(d, it, v); }

// where_<dtype>: d = c ? a : b; Bool uses where_u8.
#define WHERE(T, sfx) \
	EW where_##sfx(T* d, const u8* c, const T* a, const T* b, Iter it) { map3(d, c, a, b, it, [](u8 w, T x, T y) { return w ? x : y; }); }
WHERE(float, f32)
WHERE(double, f64)
WHERE(i64, i64)
WHERE(u8, u8)

template <typename S, typename D>
struct Cast {
	__device__ __forceinline__ D operator()(S x) const { return from_f64<D>(to_f64(x)); }
};
// Same-type copies are plain moves.
template <typename T>
struct Cast<T, T> {
	__device__ __forceinline__ T operator()(T x) const { return x; }
};
// To Bool: nonzero (NaN included) is true.
template <typename S>
struct ToBool {
	__device__ __forceinline__ u8 operator()(S x) const { return (u8)(x != 0); }
};

#define COPY(S, ssfx, D, dsfx) \
	EW copy_##ssfx##_##dsfx(D* d, const S* s, Iter it) { map1(d, s, it, Cast<S, D>()); }
#define COPY_TO_BOOL(S, ssfx) \
	EW copy_##ssfx##_bool(u8* d, const S* s, Iter it) { map1(d, s, it, ToBool<S>()); }
#define COPY_FROM(S, ssfx) \
	COPY(S, ssfx, float, f32) \
	COPY(S, ssfx, double, f64) \
	COPY(S, ssfx, i64, i64) \
	COPY(S, ssfx, u8, u8) \
	COPY_TO_BOOL(S, ssfx)

COPY_FROM(float, f32)
COPY_FROM(double, f64)
COPY_FROM(i64, i64)
COPY_FROM(u8, u8)
