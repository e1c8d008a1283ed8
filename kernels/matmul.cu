// matmul.cu: batched matrix products C[b] = A[b]·B[b] over the strided 3-D
// views of device.Backend.MatMul ([B,M,K]·[B,K,N] -> [B,M,N]).
//
// Kernels (the host picks one from the operands' layouts):
//   matmul_<a><b>_f32   SGEMM, 128x128x8 block tile, 8x8 register tile per
//                       thread, double-buffered shared memory, 128-bit
//                       loads and stores where aligned. <a> is k when A is
//                       row-major (unit stride along K) and m when it is
//                       column-major (a transposed view); <b> is n when B is
//                       row-major and k when it is column-major.
//   matmul_ss_f32       any strides (64x64 tile, 4x4 per thread); also used
//                       for small products.
//   matmul_f64          DGEMM with the same generic tiled kernel.
//   tf32_<a><b>_f32     tensor cores (sm_80+): mma.sync m16n8k8 TF32 with
//                       FP32 accumulation, 128x128x16 block tile, 8 warps of
//                       64x32. In PTX for compute_70 these are stubs that
//                       trap; the host launches them only on sm_80+ with
//                       TF32 allowed.
// Every kernel loops over the batch with blockIdx.z and handles ragged
// edges with guarded loads (zero fill) and stores.
#include "nabla.cuh"

struct GemmArgs {
	i64 M, N, K, batch;
	i64 as0, as1, as2;  // A: batch, row (m) and column (k) strides
	i64 bs0, bs1, bs2;  // B: batch, row (k) and column (n) strides
	i64 cs0, cs1, cs2;  // C: batch, row (m) and column (n) strides
	int vecA, vecB, vecC, pad;  // 16-byte aligned vector access allowed
};

// ---------------------------------------------------------------- SGEMM

#define S_BM 128
#define S_BN 128
#define S_BK 8

// clampi returns x clamped to [-1, 8]: the loaders only compare the
// remaining extent of a dimension with 0..3.
__device__ __forceinline__ int clampi(i64 x) { return x < -1 ? -1 : (x > 8 ? 8 : (int)x); }

// ld4 reads 4 consecutive floats p[0..3], of which the first `valid` are
// in bounds (the rest read as 0), with one 128-bit load when all are in
// bounds and vec allows it.
__device__ __forceinline__ void ld4(float (&r)[4], const float* p, int valid, bool vec) {
	if (vec && valid >= 4) {
		float4 v = *(const float4*)p;
		r[0] = v.x, r[1] = v.y, r[2] = v.z, r[3] = v.w;
	} else {
#pragma unroll
		for (int q = 0; q < 4; q++) r[q] = q < valid ? p[q] : 0.f;
	}
}

