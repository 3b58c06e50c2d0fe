package proc

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// Unix-socket workers (processModel.listen unix). The worker binds a socket
// at a path the host gave it, in a directory the worker's uid owns. The
// host runs as root, so it must never connect to whatever the worker puts
// at that path: a symbolic link there could point at any socket of the
// machine (the host's own control socket, a container runtime's), which
// root may connect to. So the host pins the socket file once: it opens the
// path itself with O_PATH|O_NOFOLLOW (a link is opened as the link and
// refused), proves that it is a socket owned by the worker's uid, keeps
// the descriptor, and from then on connects only through
// /proc/self/fd/<descriptor>, which names that very inode whatever happens
// to the path later.

// MaxUnixPath is the longest socket path bind(2) and connect(2) accept:
// sun_path holds 108 bytes with the terminating NUL.
const MaxUnixPath = 107

// ErrNotSocket is wrapped when a worker's socket path holds something the
// host will not connect to: a symbolic link, a file that is not a socket,
// or a socket owned by another uid than the worker's.
var ErrNotSocket = errors.New("not the worker's socket")

// UnixSocket is a worker's listening unix socket, pinned (see above). Its
// methods are safe for concurrent use; Close waits for dials in progress,
// so the descriptor number is never reused under a dial.
type UnixSocket struct {
	// Path is where the worker bound the socket.
	Path string

	mu sync.RWMutex
	fd int // O_PATH descriptor of the socket file; -1 once closed
}

// PinUnixSocket opens the socket file at path without following a
// symbolic link in its last element and returns it pinned when it is a
// socket owned by uid. The directories on the way must be the host's or
// the worker's own (the worker cannot replace them). A missing path wraps
// fs.ErrNotExist; anything else that is not uid's socket wraps
// ErrNotSocket.
func PinUnixSocket(path string, uid int) (*UnixSocket, error) {
	if len(path) > MaxUnixPath {
		return nil, fmt.Errorf("unix socket %s: the path is %d bytes, longer than the %d a socket path may have", path, len(path), MaxUnixPath)
	}
	fd, err := unix.Open(path, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil, fmt.Errorf("unix socket %s: %w", path, fs.ErrNotExist)
		}
		return nil, fmt.Errorf("unix socket %s: %w", path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("unix socket %s: %w", path, err)
	}
	var why string
	switch {
	case st.Mode&unix.S_IFMT == unix.S_IFLNK:
		why = "it is a symbolic link"
	case st.Mode&unix.S_IFMT != unix.S_IFSOCK:
		why = fmt.Sprintf("it is not a socket (mode %o)", st.Mode)
	case int(st.Uid) != uid:
		why = fmt.Sprintf("it is owned by uid %d, not by the worker's uid %d", st.Uid, uid)
	}
	if why != "" {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("unix socket %s: %s: %w", path, why, ErrNotSocket)
	}
	return &UnixSocket{Path: path, fd: fd}, nil
}

// DialContext connects to the pinned socket. It fails with an error
// wrapping net.ErrClosed after Close.
func (s *UnixSocket) DialContext(ctx context.Context) (net.Conn, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.fd < 0 {
		return nil, fmt.Errorf("dial %s: %w", s.Path, net.ErrClosed)
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", "/proc/self/fd/"+strconv.Itoa(s.fd))
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", s.Path, err)
	}
	return c, nil
}

// Check is [Check] of the pinned socket.
func (s *UnixSocket) Check(ctx context.Context, pingPath string) error {
	return check(ctx, endpoint{label: "unix:" + s.Path, host: "localhost", dial: s.DialContext}, pingPath)
}

// Close releases the pin once no dial uses it. Closing twice is harmless.
func (s *UnixSocket) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fd < 0 {
		return nil
	}
	err := unix.Close(s.fd)
	s.fd = -1
	if err != nil {
		return fmt.Errorf("close the pin of %s: %w", s.Path, err)
	}
	return nil
}

// WaitReadyUnix is [Process.WaitReady] for a worker that listens on a
// unix socket at path: it waits until the process has bound it (a socket
// owned by uid; see [PinUnixSocket]) and a health check through the pin
// passes, and returns the pin, which the caller closes when the worker is
// gone. While nothing is at path, nothing is sent; a path that holds
// something else than uid's socket is never connected to.
func (p *Process) WaitReadyUnix(ctx context.Context, path string, uid int, pingPath string) (*UnixSocket, error) {
	var ready *UnixSocket
	err := waitUntil(ctx, "unix:"+path, p.Done(), func(ctx context.Context) error {
		s, err := PinUnixSocket(path, uid)
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("no socket at %s yet", path)
		}
		if err != nil {
			return err
		}
		if err := s.Check(ctx, pingPath); err != nil {
			_ = s.Close()
			return err
		}
		ready = s
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ready, nil
}
