//go:build amd64 && !purego

#include "textflag.h"

// AVX2+FMA versions of the float32 vector kernels of simd_amd64.s, for CPUs
// without AVX-512. They compute the same thing in 8-lane ymm registers.
// AVX2 has no mask registers, so the last n%8 elements are loaded and
// stored with VMASKMOVPS, whose masked-off lanes read as zero and are never
// touched in memory (no fault past the end of the slice).

// VEC8 fills one 32-byte row of avx2c<> with a float32 bit pattern v.
#define VEC8(off, v) \
	DATA avx2c<>+(off)(SB)/4, $v; \
	DATA avx2c<>+(off+4)(SB)/4, $v; \
	DATA avx2c<>+(off+8)(SB)/4, $v; \
	DATA avx2c<>+(off+12)(SB)/4, $v; \
	DATA avx2c<>+(off+16)(SB)/4, $v; \
	DATA avx2c<>+(off+20)(SB)/4, $v; \
	DATA avx2c<>+(off+24)(SB)/4, $v; \
	DATA avx2c<>+(off+28)(SB)/4, $v

// The constants of expf (fastmath.go), one full vector each so that they
// can be memory operands: AVX2 instructions cannot broadcast from memory.
VEC8(0, 0xc2d00000)   // -104: clamp below
VEC8(32, 0x42b20000)  // 89: clamp above
VEC8(64, 0x3fb8aa3b)  // log2e
VEC8(96, 0x4b400000)  // 1.5·2^23: round to integer
VEC8(128, 0x3f318000) // ln2Hi
VEC8(160, 0xb95e8083) // ln2Lo
VEC8(192, 0x39500d01) // 1/5040
VEC8(224, 0x3ab60b61) // 1/720
VEC8(256, 0x3c088889) // 1/120
VEC8(288, 0x3d2aaaab) // 1/24
VEC8(320, 0x3e2aaaab) // 1/6
VEC8(352, 0x3f000000) // 1/2
VEC8(384, 0x3f800000) // 1
VEC8(448, 0xff800000) // -Inf
VEC8(480, 0xc2ae0000) // -87: the least x of EXPSM8
GLOBL avx2c<>(SB), RODATA|NOPTR, $512

// Eight all-ones lanes then eight zero lanes: the 8 lanes starting at
// element 8-k are the VMASKMOVPS mask for the first k elements.
DATA avx2mask<>+0(SB)/8, $0xffffffffffffffff
DATA avx2mask<>+8(SB)/8, $0xffffffffffffffff
DATA avx2mask<>+16(SB)/8, $0xffffffffffffffff
DATA avx2mask<>+24(SB)/8, $0xffffffffffffffff
DATA avx2mask<>+32(SB)/8, $0
DATA avx2mask<>+40(SB)/8, $0
DATA avx2mask<>+48(SB)/8, $0
DATA avx2mask<>+56(SB)/8, $0
GLOBL avx2mask<>(SB), RODATA|NOPTR, $64

// TAILMASK8(m) sets m to the mask of the first CX lanes (0 < CX < 8);
// clobbers AX and DX.
#define TAILMASK8(m) \
	MOVQ $8, AX; \
	SUBQ CX, AX; \
	LEAQ avx2mask<>(SB), DX; \
	VMOVUPS (DX)(AX*4), m

// The exponential kernels keep their most used constants in registers
// (EXP_CONSTS): Y6 log2e, Y7 1.5·2^23, Y8 ln2Hi, Y9 1.0 (whose bits are
// also 127<<23, the exponent bias in place), Y10 1/2. Y0-Y5 and Y11-Y15
// are the kernels' own.
#define EXP_CONSTS \
	VMOVUPS avx2c<>+64(SB), Y6; \
	VMOVUPS avx2c<>+96(SB), Y7; \
	VMOVUPS avx2c<>+128(SB), Y8; \
	VMOVUPS avx2c<>+384(SB), Y9; \
	VMOVUPS avx2c<>+352(SB), Y10

// EXPPOLY8(r, p) sets p to the Taylor polynomial of degree 7 of e^r by
// Horner with FMA.
#define EXPPOLY8(r, p) \
	VMOVUPS avx2c<>+192(SB), p; \
	VFMADD213PS avx2c<>+224(SB), r, p; \
	VFMADD213PS avx2c<>+256(SB), r, p; \
	VFMADD213PS avx2c<>+288(SB), r, p; \
	VFMADD213PS avx2c<>+320(SB), r, p; \
	VFMADD213PS Y10, r, p; \
	VFMADD213PS Y9, r, p; \
	VFMADD213PS Y9, r, p