// SGEMM thread roles in the tile loads. A with unit stride along k
// (AL == 0): thread reads 4 consecutive k of row tid/2. A with unit stride
// along m (AL == 1): 4 consecutive m of k-row tid/32. B likewise with n.
template <int AL, int BL>
__device__ __forceinline__ void sgemm(const float* A, const float* B, float* C, const GemmArgs& g) {
	__shared__ __align__(16) float As[2][S_BK][S_BM];
	__shared__ __align__(16) float Bs[2][S_BK][S_BN];
	const int tid = threadIdx.x, tx = tid & 15, ty = tid >> 4;
	const i64 m0 = (i64)blockIdx.y * S_BM, n0 = (i64)blockIdx.x * S_BN;
	const int am = AL == 0 ? tid >> 1 : (tid & 31) * 4;  // tile row (m) of this thread's A load
	const int ak = AL == 0 ? (tid & 1) * 4 : tid >> 5;   // tile k of this thread's A load
	const int bn = BL == 0 ? (tid & 31) * 4 : tid >> 1;
	const int bk = BL == 0 ? tid >> 5 : (tid & 1) * 4;
	const int mrem = clampi(g.M - m0 - am), nrem = clampi(g.N - n0 - bn);
	const bool vecA = g.vecA, vecB = g.vecB;
	const i64 stepA = AL == 0 ? S_BK : S_BK * g.as2;
	const i64 stepB = BL == 0 ? S_BK * g.bs1 : S_BK;
	for (i64 bz = blockIdx.z; bz < g.batch; bz += gridDim.z) {
		const float* pa = A + bz * g.as0 + (m0 + am) * g.as1 + ak * g.as2;
		const float* pb = B + bz * g.bs0 + bk * g.bs1 + (n0 + bn) * g.bs2;
		float acc[8][8];
#pragma unroll
		for (int i = 0; i < 8; i++)
#pragma unroll
			for (int j = 0; j < 8; j++) acc[i][j] = 0.f;
		float ra[4], rb[4];
		int buf = 0;
		for (i64 k0 = 0; k0 < g.K + S_BK; k0 += S_BK) {
			// Fetch tile k0 (if any) while computing tile k0 - S_BK.
			const bool fetch = k0 < g.K;
			if (fetch) {
				const int krA = clampi(g.K - k0 - ak), krB = clampi(g.K - k0 - bk);
				if (AL == 0) ld4(ra, pa, mrem > 0 ? krA : 0, vecA);
				else ld4(ra, pa, krA > 0 ? mrem : 0, vecA);
				if (BL == 0) ld4(rb, pb, krB > 0 ? nrem : 0, vecB);
				else ld4(rb, pb, nrem > 0 ? krB : 0, vecB);
				pa += stepA;
				pb += stepB;
			}
			if (k0 > 0) {
#pragma unroll
				for (int kk = 0; kk < S_BK; kk++) {
					const float4 a0 = *(const float4*)&As[buf][kk][ty * 4];
					const float4 a1 = *(const float4*)&As[buf][kk][ty * 4 + 64];
					const float4 b0 = *(const float4*)&Bs[buf][kk][tx * 4];
					const float4 b1 = *(const float4*)&Bs[buf][kk][tx * 4 + 64];
					const float av[8] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
					const float bv[8] = {b0.x, b0.y, b0.z, b0.w, b1.x, b1.y, b1.z, b1.w};
#pragma unroll
					for (int i = 0; i < 8; i++)
#pragma unroll
						for (int j = 0; j < 8; j++) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
				}
				buf ^= 1;
			}
			if (fetch) {
				if (AL == 0) {
#pragma unroll
					for (int q = 0; q < 4; q++) As[buf][ak + q][am] = ra[q];
				} else {
					*(float4*)&As[buf][ak][am] = make_float4(ra[0], ra[1], ra[2], ra[3]);
				}
				if (BL == 0) {
					*(float4*)&Bs[buf][bk][bn] = make_float4(rb[0], rb[1], rb[2], rb[3]);
				} else {
#pragma unroll
					for (int q = 0; q < 4; q++) Bs[buf][bk + q][bn] = rb[q];
				}
			}
			__syncthreads();
		}
		float* pc = C + bz * g.cs0 + m0 * g.cs1 + n0 * g.cs2;
#pragma unroll
		for (int i = 0; i < 8; i++) {
			const int r = i < 4 ? ty * 4 + i : 64 + ty * 4 + i - 4;
			if (m0 + r >= g.M) continue;
#pragma unroll
			for (int h = 0; h < 2; h++) {
				const int cn = h * 64 + tx * 4;
				const int left = clampi(g.N - n0 - cn);
				float* p = pc + r * g.cs1 + cn * g.cs2;
				// nb_opaque: on g.vecC itself nvcc unswitched the loop and
				// emitted the 16 guarded stores twice (the epilogue was
				// most of the kernel's code); the test costs one
				// instruction per store.
				if (nb_opaque(g.vecC) && left >= 4) {
					*(float4*)p = make_float4(acc[i][h * 4], acc[i][h * 4 + 1], acc[i][h * 4 + 2], acc[i][h * 4 + 3]);
				} else {
#pragma unroll
					for (int j = 0; j < 4; j++)
						if (j < left) p[j * g.cs2] = acc[i][h * 4 + j];
				}
			}
		}
	}
}

#define GK extern "C" __global__ void __launch_bounds__(256, 1)
GK matmul_kn_f32(const float* A, const float* B, float* C, GemmArgs g) { sgemm<0, 0>(A, B, C, g); }
GK matmul_kk_f32(const float* A, const float* B, float* C, GemmArgs g) { sgemm<0, 1>(A, B, C, g); }
GK matmul_mn_f32(const float* A, const float* B, float* C, GemmArgs g) { sgemm<1, 0>(A, B, C, g); }
GK matmul_mk_f32(const float* A, const float* B, float* C, GemmArgs g) { sgemm<1, 1>(A, B, C, g); }

