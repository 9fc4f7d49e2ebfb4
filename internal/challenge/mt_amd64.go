package challenge

import "golang.org/x/sys/cpu"

func init() {
	if cpu.X86.HasAVX2 {
		refillBlock = refillAVX2
	}
}

//go:noescape
func twistVec(cur, next, far *uint32, count int)

//go:noescape
func temperVec(out, in *uint32, count int)

// refillAVX2 twists in whole vectors where no word of a vector depends on
// another of the same vector (words 0-223 read 397 ahead, 227-618 read 227
// behind), the few words between in Go, then tempers all 624.
func refillAVX2(mt, out *[624]uint32) {
	const n, mid = 624, 397
	twistVec(&mt[0], &mt[1], &mt[mid], 224)
	for i := 224; i < n-mid; i++ {
		mt[i] = twistWord(mt[i], mt[i+1], mt[i+mid])
	}
	twistVec(&mt[n-mid], &mt[n-mid+1], &mt[0], 392)
	for i := n - mid + 392; i < n-1; i++ {
		mt[i] = twistWord(mt[i], mt[i+1], mt[i+mid-n])
	}
	mt[n-1] = twistWord(mt[n-1], mt[0], mt[mid-1])
	temperVec(&out[0], &mt[0], n)
}