// EXP_CLAMPS(lo, hi) loads EXP8's clamps -104 and 89. They must be
// registers, so that a NaN x is the second source of VMAXPS/VMINPS and
// passes through.
#define EXP_CLAMPS(lo, hi) \
	VMOVUPS avx2c<>+0(SB), lo; \
	VMOVUPS avx2c<>+32(SB), hi

// EXP8(x, n, p, lo, hi): p = e^x, computed as in expf and the AVX-512
// EXP: clamp x to [lo, hi] (EXP_CLAMPS), n = round(x·log2e), r = x −
// n·ln2 (in two parts, ln2Hi and ln2Lo), EXPPOLY8. AVX2 has no VSCALEFPS, so p is scaled by
// 2^n as expf does, with two exact powers of two 2^h and 2^(n-h), h =
// n>>1: n reaches -150 and 128, beyond one float32 exponent, and the first
// product stays normal so only the second rounds. x and n are overwritten.
#define EXP8(x, n, p, lo, hi) \
	VMAXPS x, lo, x; \
	VMINPS x, hi, x; \
	VMOVAPS Y7, n; \
	VFMADD231PS Y6, x, n; \
	VSUBPS Y7, n, n; \
	VFNMADD231PS Y8, n, x; \
	VFNMADD231PS avx2c<>+160(SB), n, x; \
	EXPPOLY8(x, p); \
	VCVTPS2DQ n, n; \
	VPSRAD $1, n, x; \
	VPSUBD x, n, n; \
	VPSLLD $23, x, x; \
	VPSLLD $23, n, n; \
	VPADDD Y9, x, x; \
	VPADDD Y9, n, n; \
	VMULPS x, p, p; \
	VMULPS n, p, p

// EXPSM8(x, n, p) is EXP8 for x in [-87, 0], the case of softmax (x = s - m
// with m the maximum). Then n = round(x·log2e) lies in [-126, 0], so 2^n is
// one normal float32 whose exponent field is the low bits of the rounding
// sum x·log2e + 1.5·2^23 shifted into place, and p·2^n rounds once, exactly
// as EXP8's two products do: the results are bitwise EXP8's, without the
// clamps, the conversion and the second product.
#define EXPSM8(x, n, p) \
	VMOVAPS Y7, n; \
	VFMADD231PS Y6, x, n; \
	VSUBPS Y7, n, p; \
	VFNMADD231PS Y8, p, x; \
	VFNMADD231PS avx2c<>+160(SB), p, x; \
	VPSLLD $23, n, n; \
	VPADDD Y9, n, n; \
	EXPPOLY8(x, p); \
	VMULPS n, p, p

// func expF32AVX2(dst, src *float32, n int)
TEXT ·expF32AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	EXP_CONSTS
	EXP_CLAMPS(Y11, Y12)