// ------------------------------------------------------- generic strided

#define G_BM 64
#define G_BN 64
#define G_BK 16

template <typename T>
__device__ __forceinline__ void gemm_generic(const T* A, const T* B, T* C, const GemmArgs& g) {
	__shared__ T As[G_BK][G_BM];
	__shared__ T Bs[G_BK][G_BN];
	const int tid = threadIdx.x, tx = tid & 15, ty = tid >> 4;
	const i64 m0 = (i64)blockIdx.y * G_BM, n0 = (i64)blockIdx.x * G_BN;
	for (i64 bz = blockIdx.z; bz < g.batch; bz += gridDim.z) {
		const T* a = A + bz * g.as0;
		const T* b = B + bz * g.bs0;
		T* c = C + bz * g.cs0;
		T acc[4][4];
#pragma unroll
		for (int i = 0; i < 4; i++)
#pragma unroll
			for (int j = 0; j < 4; j++) acc[i][j] = 0;
		for (i64 k0 = 0; k0 < g.K; k0 += G_BK) {
#pragma unroll
			for (int q = 0; q < 4; q++) {
				const int e = tid + 256 * q, r = e % G_BM, kk = e / G_BM;
				const i64 m = m0 + r, k = k0 + kk;
				As[kk][r] = (m < g.M && k < g.K) ? a[m * g.as1 + k * g.as2] : T(0);
				const i64 n = n0 + r;
				Bs[kk][r] = (n < g.N && k < g.K) ? b[k * g.bs1 + n * g.bs2] : T(0);
			}
			__syncthreads();
#pragma unroll
			for (int kk = 0; kk < G_BK; kk++) {
				T av[4], bv[4];
#pragma unroll
				for (int i = 0; i < 4; i++) av[i] = As[kk][ty + 16 * i];
#pragma unroll
				for (int j = 0; j < 4; j++) bv[j] = Bs[kk][tx + 16 * j];
#pragma unroll
				for (int i = 0; i < 4; i++)
#pragma unroll
					for (int j = 0; j < 4; j++) acc[i][j] = fma(av[i], bv[j], acc[i][j]);
			}
			__syncthreads();
		}
#pragma unroll
		for (int i = 0; i < 4; i++) {
			const i64 m = m0 + ty + 16 * i;
#pragma unroll
			for (int j = 0; j < 4; j++) {
				const i64 n = n0 + tx + 16 * j;
				if (m < g.M && n < g.N) c[m * g.cs1 + n * g.cs2] = acc[i][j];
			}
		}
	}
}

GK matmul_ss_f32(const float* A, const float* B, float* C, GemmArgs g) { gemm_generic<float>(A, B, C, g); }
GK matmul_f64(const double* A, const double* B, double* C, GemmArgs g) { gemm_generic<double>(A, B, C, g); }

// ------------------------------------------------------------ TF32 (sm_80+)

#define T_BM 128
#define T_BN 128
#define T_BK 16
#define T_APAD 4  // As rows are T_BK+4 words: conflict-free fragment reads
#define T_BPAD 8  // Bs rows are T_BN+8 words

#if __CUDA_ARCH__ >= 800
__device__ __forceinline__ u32 to_tf32(float x) {
	u32 r;
	asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(x));
	return r;
}

