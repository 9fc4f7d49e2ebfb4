package gemm

import "golang.org/x/sys/cpu"

func init() {
	if cpu.X86.HasAVX2 {
		kernel = kernelAVX2
	}
}

//go:noescape
func kern4x16(a *int32, lda int, b *int16, k2 int, tile *[groupRows * panelWidth]int32)

func kernelAVX2(a []int32, lda int, b []int16, k2 int, tile *[groupRows * panelWidth]int32) {
	if k2 <= 0 {
		clear(tile[:])
		return
	}
	// The assembly reads a[i·lda+kp] for i < 4, kp < k2, and b[:32·k2].
	_ = a[(groupRows-1)*lda+k2-1]
	_ = b[2*panelWidth*k2-1]
	kern4x16(&a[0], lda, &b[0], k2, tile)
}
