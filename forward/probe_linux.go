//go:build linux

package forward

import (
	"syscall"
	"unsafe"
)

// probe is the state of a connection's liveness probe, made once per
// connection so that a probe allocates nothing.
type probe struct {
	buf [1]byte
	ok  bool
	fn  func(fd uintptr) bool
}

// probeAlive peeks one byte with MSG_PEEK|MSG_DONTWAIT: an idle keep-alive
// connection must have nothing to read (EAGAIN). EOF, an error, or stray
// bytes all mean the connection must not be used (false). The error is
// the connection's when the probe could not be made (an expired read
// deadline: os.ErrDeadlineExceeded).
func probeAlive(raw syscall.RawConn, p *probe) (bool, error) {
	if p.fn == nil {
		p.fn = func(fd uintptr) bool {
			// A non-blocking call: the raw form skips the scheduler hand-off.
			_, _, errno := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd,
				uintptr(unsafe.Pointer(&p.buf[0])), 1,
				syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
			p.ok = errno == syscall.EAGAIN
			return true
		}
	}
	p.ok = false
	if err := raw.Read(p.fn); err != nil {
		return false, err
	}
	return p.ok, nil
}
