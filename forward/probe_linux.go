//go:build linux

package forward

import (
	"syscall"
	"unsafe"
)

// probeAlive peeks one byte with MSG_PEEK|MSG_DONTWAIT: an idle keep-alive
// connection must have nothing to read (EAGAIN). EOF, an error, or stray
// bytes all mean the connection must not be used.
func probeAlive(raw syscall.RawConn) bool {
	var b [1]byte
	alive := false
	err := raw.Read(func(fd uintptr) bool {
		// A non-blocking call: the raw form skips the scheduler hand-off.
		_, _, errno := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd,
			uintptr(unsafe.Pointer(&b[0])), 1,
			syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
		alive = errno == syscall.EAGAIN
		return true
	})
	return err == nil && alive
}
