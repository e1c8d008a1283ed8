//go:build amd64 && !purego

#include "textflag.h"

// Float32 vector kernels for exp, softmax and sum (AVX-512F/VL). Every
// kernel handles any n >= 0: full 16-lane vectors in the loop and the rest
// with a masked load and store, which never touches memory beyond n.

// e^x as in expf (fastmath.go): clamp x to [-104, 89] (NaN passes through:
// VMAXPS/VMINPS return their second source, x, when it is NaN), n =
// round(x·log2e), r = x − n·ln2 (hi and lo), p = Taylor polynomial of
// degree 7 by Horner with FMA, result p·2^n by VSCALEFPS, which rounds
// subnormal results once and gives +Inf above 88.72 and 0 below −103.97.
// Constants: Z16 -104, Z17 89, Z18 log2e, Z19 1.5·2^23, Z20 ln2Hi, Z21 ln2Lo,
// Z22..Z27 1/5040, 1/720, 1/120, 1/24, 1/6, 1/2, Z28 1.
#define EXP_CONSTS \
	MOVL $0xc2d00000, AX; \
	VPBROADCASTD AX, Z16; \
	MOVL $0x42b20000, AX; \
	VPBROADCASTD AX, Z17; \
	MOVL $0x3fb8aa3b, AX; \
	VPBROADCASTD AX, Z18; \
	MOVL $0x4b400000, AX; \
	VPBROADCASTD AX, Z19; \
	MOVL $0x3f318000, AX; \
	VPBROADCASTD AX, Z20; \
	MOVL $0xb95e8083, AX; \
	VPBROADCASTD AX, Z21; \
	MOVL $0x39500d01, AX; \
	VPBROADCASTD AX, Z22; \
	MOVL $0x3ab60b61, AX; \
	VPBROADCASTD AX, Z23; \
	MOVL $0x3c088889, AX; \
	VPBROADCASTD AX, Z24; \
	MOVL $0x3d2aaaab, AX; \
	VPBROADCASTD AX, Z25; \
	MOVL $0x3e2aaaab, AX; \
	VPBROADCASTD AX, Z26; \
	MOVL $0x3f000000, AX; \
	VPBROADCASTD AX, Z27; \
	MOVL $0x3f800000, AX; \
	VPBROADCASTD AX, Z28

// EXP(x, n, p): p = e^x; x is overwritten (it becomes r), n is scratch.
#define EXP(x, n, p) \
	VMAXPS x, Z16, x; \
	VMINPS x, Z17, x; \
	VMOVAPS Z19, n; \
	VFMADD231PS Z18, x, n; \
	VSUBPS Z19, n, n; \
	VFNMADD231PS Z20, n, x; \
	VFNMADD231PS Z21, n, x; \
	VMOVAPS Z22, p; \
	VFMADD213PS Z23, x, p; \
	VFMADD213PS Z24, x, p; \
	VFMADD213PS Z25, x, p; \
	VFMADD213PS Z26, x, p; \
	VFMADD213PS Z27, x, p; \
	VFMADD213PS Z28, x, p; \
	VFMADD213PS Z28, x, p; \
	VSCALEFPS n, p, p

// TAILMASK sets K1 to the low CX bits (CX < 16); clobbers AX.
#define TAILMASK \
	MOVL $1, AX; \
	SHLL CX, AX; \
	DECL AX; \
	KMOVW AX, K1

// func expF32AVX512(dst, src *float32, n int)
TEXT ·expF32AVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	EXP_CONSTS
exp32:
	CMPQ CX, $32
	JLT exp16
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	EXP(Z0, Z2, Z4)
	EXP(Z1, Z3, Z5)
	VMOVUPS Z4, (DI)
	VMOVUPS Z5, 64(DI)
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $32, CX
	JMP exp32
exp16:
	CMPQ CX, $16
	JLT exptail
	VMOVUPS (SI), Z0
	EXP(Z0, Z2, Z4)
	VMOVUPS Z4, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
exptail:
	TESTQ CX, CX
	JEQ expdone
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	EXP(Z0, Z2, Z4)
	VMOVUPS Z4, K1, (DI)
expdone:
	VZEROUPPER
	RET

