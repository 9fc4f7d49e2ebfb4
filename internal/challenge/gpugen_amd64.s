#include "textflag.h"

// func genAVX2(dst *int32, n int, key uint32, rot bool)
// dst[k] = mix(key ^ idx(k)), eight lanes at a time, n a multiple of 8;
// idx(k) = rotl32(k, 16) when rot, else k. mix multiplies by 0x9E3779B9,
// adds 0x85EBCA6B, xors in its high half, multiplies by 0x85EBCA6B and
// keeps the low 16 bits minus 32768.
TEXT ·genAVX2(SB), NOSPLIT, $0-21
	MOVQ dst+0(FP), DI
	MOVQ n+8(FP), CX
	MOVL key+16(FP), AX
	MOVB rot+20(FP), DX
	VMOVD AX, X0
	VPBROADCASTD X0, Y0          // key
	MOVL $0x9E3779B9, AX
	VMOVD AX, X1
	VPBROADCASTD X1, Y1
	MOVL $0x85EBCA6B, AX
	VMOVD AX, X2
	VPBROADCASTD X2, Y2
	MOVL $0xFFFF, AX
	VMOVD AX, X3
	VPBROADCASTD X3, Y3
	MOVL $32768, AX
	VMOVD AX, X4
	VPBROADCASTD X4, Y4
	MOVL $8, AX
	VMOVD AX, X5
	VPBROADCASTD X5, Y5          // step
	VMOVDQU lanes<>(SB), Y6      // k = 0..7
	TESTB DL, DL
	JZ   linear

rotated:
	VPSLLD $16, Y6, Y7
	VPSRLD $16, Y6, Y8
	VPOR   Y8, Y7, Y7
	VPXOR  Y0, Y7, Y7
	VPMULLD Y1, Y7, Y7
	VPADDD Y2, Y7, Y7
	VPSRLD $16, Y7, Y8
	VPXOR  Y8, Y7, Y7
	VPMULLD Y2, Y7, Y7
	VPAND  Y3, Y7, Y7
	VPSUBD Y4, Y7, Y7
	VMOVDQU Y7, (DI)
	VPADDD Y5, Y6, Y6
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ  rotated
	VZEROUPPER
	RET

linear:
	VPXOR  Y0, Y6, Y7
	VPMULLD Y1, Y7, Y7
	VPADDD Y2, Y7, Y7
	VPSRLD $16, Y7, Y8
	VPXOR  Y8, Y7, Y7
	VPMULLD Y2, Y7, Y7
	VPAND  Y3, Y7, Y7
	VPSUBD Y4, Y7, Y7
	VMOVDQU Y7, (DI)
	VPADDD Y5, Y6, Y6
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ  linear
	VZEROUPPER
	RET

// func dotAVX2(a, b *int32, n int) int64
// Σ a[k]·b[k] with the products widened to int64 (VPMULDQ on the even
// lanes, then on the odd ones shifted down), n a multiple of 8.
TEXT ·dotAVX2(SB), NOSPLIT, $0-32
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1

dot:
	VMOVDQU (SI), Y2
	VMOVDQU (DI), Y3
	VPMULDQ Y3, Y2, Y4
	VPSRLQ $32, Y2, Y5
	VPSRLQ $32, Y3, Y6
	VPMULDQ Y6, Y5, Y7
	VPADDQ Y4, Y0, Y0
	VPADDQ Y7, Y1, Y1
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ  dot

	VPADDQ Y1, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDQ X1, X0, X0
	VPSHUFD $0x4e, X0, X1
	VPADDQ X1, X0, X0
	VMOVQ X0, AX
	MOVQ AX, ret+24(FP)
	VZEROUPPER
	RET

DATA lanes<>+0(SB)/4, $0
DATA lanes<>+4(SB)/4, $1
DATA lanes<>+8(SB)/4, $2
DATA lanes<>+12(SB)/4, $3
DATA lanes<>+16(SB)/4, $4
DATA lanes<>+20(SB)/4, $5
DATA lanes<>+24(SB)/4, $6
DATA lanes<>+28(SB)/4, $7
GLOBL lanes<>(SB), RODATA|NOPTR, $32
