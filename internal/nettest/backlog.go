// Package nettest has network helpers for tests: loopback ports that are
// not taken before they are listened on, and listeners shaped like the
// workers poolctl meets.
package nettest

import (
	"net"
	"os"
	"syscall"
	"testing"
)

// ListenBacklog listens on 127.0.0.1 with a listen backlog of n, as a
// worker with a small accept queue does (Python's http.server: 5). The
// listener is closed when the test ends.
func ListenBacklog(t testing.TB, n int) net.Listener {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	syscall.CloseOnExec(fd)
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		syscall.Close(fd)
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, n); err != nil {
		syscall.Close(fd)
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "listener")
	ln, err := net.FileListener(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}