// func expSumF32AVX512(dst, src *float32, n int, m float32) float64
// dst[i] = e^(src[i]-m); returns the sum of the dst[i], accumulated in
// float64 lanes (Z8-Z11). Both streams are prefetched 4 KiB ahead: the
// hardware prefetchers stop at page boundaries, and a softmax row of 1024
// floats is one page, so each row would start with a run of cache misses
// (its first pass, the maximum, reads it cold) and its stores would wait
// for their lines. A page ahead is the next such row; for longer rows it
// is the next page of the same one. Prefetches past the end of a slice
// never fault.
TEXT ·expSumF32AVX512(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS m+24(FP), Z15
	EXP_CONSTS
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
es32:
	CMPQ CX, $32
	JLT es16
	PREFETCHT0 4096(SI)
	PREFETCHT0 4160(SI)
	PREFETCHT0 4096(DI)
	PREFETCHT0 4160(DI)
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	VSUBPS Z15, Z0, Z0
	VSUBPS Z15, Z1, Z1
	EXP(Z0, Z2, Z4)
	EXP(Z1, Z3, Z5)
	VMOVUPS Z4, (DI)
	VMOVUPS Z5, 64(DI)
	VCVTPS2PD Y4, Z6
	VEXTRACTF32X8 $1, Z4, Y4
	VCVTPS2PD Y4, Z7
	VADDPD Z6, Z8, Z8
	VADDPD Z7, Z9, Z9
	VCVTPS2PD Y5, Z6
	VEXTRACTF32X8 $1, Z5, Y5
	VCVTPS2PD Y5, Z7
	VADDPD Z6, Z10, Z10
	VADDPD Z7, Z11, Z11
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $32, CX
	JMP es32
es16:
	CMPQ CX, $16
	JLT estail
	VMOVUPS (SI), Z0
	VSUBPS Z15, Z0, Z0
	EXP(Z0, Z2, Z4)
	VMOVUPS Z4, (DI)
	VCVTPS2PD Y4, Z6
	VEXTRACTF32X8 $1, Z4, Y4
	VCVTPS2PD Y4, Z7
	VADDPD Z6, Z8, Z8
	VADDPD Z7, Z9, Z9
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
estail:
	TESTQ CX, CX
	JEQ esdone
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	VSUBPS Z15, Z0, Z0
	EXP(Z0, Z2, Z4)
	VMOVUPS Z4, K1, (DI)
	VMOVAPS.Z Z4, K1, Z4
	VCVTPS2PD Y4, Z6
	VEXTRACTF32X8 $1, Z4, Y4
	VCVTPS2PD Y4, Z7
	VADDPD Z6, Z10, Z10
	VADDPD Z7, Z11, Z11
esdone:
	VADDPD Z9, Z8, Z8
	VADDPD Z11, Z10, Z10
	VADDPD Z10, Z8, Z8
	VEXTRACTF64X4 $1, Z8, Y9
	VADDPD Y9, Y8, Y8
	VEXTRACTF128 $1, Y8, X9
	VADDPD X9, X8, X8
	VUNPCKHPD X8, X8, X9
	VADDSD X9, X8, X8
	VMOVSD X8, ret+32(FP)
	VZEROUPPER
	RET

// func maxF32AVX512(src *float32, n int) float32
// Maximum of src (-Inf when n == 0); NaN handling is left to the caller.
TEXT ·maxF32AVX512(SB), NOSPLIT, $0-20
	MOVQ src+0(FP), SI
	MOVQ n+8(FP), CX
	MOVL $0xff800000, AX
	VPBROADCASTD AX, Z8
	VMOVAPS Z8, Z9
	VMOVAPS Z8, Z10
	VMOVAPS Z8, Z11
mx64:
	CMPQ CX, $64
	JLT mx16
	VMAXPS (SI), Z8, Z8
	VMAXPS 64(SI), Z9, Z9
	VMAXPS 128(SI), Z10, Z10
	VMAXPS 192(SI), Z11, Z11
	ADDQ $256, SI
	SUBQ $64, CX
	JMP mx64
mx16:
	CMPQ CX, $16
	JLT mxtail
	VMAXPS (SI), Z8, Z8
	ADDQ $64, SI
	SUBQ $16, CX
	JMP mx16
mxtail:
	TESTQ CX, CX
	JEQ mxdone
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	VMAXPS Z0, Z9, K1, Z9
mxdone:
	VMAXPS Z9, Z8, Z8
	VMAXPS Z11, Z10, Z10
	VMAXPS Z10, Z8, Z8
	VEXTRACTF32X8 $1, Z8, Y9
	VMAXPS Y9, Y8, Y8
	VEXTRACTF128 $1, Y8, X9
	VMAXPS X9, X8, X8
	VMOVHLPS X8, X9, X9
	VMAXPS X9, X8, X8
	VMOVSHDUP X8, X9
	VMAXSS X9, X8, X8
	VMOVSS X8, ret+16(FP)
	VZEROUPPER
	RET

// func scaleF32AVX512(dst *float32, n int, c float32)
// dst[i] *= c.
TEXT ·scaleF32AVX512(SB), NOSPLIT, $0-20
	MOVQ dst+0(FP), DI
	MOVQ n+8(FP), CX
	VBROADCASTSS c+16(FP), Z15
sc64:
	CMPQ CX, $64
	JLT sc16
	VMULPS (DI), Z15, Z0
	VMULPS 64(DI), Z15, Z1
	VMULPS 128(DI), Z15, Z2
	VMULPS 192(DI), Z15, Z3
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	ADDQ $256, DI
	SUBQ $64, CX
	JMP sc64
sc16:
	CMPQ CX, $16
	JLT sctail
	VMULPS (DI), Z15, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, DI
	SUBQ $16, CX
	JMP sc16
sctail:
	TESTQ CX, CX
	JEQ scdone
	TAILMASK
	VMOVUPS.Z (DI), K1, Z0
	VMULPS Z0, Z15, Z0
	VMOVUPS Z0, K1, (DI)
scdone:
	VZEROUPPER
	RET

// func logSoftmaxF32AVX512(dst, src *float32, n int, m float32, ls float64)
// dst[i] = float32(float64(src[i]-m) - ls). The destination is prefetched
// a page ahead, as in expSumF32AVX512 (whose source stream the rows share).
TEXT ·logSoftmaxF32AVX512(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS m+24(FP), Y15
	VBROADCASTSD ls+32(FP), Z14
ls8:
	CMPQ CX, $8
	JLT lstail
	PREFETCHT0 4096(DI)
	VMOVUPS (SI), Y0
	VSUBPS Y15, Y0, Y0
	VCVTPS2PD Y0, Z1
	VSUBPD Z14, Z1, Z1
	VCVTPD2PS Z1, Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP ls8
lstail:
	TESTQ CX, CX
	JEQ lsdone
	TAILMASK
	VMOVUPS.Z (SI), K1, Y0
	VSUBPS Y15, Y0, Y0
	VCVTPS2PD Y0, Z1
	VSUBPD Z14, Z1, Z1
	VCVTPD2PS Z1, Y1
	VMOVUPS Y1, K1, (DI)
lsdone:
	VZEROUPPER
	RET

// func sumF32AVX512(src *float32, n int) float32
// Sum of src in float32 lanes (four accumulators); callers keep n small.
TEXT ·sumF32AVX512(SB), NOSPLIT, $0-20
	MOVQ src+0(FP), SI
	MOVQ n+8(FP), CX
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
sm64:
	CMPQ CX, $64
	JLT sm16
	VADDPS (SI), Z8, Z8
	VADDPS 64(SI), Z9, Z9
	VADDPS 128(SI), Z10, Z10
	VADDPS 192(SI), Z11, Z11
	ADDQ $256, SI
	SUBQ $64, CX
	JMP sm64
sm16:
	CMPQ CX, $16
	JLT smtail
	VADDPS (SI), Z8, Z8
	ADDQ $64, SI
	SUBQ $16, CX
	JMP sm16
smtail:
	TESTQ CX, CX
	JEQ smdone
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	VADDPS Z0, Z9, Z9
smdone:
	VADDPS Z9, Z8, Z8
	VADDPS Z11, Z10, Z10
	VADDPS Z10, Z8, Z8
	VEXTRACTF32X8 $1, Z8, Y9
	VADDPS Y9, Y8, Y8
	VEXTRACTF128 $1, Y8, X9
	VADDPS X9, X8, X8
	VMOVHLPS X8, X9, X9
	VADDPS X9, X8, X8
	VMOVSHDUP X8, X9
	VADDSS X9, X8, X8
	VMOVSS X8, ret+16(FP)
	VZEROUPPER
	RET
