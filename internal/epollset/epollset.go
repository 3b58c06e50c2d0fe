// Package epollset is an epoll set that goroutines wait on through the Go
// runtime's poller: Wait parks the calling goroutine, not a thread, until
// the set has events. The host uses one for its workers' output pipes and
// exits (internal/proc) and one for its clients' hang-ups
// (internal/http1).
package epollset

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Set is an epoll set.
type Set struct {
	fd   int      // the set's descriptor (file.Fd would make it blocking)
	file *os.File // the set, in the runtime's poller
	rc   syscall.RawConn
}

// New creates an empty set; name labels its descriptor.
func New(name string) (*Set, error) {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("%s: epoll_create1: %w", name, err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	s := &Set{fd: fd, file: os.NewFile(uintptr(fd), name)}
	if s.rc, err = s.file.SyscallConn(); err != nil {
		_ = s.file.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return s, nil
}

// Add puts fd in the set with the events and data of ev.
func (s *Set) Add(fd int, ev unix.EpollEvent) error {
	if err := unix.EpollCtl(s.fd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return fmt.Errorf("epoll_ctl add: %w", err)
	}
	return nil
}

// Delete takes fd out of the set.
func (s *Set) Delete(fd int) error {
	if err := unix.EpollCtl(s.fd, unix.EPOLL_CTL_DEL, fd, nil); err != nil {
		return fmt.Errorf("epoll_ctl del: %w", err)
	}
	return nil
}

// Wait parks the calling goroutine until the set has events, and returns
// how many it put in events (at least one), or the error that ended the
// wait (the set was closed).
func (s *Set) Wait(events []unix.EpollEvent) (int, error) {
	var n int
	err := s.rc.Read(func(fd uintptr) bool {
		for {
			var err error
			n, err = unix.EpollWait(int(fd), events, 0)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err != nil {
				n = 0
			}
			return n > 0 // else park until the set is readable
		}
	})
	return n, err
}

// Close closes the set; a Wait in progress returns an error.
func (s *Set) Close() error { return s.file.Close() }
