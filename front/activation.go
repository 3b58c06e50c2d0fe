package front

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
)

// ErrNotTCP means a socket handed to [NewInherited] is not a TCP listener.
var ErrNotTCP = errors.New("not a TCP listening socket")

// Inherited serves the front's bindings on the listening sockets the host
// inherited from its service manager (systemd socket activation), and opens
// the others itself. Its [Inherited.Listen] is the front's Listen hook.
//
// An inherited socket is never closed by the front: the process keeps its
// own copy, and every Listen that matches it returns a listener on a
// duplicate of that copy's descriptor. Closing what Listen returned (a site
// stops, the front shuts down) closes only the duplicate, so the socket
// keeps listening in the kernel (connections wait in its backlog) and the
// next binding for its address takes it again.
type Inherited struct {
	fallback func(network, addr string) (net.Listener, error)
	logger   *slog.Logger

	mu    sync.Mutex
	socks []*inheritedSocket
}

type inheritedSocket struct {
	ln       *net.TCPListener // the process's own copy: never closed here
	addr     netip.AddrPort
	users    int  // listeners handed out and not closed yet
	reported bool // logged as unused since it was last used
}

// NewInherited takes the inherited TCP listeners lns; Listen calls fallback
// for an address none of them matches. A listener that is not TCP is an
// error wrapping [ErrNotTCP].
func NewInherited(lns []net.Listener, fallback func(network, addr string) (net.Listener, error), logger *slog.Logger) (*Inherited, error) {
	a := &Inherited{fallback: fallback, logger: logger}
	for _, ln := range lns {
		tl, ok := ln.(*net.TCPListener)
		if !ok {
			return nil, fmt.Errorf("inherited socket %s (%s): %w", ln.Addr(), ln.Addr().Network(), ErrNotTCP)
		}
		ap := tl.Addr().(*net.TCPAddr).AddrPort()
		a.socks = append(a.socks, &inheritedSocket{ln: tl, addr: netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())})
	}
	return a, nil
}

// Listen returns a listener on the inherited socket whose address matches
// addr (":8080", the any-address form, matches a socket on 0.0.0.0 or ::
// port 8080; "127.0.0.1:8080" a socket on exactly that address), else the
// fallback's.
func (a *Inherited) Listen(network, addr string) (net.Listener, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	want, anyAddr, err := parseListenAddr(addr)
	if err != nil || (network != "tcp" && network != "tcp4" && network != "tcp6") {
		return a.fallback(network, addr)
	}
	var samePort *inheritedSocket
	for _, s := range a.socks {
		if s.addr.Port() != want.Port() {
			continue
		}
		if samePort == nil {
			samePort = s
		}
		if matches(s.addr, want, anyAddr) {
			return a.take(s)
		}
	}
	ln, err := a.fallback(network, addr)
	if err != nil && samePort != nil {
		return nil, fmt.Errorf("%w (the inherited socket %s holds port %d: give the socket unit a ListenStream= for %s)", err, samePort.addr, want.Port(), addr)
	}
	return ln, err
}

// parseListenAddr parses a front listen address: ":8080" (any address) or
// "ip:port".
func parseListenAddr(addr string) (ap netip.AddrPort, anyAddr bool, err error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return netip.AddrPort{}, false, fmt.Errorf("listen address %q: %w", addr, err)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return netip.AddrPort{}, false, fmt.Errorf("listen address %q: port: %w", addr, err)
	}
	if host == "" {
		return netip.AddrPortFrom(netip.IPv6Unspecified(), uint16(p)), true, nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.AddrPort{}, false, fmt.Errorf("listen address %q: %w", addr, err)
	}
	return netip.AddrPortFrom(ip.Unmap(), uint16(p)), false, nil
}

// matches reports whether an inherited socket bound to sock serves a
// binding that listens on want (anyAddr: on every address of its port).
func matches(sock, want netip.AddrPort, anyAddr bool) bool {
	if sock.Port() != want.Port() {
		return false
	}
	if anyAddr {
		return sock.Addr().IsUnspecified()
	}
	return sock.Addr() == want.Addr().Unmap()
}

// take hands out a listener on a duplicate of s. Called with a.mu held.
func (a *Inherited) take(s *inheritedSocket) (net.Listener, error) {
	f, err := s.ln.File() // a duplicate descriptor
	if err != nil {
		return nil, fmt.Errorf("duplicate the inherited socket %s: %w", s.addr, err)
	}
	ln, err := net.FileListener(f) // duplicates it again
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("listen on the inherited socket %s: %w", s.addr, err)
	}
	s.users++
	s.reported = false
	a.logger.Debug("using an inherited socket", "addr", s.addr.String())
	return &inheritedListener{Listener: ln, release: func() { a.release(s) }}, nil
}

// release counts a listener handed out on s as closed.
func (a *Inherited) release(s *inheritedSocket) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s.users--
	if s.users == 0 && !s.reported {
		s.reported = true
		a.logger.Info("inherited socket no longer used by any binding; it stays open for the next one", "addr", s.addr.String())
	}
}

// ReportUnused logs, once, each inherited socket that no binding uses and
// that was not reported since it was last used, and returns their
// addresses. The host calls it after every reconcile.
func (a *Inherited) ReportUnused() []netip.AddrPort {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []netip.AddrPort
	for _, s := range a.socks {
		if s.users > 0 || s.reported {
			continue
		}
		s.reported = true
		out = append(out, s.addr)
		a.logger.Warn("inherited socket matches no binding of a started site: kept open, connections to it wait unanswered", "addr", s.addr.String())
	}
	return out
}

// inheritedListener is a listener on a duplicate of an inherited socket:
// Close closes the duplicate only.
type inheritedListener struct {
	net.Listener
	once    sync.Once
	release func()
}

// Close stops accepting on this duplicate; the inherited socket stays
// open.
func (l *inheritedListener) Close() error {
	err := l.Listener.Close()
	l.once.Do(l.release)
	return err
}
