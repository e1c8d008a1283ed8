//go:build amd64 && !purego

#include "textflag.h"

// maxPool2x2F32AVX512 pools one row of 2×2, stride-2 windows: output i
// takes the window r0[2i], r0[2i+1], r1[2i], r1[2i+1] (two input rows)
// and writes its value to y[i] and its flat index to idx[i], with the
// choices of maxPool2x2Plane (cpu_pool.go), 16 windows per iteration:
//
//	k0 = a is a number and not b <= a    (a, b = r0[2i], r0[2i+1])
//	k1 = e is a number and not f <= e    (e, f = r1[2i], r1[2i+1])
//	v0 = k0 ? b : a, v1 = k1 ? f : e
//	t  = v0 is a number and not v1 <= v0
//	y  = t ? v1 : v0, idx = base + 2i + (t ? k1 : k0) + (t ? w : 0)
//
// VPERMT2PS splits 32 elements of a row into the even and odd columns;
// the comparisons write mask registers (predicate 7: ordered; 0x16: not
// less-or-equal, true for NaN), VBLENDMPS selects by them and masked
// adds build the int64 indices. A last block of fewer than 16 windows
// (any n >= 0 works) loads and stores through masks, so that a row of a
// small image (14 windows in the course's CNN, 7 after its second
// convolution) is still one vector.

// Even and odd element indices into a pair of vectors.
DATA poolEven<>+0(SB)/4, $0
DATA poolEven<>+4(SB)/4, $2
DATA poolEven<>+8(SB)/4, $4
DATA poolEven<>+12(SB)/4, $6
DATA poolEven<>+16(SB)/4, $8
DATA poolEven<>+20(SB)/4, $10
DATA poolEven<>+24(SB)/4, $12
DATA poolEven<>+28(SB)/4, $14
DATA poolEven<>+32(SB)/4, $16
DATA poolEven<>+36(SB)/4, $18
DATA poolEven<>+40(SB)/4, $20
DATA poolEven<>+44(SB)/4, $22
DATA poolEven<>+48(SB)/4, $24
DATA poolEven<>+52(SB)/4, $26
DATA poolEven<>+56(SB)/4, $28
DATA poolEven<>+60(SB)/4, $30
GLOBL poolEven<>(SB), RODATA|NOPTR, $64

// 2i for i = 0..15, as int64.
DATA poolIota<>+0(SB)/8, $0
DATA poolIota<>+8(SB)/8, $2
DATA poolIota<>+16(SB)/8, $4
DATA poolIota<>+24(SB)/8, $6
DATA poolIota<>+32(SB)/8, $8
DATA poolIota<>+40(SB)/8, $10
DATA poolIota<>+48(SB)/8, $12
DATA poolIota<>+56(SB)/8, $14
DATA poolIota<>+64(SB)/8, $16
DATA poolIota<>+72(SB)/8, $18
DATA poolIota<>+80(SB)/8, $20
DATA poolIota<>+88(SB)/8, $22
DATA poolIota<>+96(SB)/8, $24
DATA poolIota<>+104(SB)/8, $26
DATA poolIota<>+112(SB)/8, $28
DATA poolIota<>+120(SB)/8, $30
GLOBL poolIota<>(SB), RODATA|NOPTR, $128

// POOL16 computes 16 windows from a (Z4), b (Z0), e (Z6), f (Z2): the
// values into Z10, the indices into Z12 (windows 0-7) and Z13 (8-15).
// Z28 holds base, Z26/Z27 the offsets 2i, Z25 ones, Z29 w.
#define POOL16 \
	VCMPPS $7, Z4, Z4, K1; \
	VCMPPS $0x16, Z4, Z0, K1, K1; \
	VBLENDMPS Z0, Z4, K1, Z8; \
	VCMPPS $7, Z6, Z6, K2; \
	VCMPPS $0x16, Z6, Z2, K2, K2; \
	VBLENDMPS Z2, Z6, K2, Z9; \
	VCMPPS $7, Z8, Z8, K3; \
	VCMPPS $0x16, Z8, Z9, K3, K3; \
	VBLENDMPS Z9, Z8, K3, Z10; \
	KANDW K2, K3, K4; \
	KANDNW K1, K3, K5; \
	KORW K4, K5, K4; \
	VPADDQ Z26, Z28, Z12; \
	VPADDQ Z27, Z28, Z13; \
	VPADDQ Z25, Z12, K4, Z12; \
	VPADDQ Z29, Z12, K3, Z12; \
	KSHIFTRW $8, K4, K4; \
	KSHIFTRW $8, K3, K3; \
	VPADDQ Z25, Z13, K4, Z13; \
	VPADDQ Z29, Z13, K3, Z13

// SPLIT separates the 32 elements in lo and hi into their even (into ev)
// and odd (into hi's... into od) columns; lo is clobbered.
#define SPLIT(lo, hi, ev, od) \
	VMOVAPS lo, ev; \
	VPERMT2PS hi, Z30, ev; \
	VPERMT2PS hi, Z31, lo; \
	VMOVAPS lo, od

