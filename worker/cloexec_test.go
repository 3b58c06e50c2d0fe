package worker

import (
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestCloseOnExecInherited: a descriptor inherited without close-on-exec
// (as the host's fds are) is not passed on to the worker's children.
func TestCloseOnExecInherited(t *testing.T) {
	fd, err := syscall.Open("/dev/null", syscall.O_RDONLY, 0) // no O_CLOEXEC
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	if flags, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); flags&unix.FD_CLOEXEC != 0 {
		t.Fatal("the test descriptor is already close-on-exec")
	}
	closeOnExecInherited()
	if flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil || flags&unix.FD_CLOEXEC == 0 {
		t.Errorf("fd %d flags %#x, %v: want close-on-exec", fd, flags, err)
	}
}
