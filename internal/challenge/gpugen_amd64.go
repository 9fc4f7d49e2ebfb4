package challenge

import "golang.org/x/sys/cpu"

func init() {
	if cpu.X86.HasAVX2 {
		genElements, dotElements = genElementsAVX2, dotElementsAVX2
	}
}

//go:noescape
func genAVX2(dst *int32, n int, key uint32, rot bool)

//go:noescape
func dotAVX2(a, b *int32, n int) int64

// The assembly takes whole vectors of 8; the tail goes through Go.

func genElementsAVX2(dst []int32, key uint32, rot bool) {
	body := len(dst) &^ 7
	if body > 0 {
		genAVX2(&dst[0], body, key, rot)
	}
	for k := body; k < len(dst); k++ {
		if rot {
			dst[k] = mix(key ^ (uint32(k)<<16 | uint32(k)>>16))
		} else {
			dst[k] = mix(key ^ uint32(k))
		}
	}
}

func dotElementsAVX2(a, b []int32) int64 {
	b = b[:len(a)]
	body := len(a) &^ 7
	var s int64
	if body > 0 {
		s = dotAVX2(&a[0], &b[0], body)
	}
	for k := body; k < len(a); k++ {
		s += int64(a[k]) * int64(b[k])
	}
	return s
}