// func maxPool2x2F32AVX512(y *float32, idx *int64, r0, r1 *float32, n int, base, w int64)
TEXT ·maxPool2x2F32AVX512(SB), NOSPLIT, $0-56
	MOVQ y+0(FP), DI
	MOVQ idx+8(FP), DX
	MOVQ r0+16(FP), SI
	MOVQ r1+24(FP), R8
	MOVQ n+32(FP), CX
	MOVQ base+40(FP), AX
	MOVQ w+48(FP), BX
	VMOVDQU32 poolEven<>(SB), Z30
	MOVL $1, R9
	VPBROADCASTD R9, Z31
	VPADDD Z31, Z30, Z31 // odd indices
	VMOVDQU64 poolIota<>(SB), Z26
	VMOVDQU64 poolIota<>+64(SB), Z27
	VPBROADCASTQ AX, Z28 // base of the current 16 windows
	VPBROADCASTQ BX, Z29 // w
	MOVQ $1, R9
	VPBROADCASTQ R9, Z25 // 1
	MOVQ $32, R9
	VPBROADCASTQ R9, Z24 // 32: the step of base
	MOVQ CX, R10
	SHRQ $4, R10
	JZ tail

loop:
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	VMOVUPS (R8), Z2
	VMOVUPS 64(R8), Z3
	SPLIT(Z0, Z1, Z4, Z0)
	SPLIT(Z2, Z3, Z6, Z2)
	POOL16
	VMOVUPS Z10, (DI)
	VMOVDQU64 Z12, (DX)
	VMOVDQU64 Z13, 64(DX)
	VPADDQ Z24, Z28, Z28
	ADDQ $128, SI
	ADDQ $128, R8
	ADDQ $64, DI
	ADDQ $128, DX
	DECQ R10
	JNZ loop

tail:
	ANDQ $15, CX
	JZ done
	// Masks: R11 the 2·CX inputs of a row (low 16 in the first vector,
	// the rest in the second), R12 the CX windows.
	MOVQ $1, R11
	SHLQ CX, R11
	SHLQ CX, R11
	DECQ R11
	MOVQ $1, R12
	SHLQ CX, R12
	DECQ R12
	KMOVW R11, K6
	SHRQ $16, R11
	KMOVW R11, K7
	VMOVUPS.Z (SI), K6, Z0
	VMOVUPS.Z 64(SI), K7, Z1
	VMOVUPS.Z (R8), K6, Z2
	VMOVUPS.Z 64(R8), K7, Z3
	SPLIT(Z0, Z1, Z4, Z0)
	SPLIT(Z2, Z3, Z6, Z2)
	POOL16
	KMOVW R12, K6
	VMOVUPS Z10, K6, (DI)
	VMOVDQU64 Z12, K6, (DX)
	SHRQ $8, R12
	KMOVW R12, K6
	VMOVDQU64 Z13, K6, 64(DX)

done:
	VZEROUPPER
	RET

// Indices that interleave two vectors: the first 8 lanes of each, and the
// last 8.
DATA poolZipLo<>+0(SB)/4, $0
DATA poolZipLo<>+4(SB)/4, $16
DATA poolZipLo<>+8(SB)/4, $1
DATA poolZipLo<>+12(SB)/4, $17
DATA poolZipLo<>+16(SB)/4, $2
DATA poolZipLo<>+20(SB)/4, $18
DATA poolZipLo<>+24(SB)/4, $3
DATA poolZipLo<>+28(SB)/4, $19
DATA poolZipLo<>+32(SB)/4, $4
DATA poolZipLo<>+36(SB)/4, $20
DATA poolZipLo<>+40(SB)/4, $5
DATA poolZipLo<>+44(SB)/4, $21
DATA poolZipLo<>+48(SB)/4, $6
DATA poolZipLo<>+52(SB)/4, $22
DATA poolZipLo<>+56(SB)/4, $7
DATA poolZipLo<>+60(SB)/4, $23
GLOBL poolZipLo<>(SB), RODATA|NOPTR, $64

