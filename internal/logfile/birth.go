package logfile

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// birthTime is when the open file f was created, as well as Linux can
// tell: the statx(2) birth time where the file system records one (ext4,
// xfs, btrfs, tmpfs), else its modification time. The modification time is
// the wrong answer for a file that is appended to (it is always "now"), so
// it is only the fallback; it errs towards a younger file, delaying an age
// rotation rather than rotating a file that was just created.
func birthTime(f *os.File, st os.FileInfo) time.Time {
	var stx unix.Statx_t
	var err error
	rc, cerr := f.SyscallConn()
	if cerr == nil {
		cerr = rc.Control(func(fd uintptr) {
			err = unix.Statx(int(fd), "", unix.AT_EMPTY_PATH, unix.STATX_BTIME, &stx)
		})
	}
	if cerr == nil && err == nil && stx.Mask&unix.STATX_BTIME != 0 {
		return time.Unix(stx.Btime.Sec, int64(stx.Btime.Nsec))
	}
	return st.ModTime()
}
