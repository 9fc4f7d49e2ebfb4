//go:build !unix

package worker

func diskGiB(string) (total, free int64) { return 0, 0 }
