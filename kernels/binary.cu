// binary.cu: every device.BinaryOp as <op>_<dtype> kernels.
//
// Arithmetic (add sub mul div minimum maximum; pow for floats) writes the
// operands' dtype; comparisons (eq ne lt le gt ge) write Bool for f32,
// f64, i64 and u8 (Bool operands use the u8 eq/ne kernels); and/or/xor
// combine Bools. Semantics follow device/cpu_binary.go: Minimum/Maximum
// propagate NaN; integer arithmetic wraps; integer division truncates
// toward zero and a zero divisor yields 0 and reports NB_ERR_DIV_ZERO in
// the device's error word instead of trapping.
#include "elementwise.cuh"

#define EW extern "C" __global__ void __launch_bounds__(NB_EW_THREADS)

#define FLOAT_ARITH(T, sfx) \
	EW add_##sfx(T* d, const T* a, const T* b, Iter it, ErrWord* e) { map2(d, a, b, it, [](T x, T y) { return x + y; }); } \
	EW sub_##sfx(T* d, const T* a, const T* b, Iter it, ErrWord* e) { map2(d, a, b, it, [](T x, T y) { return x - y; }); } \
	EW mul_##sfx(T* d, const T* a, const T* b, Iter it, ErrWord* e) { map2(d, a, b, it, [](T x, T y) { return x * y; }); } \
	EW div_##sfx(T* d, const T* a, const T* b, Iter it, ErrWord* e) { map2(d, a, b, it, [](T x, T y) { return x / y; }); } \
	EW pow_##sfx(T* d, const T* a, const T* b, Iter it, ErrWord* e) { map2<NB_SCALAR>(d, a, b, it, [](T x, T y) { return (T)pow((double)x, (double)y); }); } \
	EW minimum_##sfx(T* d, const T* a, const T* b, Iter it, ErrWord* e) { map2(d, a, b, it, [](T x, T y) { return go_min(x, y); }); } \
	EW maximum_##sfx(T* d, const T* a, const T* b, Iter it, ErrWord* e) { map2(d, a, b, it, [](T x, T y) { return go_max(x, y); }); }

FLOAT_ARITH(float, f32)
FLOAT_ARITH(double, f64)

// Integer division with Go's semantics: truncation toward zero, and
// MinInt64 / -1 == MinInt64 (the wrapped quotient) rather than a trap.
__device__ __forceinline__ i64 int_div(i64 x, i64 y) { return y == -1 ? (i64)(0ULL - (u64)x) : x / y; }
__device__ __forceinline__ u8 int_div(u8 x, u8 y) { return x / y; }

#define INT_ARITH(T, W, sfx) \
	EW add_##sfx(T* d, const T* a, const T* b, Iter it, ErrWord* e) { map2(d, a, b, it, [](T x, T y) { return (T)((W)x + (W)y); }); } \
	EW sub_##sfx(T* d, const T* a, const T* b, Iter it, ErrWord* e) { map2(d, a, b, it, [](T x, T y) { return (T)((W)x - (W)y); }); } \
	EW mul_##sfx(T* d, const T* a, const T* b, Iter it, ErrWord* e) { map2(d, a, b, it, [](T x, T y) { return (T)((W)x * (W)y); }); } \
	EW div_##sfx(T* d, const T* a, const T* b, Iter it, ErrWord* e) { \
		map2(d, a, b, it, [e](T x, T y) { \
			if (y == 0) { \
				if (e->code == 0) nb_report(e, NB_ERR_DIV_ZERO, 0, 0, 0); \
				return (T)0; \
			} \
			return int_div(x, y); \
		}); \
	} \
	EW minimum_##sfx(T* d, const T* a, const T* b, Iter it, ErrWord* e) { map2(d, a, b, it, [](T x, T y) { return go_min(x, y); }); } \
	EW maximum_##sfx(T* d, const T* a, const T* b, Iter it, ErrWord* e) { map2(d, a, b, it, [](T x, T y) { return go_max(x, y); }); }

INT_ARITH(i64, u64, i64)
INT_ARITH(u8, u32, u8)

#define COMPARE(T, sfx) \
	EW eq_##sfx(u8* d, const T* a, const T* b, Iter it, ErrWord* e) { map2(d, a, b, it, [](T x, T y) { return (u8)(x == y); }); } \
	EW ne_##sfx(u8* d, const T* a, const T* b, Iter it, ErrWord* e) { map2(d, a, b, it, [](T x, T y) { return (u8)(x != y); }); } \
	EW lt_##sfx(u8* d, const T* a, const T* b, Iter it, ErrWord* e) { map2(d, a, b, it, [](T x, T y) { return (u8)(x < y); }); } \
	EW le_##sfx(u8* d, const T* a, const T* b, Iter it, ErrWord* e) { map2(d, a, b, it, [](T x, T y) { return (u8)(x <= y); }); } \
	EW gt_##sfx(u8* d, const T* a, const T* b, Iter it, ErrWord* e) { map2(d, a, b, it, [](T x, T y) { return (u8)(x > y); }); } \
	EW ge_##sfx(u8* d, const T* a, const T* b, Iter it, ErrWord* e) { map2(d, a, b, it, [](T x, T y) { return (u8)(x >= y); }); }

COMPARE(float, f32)
COMPARE(double, f64)
COMPARE(i64, i64)
COMPARE(u8, u8)

EW and_bool(u8* d, const u8* a, const u8* b, Iter it, ErrWord* e) { map2(d, a, b, it, [](u8 x, u8 y) { return (u8)(x != 0 && y != 0); }); }
EW or_bool(u8* d, const u8* a, const u8* b, Iter it, ErrWord* e) { map2(d, a, b, it, [](u8 x, u8 y) { return (u8)(x != 0 || y != 0); }); }
EW xor_bool(u8* d, const u8* a, const u8* b, Iter it, ErrWord* e) { map2(d, a, b, it, [](u8 x, u8 y) { return (u8)((x != 0) != (y != 0)); }); }