// POOLBACK16 writes the gradients of 16 windows: Z0 holds 0 + g, Z12 and
// Z13 the indices minus each window's first position (windows 0-7, 8-15).
// The four masks m0..m3 (index at offset 0, 1, w, w+1) go to K1..K4, their
// union to K5; the two rows' 32 values each to Z4/Z5 (row 0) and Z6/Z7
// (row 1). Z20 is w, Z21 is w+1, Z22 ones, Z23 zero, Z30/Z31 the zip
// indices.
#define POOLBACK16 \
	VPCMPEQQ Z23, Z12, K1; \
	VPCMPEQQ Z23, Z13, K5; \
	KUNPCKBW K1, K5, K1; \
	VPCMPEQQ Z22, Z12, K2; \
	VPCMPEQQ Z22, Z13, K5; \
	KUNPCKBW K2, K5, K2; \
	VPCMPEQQ Z20, Z12, K3; \
	VPCMPEQQ Z20, Z13, K5; \
	KUNPCKBW K3, K5, K3; \
	VPCMPEQQ Z21, Z12, K4; \
	VPCMPEQQ Z21, Z13, K5; \
	KUNPCKBW K4, K5, K4; \
	KORW K1, K2, K5; \
	KORW K3, K5, K5; \
	KORW K4, K5, K5; \
	VMOVAPS.Z Z0, K1, Z8; \
	VMOVAPS.Z Z0, K2, Z9; \
	VMOVAPS Z8, Z4; \
	VPERMT2PS Z9, Z30, Z4; \
	VPERMT2PS Z9, Z31, Z8; \
	VMOVAPS Z8, Z5; \
	VMOVAPS.Z Z0, K3, Z8; \
	VMOVAPS.Z Z0, K4, Z9; \
	VMOVAPS Z8, Z6; \
	VPERMT2PS Z9, Z30, Z6; \
	VPERMT2PS Z9, Z31, Z8; \
	VMOVAPS Z8, Z7

// func maxPool2x2BackF32AVX512(d0, d1, grad *float32, idx *int64, n int, base, w int64) int
//
// The backward pass of maxPool2x2F32AVX512 for one row of windows: window
// i writes d0[2i], d0[2i+1], d1[2i], d1[2i+1] (the two rows of its input
// gradient), 0 + g[i] where idx[i] points and 0 elsewhere. It returns 1
// when every index lay in its own window and 0 otherwise, leaving the
// rows partly written.
TEXT ·maxPool2x2BackF32AVX512(SB), NOSPLIT, $0-64
	MOVQ d0+0(FP), DI
	MOVQ d1+8(FP), R8
	MOVQ grad+16(FP), SI
	MOVQ idx+24(FP), DX
	MOVQ n+32(FP), CX
	MOVQ base+40(FP), AX
	MOVQ w+48(FP), BX
	VMOVDQU32 poolZipLo<>(SB), Z30
	MOVL $8, R9
	VPBROADCASTD R9, Z31
	VPADDD Z31, Z30, Z31 // the zip of the last 8 lanes
	VMOVDQU64 poolIota<>(SB), Z26
	VMOVDQU64 poolIota<>+64(SB), Z27
	VPBROADCASTQ AX, Z28 // first position of window 0 of the block
	MOVQ $32, R9
	VPBROADCASTQ R9, Z24
	VPBROADCASTQ BX, Z20 // w
	MOVQ $1, R9
	VPBROADCASTQ R9, Z22 // 1
	VPADDQ Z22, Z20, Z21 // w + 1
	VPXORQ Z23, Z23, Z23 // 0
	MOVQ $1, R13 // result
	MOVQ CX, R10
	SHRQ $4, R10
	JZ btail

bloop:
	VMOVUPS (SI), Z0
	VADDPS Z23, Z0, Z0
	VMOVDQU64 (DX), Z12
	VMOVDQU64 64(DX), Z13
	VPSUBQ Z28, Z12, Z12
	VPSUBQ Z28, Z13, Z13
	VPSUBQ Z26, Z12, Z12
	VPSUBQ Z27, Z13, Z13
	POOLBACK16
	KORTESTW K5, K5
	JCC bbad // CF is set only when all 16 bits are
	VMOVUPS Z4, (DI)
	VMOVUPS Z5, 64(DI)
	VMOVUPS Z6, (R8)
	VMOVUPS Z7, 64(R8)
	VPADDQ Z24, Z28, Z28
	ADDQ $64, SI
	ADDQ $128, DX
	ADDQ $128, DI
	ADDQ $128, R8
	DECQ R10
	JNZ bloop

btail:
	ANDQ $15, CX
	JZ bdone
	MOVQ $1, R11
	SHLQ CX, R11
	SHLQ CX, R11
	DECQ R11 // the 2·CX outputs of a row
	MOVQ $1, R12
	SHLQ CX, R12
	DECQ R12 // the CX windows
	KMOVW R12, K6
	VMOVUPS.Z (SI), K6, Z0
	VADDPS Z23, Z0, Z0
	VMOVDQU64.Z (DX), K6, Z12
	KSHIFTRW $8, K6, K7
	VMOVDQU64.Z 64(DX), K7, Z13
	VPSUBQ Z28, Z12, Z12
	VPSUBQ Z28, Z13, Z13
	VPSUBQ Z26, Z12, Z12
	VPSUBQ Z27, Z13, Z13
	POOLBACK16
	KNOTW K6, K6
	KORW K6, K5, K5
	KORTESTW K5, K5
	JCC bbad
	KMOVW R11, K6
	SHRQ $16, R11
	KMOVW R11, K7
	VMOVUPS Z4, K6, (DI)
	VMOVUPS Z5, K7, 64(DI)
	VMOVUPS Z6, K6, (R8)
	VMOVUPS Z7, K7, 64(R8)
	JMP bdone

bbad:
	MOVQ $0, R13

bdone:
	MOVQ R13, ret+56(FP)
	VZEROUPPER
	RET
