// pool.cu: max_pool2d_<dtype>, avg_pool2d_<dtype> and their
// *_backward_<dtype> (f32 f64) for device.Backend.Pool2d / Pool2dBackward
// (see device.PoolOp and device.ConvGeometry).
//
// Every kernel takes (out, in, idx, PoolArgs): forward out = y, in = x
// and max pooling writes idx; backward out = dx, in = dy and max pooling
// reads idx; average pooling ignores idx.
//
// Forward: one thread per output element, visiting the window's taps in
// row-major order (the first maximum wins; padding is -inf for max, 0 for
// average, which divides by kh*kw). Backward: one thread per input
// element, gathering (not scattering) from the windows that cover it, in
// increasing output order as device/cpu_pool.go adds them (average
// pooling then scales the sum by 1/(kh*kw)), so sums are deterministic,
// match the CPU bit for bit, and need no atomics.
#include "nabla.cuh"

struct PoolArgs {
	i64 n, c, h, w;    // input shape
	i64 oh, ow;        // output shape
	i64 kh, kw;        // kernel
	i64 sh, sw;        // stride
	i64 ph, pw;        // padding
	i64 dh, dw;        // dilation (>= 1)
	i64 xs[4];         // input (dx) strides
	i64 ys[4];         // output (dy) strides
	i64 is[4];         // index strides
	double inv_out;    // 1 / (oh*ow)
	double inv_in;     // 1 / (h*w)
	double scale;      // 1 / (kh*kw), the average's weight
	i64 nout, nin;     // n*c*oh*ow and n*c*h*w (kept in the parameter bank, not in registers)
};

// Plane counts, plane-local coordinates and sizes are 32-bit (the host
// checks that N*C, H*W and OH*OW fit): 32-bit division is several times
// cheaper than 64-bit. The loops are kept rolled, and the element counts
// are read from the parameter bank, so that no kernel spills registers.
//
// plane_of returns e / d for 0 <= e < 2^53 from the reciprocal inv = 1/d
// without a 64-bit integer division (a subroutine call): the floating
// estimate is off by at most one.
__device__ __forceinline__ int plane_of(i64 e, i64 d, double inv) {
	i64 q = (i64)((double)e * inv);
	if (q * d > e) q--;
	else if ((q + 1) * d <= e) q++;
	return (int)q;
}

template <typename T, bool MAX>
__device__ __forceinline__ void pool_fwd(T* y, const T* x, i64* idx, const PoolArgs& a) {
	const int c = (int)a.c, h = (int)a.h, w = (int)a.w, oh = (int)a.oh, ow = (int)a.ow;
	const int kh = (int)a.kh, kw = (int)a.kw, dh = (int)a.dh, dw = (int)a.dw;
	const i64 opl = (i64)oh * ow;
	#pragma unroll 1
	for (i64 e = nb_tid(); e < a.nout; e += nb_nthreads()) {
		const int plane = plane_of(e, opl, a.inv_out);
		const int pos = (int)(e - plane * opl);
		const int oy = pos / ow, ox = pos - oy * ow;
		const int nn = plane / c, ch = plane - nn * c;
		const T* src = x + nn * a.xs[0] + ch * a.xs[1];
		const int y0 = oy * (int)a.sh - (int)a.ph, x0 = ox * (int)a.sw - (int)a.pw;
		T best = MAX ? T(-INFINITY) : T(0);
		int at = -1;
		#pragma unroll 1
		for (int i = 0; i < kh; i++) {
			const int iy = y0 + i * dh;
			if (iy < 0 || iy >= h) continue;
			const T* row = src + iy * a.xs[2];
			#pragma unroll 1
			for (int j = 0; j < kw; j++) {
				const int ix = x0 + j * dw;
				if (ix < 0 || ix >= w) continue;
				const T v = row[ix * a.xs[3]];
				if (MAX) {
					if (at < 0 || v > best || (v != v && best == best)) {
						best = v;
						at = iy * w + ix;
					}
				} else {
					best += v;
				}
			}
		}
		if (!MAX) best = best / T(kh * kw);
		y[nn * a.ys[0] + ch * a.ys[1] + oy * a.ys[2] + ox * a.ys[3]] = best;
		if (MAX) idx[nn * a.is[0] + ch * a.is[1] + oy * a.is[2] + ox * a.is[3]] = (i64)at;
	}
}

template <typename T, bool MAX>
__device__ __forceinline__ void pool_bwd(T* dx, const T* dy, const i64* idx, const PoolArgs& a) {
	const int c = (int)a.c, w = (int)a.w, oh = (int)a.oh, ow = (int)a.ow;
	const int kh = (int)a.kh, kw = (int)a.kw, dh = (int)a.dh, dw = (int)a.dw;
	const int sh = (int)a.sh, sw = (int)a.sw, ph = (int)a.ph, pw = (int)a.pw;
	const i64 pl = a.h * a.w;
	#pragma unroll 1
	for (i64 e = nb_tid(); e < a.nin; e += nb_nthreads()) {
		const int plane = plane_of(e, pl, a.inv_in);
		const int self = (int)(e - plane * pl);
		const int y = self / w, x = self - y * w;
		const int nn = plane / c, ch = plane - nn * c;
		const T* g = dy + nn * a.ys[0] + ch * a.ys[1];
		const i64* ix = idx + nn * a.is[0] + ch * a.is[1];
		T sum = T(0);
		// Descending taps visit the windows in ascending output order.
		#pragma unroll 1
		for (int i = kh - 1; i >= 0; i--) {
			const int t = y + ph - i * dh;
			if (t < 0 || t % sh != 0) continue;
			const int oy = t / sh;
			if (oy >= oh) continue;
			#pragma unroll 1
			for (int j = kw - 1; j >= 0; j--) {
				const int u = x + pw - j * dw;
				if (u < 0 || u % sw != 0) continue;
				const int ox = u / sw;
				if (ox >= ow) continue;
				const T v = g[oy * a.ys[2] + ox * a.ys[3]];
				if (MAX) {
					if (ix[oy * a.is[2] + ox * a.is[3]] == (i64)self) sum += v;
				} else {
					sum += v;
				}
			}
		}
		if (!MAX) sum *= T(a.scale); // as the CPU: (sum of dy) * T(1/(kh*kw))
		dx[nn * a.xs[0] + ch * a.xs[1] + y * a.xs[2] + x * a.xs[3]] = sum;
	}
}

#define PK extern "C" __global__ void __launch_bounds__(256)
#define POOL(T, sfx) \
	PK max_pool2d_##sfx(T* out, const T* in, i64* idx, PoolArgs a) { pool_fwd<T, true>(out, in, idx, a); } \
	PK avg_pool2d_##sfx(T* out, const T* in, i64* idx, PoolArgs a) { pool_fwd<T, false>(out, in, idx, a); } \
	PK max_pool2d_backward_##sfx(T* out, const T* in, i64* idx, PoolArgs a) { pool_bwd<T, true>(out, in, idx, a); } \
	PK avg_pool2d_backward_##sfx(T* out, const T* in, i64* idx, PoolArgs a) { pool_bwd<T, false>(out, in, idx, a); }
POOL(float, f32)
POOL(double, f64)