__device__ __forceinline__ void mma_tf32(float (&c)[4], const u32 (&a)[4], const u32 (&b)[2]) {
	asm volatile(
		"mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 "
		"{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
		: "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
		: "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// tf_load fetches this thread's 8 elements of the A tile (as two groups
// of 4) and of the B tile at k0.
template <int AL>
__device__ __forceinline__ void tf_load_a(float (&r)[8], const float* a, const GemmArgs& g, i64 m0, i64 k0) {
#pragma unroll
	for (int h = 0; h < 2; h++) {
		const int e = threadIdx.x + 256 * h;
		if (AL == 0) {
			const i64 m = m0 + (e >> 2), k = k0 + (e & 3) * 4;
			const float* p = a + m * g.as1 + k;
			if (m < g.M && k + 3 < g.K && g.vecA) {
				float4 v = *(const float4*)p;
				r[4 * h] = v.x, r[4 * h + 1] = v.y, r[4 * h + 2] = v.z, r[4 * h + 3] = v.w;
			} else {
#pragma unroll
				for (int q = 0; q < 4; q++) r[4 * h + q] = (m < g.M && k + q < g.K) ? p[q] : 0.f;
			}
		} else {
			const i64 k = k0 + (e >> 5), m = m0 + (e & 31) * 4;
			const float* p = a + k * g.as2 + m;
			if (k < g.K && m + 3 < g.M && g.vecA) {
				float4 v = *(const float4*)p;
				r[4 * h] = v.x, r[4 * h + 1] = v.y, r[4 * h + 2] = v.z, r[4 * h + 3] = v.w;
			} else {
#pragma unroll
				for (int q = 0; q < 4; q++) r[4 * h + q] = (k < g.K && m + q < g.M) ? p[q] : 0.f;
			}
		}
	}
}

template <int AL>
__device__ __forceinline__ void tf_store_a(u32 (*As)[T_BK + T_APAD], const float (&r)[8]) {
#pragma unroll
	for (int h = 0; h < 2; h++) {
		const int e = threadIdx.x + 256 * h;
		if (AL == 0) {
			const int m = e >> 2, k = (e & 3) * 4;
			*(uint4*)&As[m][k] = make_uint4(to_tf32(r[4 * h]), to_tf32(r[4 * h + 1]), to_tf32(r[4 * h + 2]), to_tf32(r[4 * h + 3]));
		} else {
			const int k = e >> 5, m = (e & 31) * 4;
#pragma unroll
			for (int q = 0; q < 4; q++) As[m + q][k] = to_tf32(r[4 * h + q]);
		}
	}
}

template <int BL>
__device__ __forceinline__ void tf_load_b(float (&r)[8], const float* b, const GemmArgs& g, i64 n0, i64 k0) {
#pragma unroll
	for (int h = 0; h < 2; h++) {
		const int e = threadIdx.x + 256 * h;
		if (BL == 0) {
			const i64 k = k0 + (e >> 5), n = n0 + (e & 31) * 4;
			const float* p = b + k * g.bs1 + n;
			if (k < g.K && n + 3 < g.N && g.vecB) {
				float4 v = *(const float4*)p;
				r[4 * h] = v.x, r[4 * h + 1] = v.y, r[4 * h + 2] = v.z, r[4 * h + 3] = v.w;
			} else {
#pragma unroll
				for (int q = 0; q < 4; q++) r[4 * h + q] = (k < g.K && n + q < g.N) ? p[q] : 0.f;
			}
		} else {
			const i64 n = n0 + (e >> 2), k = k0 + (e & 3) * 4;
			const float* p = b + n * g.bs2 + k;
			if (n < g.N && k + 3 < g.K && g.vecB) {
				float4 v = *(const float4*)p;
				r[4 * h] = v.x, r[4 * h + 1] = v.y, r[4 * h + 2] = v.z, r[4 * h + 3] = v.w;
			} else {
#pragma unroll
				for (int q = 0; q < 4; q++) r[4 * h + q] = (n < g.N && k + q < g.K) ? p[q] : 0.f;
			}
		}
	}
}

template <int BL>
__device__ __forceinline__ void tf_store_b(u32 (*Bs)[T_BN + T_BPAD], const float (&r)[8]) {
#pragma unroll
	for (int h = 0; h < 2; h++) {
		const int e = threadIdx.x + 256 * h;
		if (BL == 0) {
			const int k = e >> 5, n = (e & 31) * 4;
			*(uint4*)&Bs[k][n] = make_uint4(to_tf32(r[4 * h]), to_tf32(r[4 * h + 1]), to_tf32(r[4 * h + 2]), to_tf32(r[4 * h + 3]));
		} else {
			const int n = e >> 2, k = (e & 3) * 4;
#pragma unroll
			for (int q = 0; q < 4; q++) Bs[k + q][n] = to_tf32(r[4 * h + q]);
		}
	}
}

template <int AL, int BL>
__device__ __forceinline__ void tf32gemm(const float* A, const float* B, float* C, const GemmArgs& g) {
	__shared__ __align__(16) u32 As[2][T_BM][T_BK + T_APAD];
	__shared__ __align__(16) u32 Bs[2][T_BK][T_BN + T_BPAD];
	const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
	const int wm = warp >> 2, wn = warp & 3, gq = lane >> 2, tq = lane & 3;
	const i64 m0 = (i64)blockIdx.y * T_BM, n0 = (i64)blockIdx.x * T_BN;
	for (i64 bz = blockIdx.z; bz < g.batch; bz += gridDim.z) {
		const float* a = A + bz * g.as0;
		const float* b = B + bz * g.bs0;
		float* c = C + bz * g.cs0;
		float acc[4][4][4];
#pragma unroll
		for (int i = 0; i < 4; i++)
#pragma unroll
			for (int j = 0; j < 4; j++)
#pragma unroll
				for (int q = 0; q < 4; q++) acc[i][j][q] = 0.f;
		float ra[8], rb[8];
		tf_load_a<AL>(ra, a, g, m0, 0);
		tf_load_b<BL>(rb, b, g, n0, 0);
		tf_store_a<AL>(As[0], ra);
		tf_store_b<BL>(Bs[0], rb);
		__syncthreads();
		int buf = 0;
		for (i64 k0 = 0; k0 < g.K; k0 += T_BK) {
			const bool more = k0 + T_BK < g.K;
			if (more) {
				tf_load_a<AL>(ra, a, g, m0, k0 + T_BK);
				tf_load_b<BL>(rb, b, g, n0, k0 + T_BK);
			}
#pragma unroll
			for (int kk = 0; kk < T_BK; kk += 8) {
				u32 af[4][4], bf[4][2];
#pragma unroll
				for (int mi = 0; mi < 4; mi++) {
					const int r = wm * 64 + mi * 16 + gq;
					af[mi][0] = As[buf][r][kk + tq];
					af[mi][1] = As[buf][r + 8][kk + tq];
					af[mi][2] = As[buf][r][kk + tq + 4];
					af[mi][3] = As[buf][r + 8][kk + tq + 4];
				}
#pragma unroll
				for (int ni = 0; ni < 4; ni++) {
					const int cn = wn * 32 + ni * 8 + gq;
					bf[ni][0] = Bs[buf][kk + tq][cn];
					bf[ni][1] = Bs[buf][kk + tq + 4][cn];
				}
#pragma unroll
				for (int mi = 0; mi < 4; mi++)
#pragma unroll
					for (int ni = 0; ni < 4; ni++) mma_tf32(acc[mi][ni], af[mi], bf[ni]);
			}
			if (more) {
				tf_store_a<AL>(As[buf ^ 1], ra);
				tf_store_b<BL>(Bs[buf ^ 1], rb);
			}
			__syncthreads();
			buf ^= 1;
		}
#pragma unroll
		for (int mi = 0; mi < 4; mi++) {
#pragma unroll
			for (int hh = 0; hh < 2; hh++) {
				const i64 m = m0 + wm * 64 + mi * 16 + gq + hh * 8;
				if (m >= g.M) continue;
#pragma unroll
				for (int ni = 0; ni < 4; ni++) {
					const i64 n = n0 + wn * 32 + ni * 8 + tq * 2;
					float* p = c + m * g.cs1 + n * g.cs2;
					const float v0 = acc[mi][ni][hh * 2], v1 = acc[mi][ni][hh * 2 + 1];
					if (nb_opaque(g.vecC) && n + 1 < g.N) {  // nb_opaque: as in sgemm
						*(float2*)p = make_float2(v0, v1);
					} else {
						if (n < g.N) p[0] = v0;
						if (n + 1 < g.N) p[g.cs2] = v1;
					}
				}
			}
		}
	}
}
#define TF32_BODY(AL, BL) tf32gemm<AL, BL>(A, B, C, g);
#else
#define TF32_BODY(AL, BL) __trap();
#endif

GK tf32_kn_f32(const float* A, const float* B, float* C, GemmArgs g) { TF32_BODY(0, 0) }
GK tf32_kk_f32(const float* A, const float* B, float* C, GemmArgs g) { TF32_BODY(0, 1) }
GK tf32_mn_f32(const float* A, const float* B, float* C, GemmArgs g) { TF32_BODY(1, 0) }
GK tf32_mk_f32(const float* A, const float* B, float* C, GemmArgs g) { TF32_BODY(1, 1) }