exp16:
	CMPQ CX, $16
	JLT  exp8
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y3
	EXP8(Y0, Y1, Y2, Y11, Y12)
	EXP8(Y3, Y4, Y5, Y11, Y12)
	VMOVUPS Y2, (DI)
	VMOVUPS Y5, 32(DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  exp16

exp8:
	CMPQ CX, $8
	JLT  exptail
	VMOVUPS (SI), Y0
	EXP8(Y0, Y1, Y2, Y11, Y12)
	VMOVUPS Y2, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX

exptail:
	TESTQ CX, CX
	JEQ   expdone
	TAILMASK8(Y3)
	VMASKMOVPS (SI), Y3, Y0
	EXP8(Y0, Y1, Y2, Y11, Y12)
	VMASKMOVPS Y2, Y3, (DI)

expdone:
	VZEROUPPER
	RET

// expSumF32AVX2 keeps m in Y11 and the float64 sums in Y12 and Y13; Y14
// and Y15 are scratch (and EXP8's clamps).

// SUMPD8(p, px, a, ax, b) adds the 8 float32 lanes of p to the float64
// sums Y12 (low four) and Y13 (high four); a and b are overwritten, ax and
// px name the low halves of a and p.
#define SUMPD8(p, px, a, ax, b) \
	VCVTPS2PD px, a; \
	VADDPD a, Y12, Y12; \
	VEXTRACTF128 $1, p, ax; \
	VCVTPS2PD ax, b; \
	VADDPD b, Y13, Y13

// func expSumF32AVX2(dst, src *float32, n int, m float32) float64
// dst[i] = e^(src[i]-m); returns the sum of the dst[i], accumulated in
// float64 lanes after adding the two halves of each block of 16 in float32
// (one rounding of a sum of at most 2, which keeps the relative error of
// the whole sum within 2^-24 and saves half of the conversions, the
// slowest part of the loop). m must be at least every src[i] (callers pass the
// maximum), so every x = src[i]-m is at most 0. Blocks of 16 whose x are
// all at least -87 take EXPSM8; the others, and the last n%16 elements,
// take EXP8. Both streams are prefetched a page ahead (see
// expSumF32AVX512).
TEXT ·expSumF32AVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS m+24(FP), Y11
	EXP_CONSTS
	VXORPD Y12, Y12, Y12
	VXORPD Y13, Y13, Y13

es16:
	CMPQ CX, $16
	JLT  esrest
	PREFETCHT0 4096(SI)
	PREFETCHT0 4096(DI)
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y3
	VSUBPS Y11, Y0, Y0
	VSUBPS Y11, Y3, Y3

	// A NaN compares false and takes EXPSM8, which returns NaN for it.
	VMINPS Y0, Y3, Y14
	VCMPPS $1, avx2c<>+480(SB), Y14, Y14
	VMOVMSKPS Y14, AX
	TESTL AX, AX
	JNE   esany16
	EXPSM8(Y0, Y1, Y2)
	EXPSM8(Y3, Y4, Y5)
	JMP esstore16

esany16:
	EXP_CLAMPS(Y14, Y15)
	EXP8(Y0, Y1, Y2, Y14, Y15)
	EXP8(Y3, Y4, Y5, Y14, Y15)

esstore16:
	VMOVUPS Y2, (DI)
	VMOVUPS Y5, 32(DI)
	VADDPS Y2, Y5, Y0
	SUMPD8(Y0, X0, Y3, X3, Y4)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  es16

	// The rest in blocks of 8, the last one masked (VMASKMOVPS; the
	// masked-off lanes are cleared before they are added).
esrest:
	TESTQ CX, CX
	JLE   esdone
	MOVQ  CX, BX
	CMPQ  BX, $8
	JLE   esmask
	MOVQ  $8, BX

esmask:
	MOVQ $8, AX
	SUBQ BX, AX
	LEAQ avx2mask<>(SB), DX
	VMOVUPS (DX)(AX*4), Y15
	VMASKMOVPS (SI), Y15, Y0
	VSUBPS Y11, Y0, Y0
	EXP_CLAMPS(Y3, Y4)
	EXP8(Y0, Y1, Y2, Y3, Y4)
	VMASKMOVPS Y2, Y15, (DI)
	VANDPS Y15, Y2, Y2
	SUMPD8(Y2, X2, Y0, X0, Y1)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  esrest

esdone:
	VADDPD Y13, Y12, Y12
	VEXTRACTF128 $1, Y12, X13
	VADDPD X13, X12, X12
	VUNPCKHPD X12, X12, X13
	VADDSD X13, X12, X12
	VMOVSD X12, ret+32(FP)
	VZEROUPPER
	RET

// func maxF32AVX2(src *float32, n int) float32
// Maximum of src (-Inf when n == 0); NaN handling is left to the caller.
TEXT ·maxF32AVX2(SB), NOSPLIT, $0-20
	MOVQ src+0(FP), SI
	MOVQ n+8(FP), CX
	VMOVUPS avx2c<>+448(SB), Y8
	VMOVAPS Y8, Y9
	VMOVAPS Y8, Y10
	VMOVAPS Y8, Y11

mx32:
	CMPQ CX, $32
	JLT  mx8
	VMAXPS (SI), Y8, Y8
	VMAXPS 32(SI), Y9, Y9
	VMAXPS 64(SI), Y10, Y10
	VMAXPS 96(SI), Y11, Y11
	ADDQ $128, SI
	SUBQ $32, CX
	JMP  mx32

mx8:
	CMPQ CX, $8
	JLT  mxtail
	VMAXPS (SI), Y8, Y8
	ADDQ $32, SI
	SUBQ $8, CX
	JMP  mx8

mxtail:
	TESTQ CX, CX
	JEQ   mxdone
	TAILMASK8(Y1)
	VMASKMOVPS (SI), Y1, Y0

	// Masked-off lanes read as 0, which could exceed an all-negative row:
	// make them -Inf.
	VMOVUPS avx2c<>+448(SB), Y2
	VBLENDVPS Y1, Y0, Y2, Y0
	VMAXPS Y0, Y9, Y9

mxdone:
	VMAXPS Y9, Y8, Y8
	VMAXPS Y11, Y10, Y10
	VMAXPS Y10, Y8, Y8
	VEXTRACTF128 $1, Y8, X9
	VMAXPS X9, X8, X8
	VMOVHLPS X8, X9, X9
	VMAXPS X9, X8, X8
	VMOVSHDUP X8, X9
	VMAXSS X9, X8, X8
	VMOVSS X8, ret+16(FP)
	VZEROUPPER
	RET

// func scaleF32AVX2(dst *float32, n int, c float32)
// dst[i] *= c.
TEXT ·scaleF32AVX2(SB), NOSPLIT, $0-20
	MOVQ dst+0(FP), DI
	MOVQ n+8(FP), CX
	VBROADCASTSS c+16(FP), Y15

sc32:
	CMPQ CX, $32
	JLT  sc8
	VMULPS (DI), Y15, Y0
	VMULPS 32(DI), Y15, Y1
	VMULPS 64(DI), Y15, Y2
	VMULPS 96(DI), Y15, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ $128, DI
	SUBQ $32, CX
	JMP  sc32

sc8:
	CMPQ CX, $8
	JLT  sctail
	VMULPS (DI), Y15, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  sc8

sctail:
	TESTQ CX, CX
	JEQ   scdone
	TAILMASK8(Y1)
	VMASKMOVPS (DI), Y1, Y0
	VMULPS Y0, Y15, Y0
	VMASKMOVPS Y0, Y1, (DI)

scdone:
	VZEROUPPER
	RET

// LOGSM8(v, vx, a, ax, b, bx) sets a = float32(float64(v-m) - ls) for the
// 8 lanes of v (m in Y15, ls in Y14), in two float64 halves; v and b are
// overwritten. vx, ax and bx name the low halves (X) of v, a and b.
#define LOGSM8(v, vx, a, ax, b, bx) \
	VSUBPS Y15, v, v; \
	VCVTPS2PD vx, a; \
	VEXTRACTF128 $1, v, vx; \
	VCVTPS2PD vx, b; \
	VSUBPD Y14, a, a; \
	VSUBPD Y14, b, b; \
	VCVTPD2PSY a, ax; \
	VCVTPD2PSY b, bx; \
	VINSERTF128 $1, bx, a, a

// func logSoftmaxF32AVX2(dst, src *float32, n int, m float32, ls float64)
// dst[i] = float32(float64(src[i]-m) - ls), the destination prefetched a
// page ahead (see expSumF32AVX512).
TEXT ·logSoftmaxF32AVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS m+24(FP), Y15
	VBROADCASTSD ls+32(FP), Y14

ls8:
	CMPQ CX, $8
	JLT  lstail
	PREFETCHT0 4096(DI)
	VMOVUPS (SI), Y0
	LOGSM8(Y0, X0, Y1, X1, Y2, X2)
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  ls8

lstail:
	TESTQ CX, CX
	JEQ   lsdone
	TAILMASK8(Y3)
	VMASKMOVPS (SI), Y3, Y0
	LOGSM8(Y0, X0, Y1, X1, Y2, X2)
	VMASKMOVPS Y1, Y3, (DI)

lsdone:
	VZEROUPPER
	RET

// func sumF32AVX2(src *float32, n int) float32
// Sum of src in float32 lanes (four accumulators); callers keep n small.
TEXT ·sumF32AVX2(SB), NOSPLIT, $0-20
	MOVQ src+0(FP), SI
	MOVQ n+8(FP), CX
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

sm32:
	CMPQ CX, $32
	JLT  sm8
	VADDPS (SI), Y8, Y8
	VADDPS 32(SI), Y9, Y9
	VADDPS 64(SI), Y10, Y10
	VADDPS 96(SI), Y11, Y11
	ADDQ $128, SI
	SUBQ $32, CX
	JMP  sm32

sm8:
	CMPQ CX, $8
	JLT  smtail
	VADDPS (SI), Y8, Y8
	ADDQ $32, SI
	SUBQ $8, CX
	JMP  sm8

smtail:
	TESTQ CX, CX
	JEQ   smdone
	TAILMASK8(Y1)
	VMASKMOVPS (SI), Y1, Y0
	VADDPS Y0, Y9, Y9

smdone:
	VADDPS Y9, Y8, Y8
	VADDPS Y11, Y10, Y10
	VADDPS Y10, Y8, Y8
	VEXTRACTF128 $1, Y8, X9
	VADDPS X9, X8, X8
	VMOVHLPS X8, X9, X9
	VADDPS X9, X8, X8
	VMOVSHDUP X8, X9
	VADDSS X9, X8, X8
	VMOVSS X8, ret+16(FP)
	VZEROUPPER
	RET
