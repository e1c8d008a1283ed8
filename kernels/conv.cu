// conv.cu: im2col_<dtype> and col2im_<dtype> (f32 f64 i64) for
// device.Backend.Im2Col / Col2Im (see device.ConvGeometry).
//
// im2col: one thread per column-matrix element, reading its input pixel
// or 0 in the padding. col2im: one thread per image element, gathering
// (not scattering) the column entries of every window that reads it, in
// the kernel-tap order (i, j) of device/cpu_conv.go, so sums are
// deterministic and match the CPU's order; no atomics.
#include "nabla.cuh"

struct ConvArgs {
	i64 n, c, h, w;    // image shape
	i64 oh, ow;        // window positions
	i64 kh, kw;        // kernel
	i64 sh, sw;        // stride
	i64 ph, pw;        // padding
	i64 dh, dw;        // dilation (>= 1)
	i64 is[4];         // image strides
	i64 cs[3];         // column strides
};

template <typename T>
__device__ __forceinline__ void im2col(T* dst, const T* src, const ConvArgs& a) {
	const i64 total = a.n * a.c * a.kh * a.kw * a.oh * a.ow;
	for (i64 e = nb_tid(); e < total; e += nb_nthreads()) {
		i64 r = e;
		const i64 ox = r % a.ow; r /= a.ow;
		const i64 oy = r % a.oh; r /= a.oh;
		const i64 j = r % a.kw; r /= a.kw;
		const i64 i = r % a.kh; r /= a.kh;
		const i64 ch = r % a.c, nn = r / a.c;
		const i64 iy = oy * a.sh - a.ph + i * a.dh, ix = ox * a.sw - a.pw + j * a.dw;
		T v = T(0);
		if (iy >= 0 && iy < a.h && ix >= 0 && ix < a.w) v = src[nn * a.is[0] + ch * a.is[1] + iy * a.is[2] + ix * a.is[3]];
		dst[nn * a.cs[0] + ((ch * a.kh + i) * a.kw + j) * a.cs[1] + (oy * a.ow + ox) * a.cs[2]] = v;
	}
}

template <typename T>
__device__ __forceinline__ void col2im(T* dst, const T* src, const ConvArgs& a) {
	const i64 total = a.n * a.c * a.h * a.w;
	for (i64 e = nb_tid(); e < total; e += nb_nthreads()) {
		i64 r = e;
		const i64 x = r % a.w; r /= a.w;
		const i64 y = r % a.h; r /= a.h;
		const i64 ch = r % a.c, nn = r / a.c;
		const T* col = src + nn * a.cs[0];
		T sum = T(0);
		for (i64 i = 0; i < a.kh; i++) {
			const i64 t = y + a.ph - i * a.dh;
			if (t < 0) break;
			if (t % a.sh != 0) continue;
			const i64 oy = t / a.sh;
			if (oy >= a.oh) continue;
			for (i64 j = 0; j < a.kw; j++) {
				const i64 u = x + a.pw - j * a.dw;
				if (u < 0) break;
				if (u % a.sw != 0) continue;
				const i64 ox = u / a.sw;
				if (ox >= a.ow) continue;
				sum += col[((ch * a.kh + i) * a.kw + j) * a.cs[1] + (oy * a.ow + ox) * a.cs[2]];
			}
		}
		dst[nn * a.is[0] + ch * a.is[1] + y * a.is[2] + x * a.is[3]] = sum;
	}
}

#define CK extern "C" __global__ void __launch_bounds__(256)
#define CONV(T, sfx) \
	CK im2col_##sfx(T* dst, const T* src, ConvArgs a) { im2col<T>(dst, src, a); } \
	CK col2im_##sfx(T* dst, const T* src, ConvArgs a) { col2im<T>(dst, src, a); }
CONV(float, f32)
CONV(double, f64)
CONV(i64, i64)
