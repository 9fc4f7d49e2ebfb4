#include "textflag.h"

// func twistVec(cur, next, far *uint32, count int)
// cur[j] = far[j] ^ y>>1 ^ (matrixA if y is odd) with
// y = cur[j]&0x80000000 | next[j]&0x7fffffff, eight words at a time, count
// a multiple of 8. In place: a vector reads next = cur+1 before any later
// vector writes it.
TEXT ·twistVec(SB), NOSPLIT, $0-32
	MOVQ cur+0(FP), DI
	MOVQ next+8(FP), SI
	MOVQ far+16(FP), DX
	MOVQ count+24(FP), CX
	MOVL $0x80000000, AX
	VMOVD AX, X0
	VPBROADCASTD X0, Y0
	MOVL $0x7fffffff, AX
	VMOVD AX, X1
	VPBROADCASTD X1, Y1
	MOVL $0x9908b0df, AX
	VMOVD AX, X2
	VPBROADCASTD X2, Y2

twist:
	VMOVDQU (DI), Y4
	VMOVDQU (SI), Y5
	VPAND   Y0, Y4, Y4
	VPAND   Y1, Y5, Y5
	VPOR    Y5, Y4, Y4
	VPSRLD  $1, Y4, Y6
	VPSLLD  $31, Y4, Y7
	VPSRAD  $31, Y7, Y7
	VPAND   Y2, Y7, Y7
	VMOVDQU (DX), Y8
	VPXOR   Y6, Y8, Y8
	VPXOR   Y7, Y8, Y8
	VMOVDQU Y8, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, DX
	SUBQ $8, CX
	JNZ  twist
	VZEROUPPER
	RET

// func temperVec(out, in *uint32, count int)
// MT19937's tempering, eight words at a time, count a multiple of 8.
TEXT ·temperVec(SB), NOSPLIT, $0-24
	MOVQ out+0(FP), DI
	MOVQ in+8(FP), SI
	MOVQ count+16(FP), CX
	MOVL $0x9d2c5680, AX
	VMOVD AX, X0
	VPBROADCASTD X0, Y0
	MOVL $0xefc60000, AX
	VMOVD AX, X1
	VPBROADCASTD X1, Y1

temper:
	VMOVDQU (SI), Y2
	VPSRLD  $11, Y2, Y3
	VPXOR   Y3, Y2, Y2
	VPSLLD  $7, Y2, Y3
	VPAND   Y0, Y3, Y3
	VPXOR   Y3, Y2, Y2
	VPSLLD  $15, Y2, Y3
	VPAND   Y1, Y3, Y3
	VPXOR   Y3, Y2, Y2
	VPSRLD  $18, Y2, Y3
	VPXOR   Y3, Y2, Y2
	VMOVDQU Y2, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	SUBQ $8, CX
	JNZ  temper
	VZEROUPPER
	RET
