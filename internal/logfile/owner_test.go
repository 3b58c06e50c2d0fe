package logfile

import (
	"os"
	"syscall"
)

// ownerOf returns the uid and gid of a file.
func ownerOf(st os.FileInfo) (int, int) {
	s := st.Sys().(*syscall.Stat_t)
	return int(s.Uid), int(s.Gid)
}
