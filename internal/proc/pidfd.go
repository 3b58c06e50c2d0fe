package proc

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Waiting for a child through its pidfd (Linux ≥ 5.4 for waitid P_PIDFD,
// 5.3 for pidfd_open and poll): the descriptor becomes readable when the
// child exits, so the goroutine that waits parks in the runtime's netpoller
// instead of holding an OS thread in a blocking waitid. Kernels without it
// fall back to the blocking waitid (waitExited).

// pidfdAvailable reports, once per process, whether the kernel lets a
// pidfd be opened, polled and waited on.
var pidfdAvailable = sync.OnceValue(func() bool {
	f, err := openPidfd(os.Getpid())
	if err != nil {
		return false
	}
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	// waitid P_PIDFD on ourselves (not our child): ECHILD when P_PIDFD is
	// known, EINVAL when it is not.
	var werr error
	if err := rc.Control(func(fd uintptr) {
		var info unix.Siginfo
		werr = unix.Waitid(unix.P_PIDFD, int(fd), &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
	}); err != nil {
		return false
	}
	return errors.Is(werr, unix.ECHILD)
})

// openPidfd opens a non-blocking pidfd for pid, registered with the
// runtime's poller.
func openPidfd(pid int) (*os.File, error) {
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if errors.Is(err, unix.EINVAL) {
		// PIDFD_NONBLOCK is Linux ≥ 5.10; the descriptor is ours alone
		// (not shared with another open file description), so setting
		// O_NONBLOCK on it afterwards is as good.
		if fd, err = unix.PidfdOpen(pid, 0); err == nil {
			if err = unix.SetNonblock(fd, true); err != nil {
				_ = unix.Close(fd)
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("pidfd_open %d: %w", pid, err)
	}
	return os.NewFile(uintptr(fd), "pidfd:"+fmt.Sprint(pid)), nil
}

// waitExitedPidfd waits, parked in the netpoller, until the child behind
// the pidfd f has exited, leaving it a zombie (WNOWAIT). It closes f.
func waitExitedPidfd(f *os.File, pid int) error {
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return fmt.Errorf("wait for %d: %w", pid, err)
	}
	var werr error
	err = rc.Read(func(fd uintptr) bool {
		var info unix.Siginfo
		for range maxEINTR {
			werr = unix.Waitid(unix.P_PIDFD, int(fd), &info, unix.WEXITED|unix.WNOWAIT|unix.WNOHANG, nil)
			if !errors.Is(werr, unix.EINTR) {
				break
			}
		}
		switch {
		case errors.Is(werr, unix.EAGAIN):
			werr = nil
			return false // not exited: wait until the pidfd is readable
		case werr != nil:
			return true
		}
		// With WNOHANG and nothing to report the kernel zeroes info.
		return info.Signo == int32(syscall.SIGCHLD)
	})
	if werr != nil {
		return fmt.Errorf("waitid %d: %w", pid, werr)
	}
	if err != nil {
		return fmt.Errorf("wait for %d: %w", pid, err)
	}
	return nil
}
