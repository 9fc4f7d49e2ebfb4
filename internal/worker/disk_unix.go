//go:build unix

package worker

import "syscall"

// diskGiB is a filesystem's size and the space left to unprivileged users,
// in GiB.
func diskGiB(path string) (total, free int64) {
	var st syscall.Statfs_t
	if syscall.Statfs(path, &st) != nil {
		return 0, 0
	}
	bs := int64(st.Bsize)
	return int64(st.Blocks) * bs >> 30, int64(st.Bavail) * bs >> 30
}
