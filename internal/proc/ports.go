package proc

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"sync"
)

// maxPortTries bounds how many ports Ports tries before it gives up.
const maxPortTries = 64

// ErrNoPort is wrapped when no loopback port could be handed out.
var ErrNoPort = errors.New("no free loopback port")

// Ports hands out loopback TCP ports for workers. A port it handed out is
// never handed out again until its lease is released (when the worker that
// had it has exited), and every port it hands out was verified free by
// binding it: the kernel picks a port for 127.0.0.1:0, and a pick that is
// already leased is kept bound while the next one is tried, so the kernel
// cannot offer it again. It is safe for concurrent use; the zero value is
// ready.
//
// Only processes of this host are kept apart this way; another program on
// the machine may still bind a port between its release by [Ports.Reserve]
// and the worker's bind, which is why readiness also proves that the
// listener belongs to the worker ([Process.WaitReady]). With a range set
// ([Ports.SetRange]) ports come from that range instead of the kernel's
// ephemeral one, where any outgoing connection of the machine may take a
// reserved port before the worker binds it.
type Ports struct {
	mu   sync.Mutex
	held map[int]bool
	span PortRange
}

// SetRange makes the ports handed out from now on come from r (the zero
// range: the kernel's choice).
func (ps *Ports) SetRange(r PortRange) {
	ps.mu.Lock()
	ps.span = r
	ps.mu.Unlock()
}

// HostPorts is the allocator of this process: every pool of a host takes
// its workers' ports from it.
var HostPorts = &Ports{}

// Lease is a port handed out by Ports. Release it when the worker that got
// it has exited.
type Lease struct {
	// Port is the loopback port.
	Port int
	// Listener is the socket bound (and listening) on the port for a
	// lease from [Ports.Listen]; nil for [Ports.Reserve].
	Listener *net.TCPListener

	ports *Ports
	once  sync.Once
}

// Reserve hands out a port that was free a moment ago, for a worker that
// binds it itself ($PORT).
func (ps *Ports) Reserve() (*Lease, error) {
	l, err := ps.pick()
	if err != nil {
		return nil, err
	}
	if err := l.Listener.Close(); err != nil {
		l.Release()
		return nil, fmt.Errorf("reserve a port: %w", err)
	}
	l.Listener = nil
	return l, nil
}

// Listen hands out a port with a socket listening on it, for a worker that
// inherits the socket (see [Lease.File]).
func (ps *Ports) Listen() (*Lease, error) { return ps.pick() }

// pick binds a port that is not leased: one of the range when one is set,
// else 127.0.0.1:0 until the kernel offers one.
func (ps *Ports) pick() (*Lease, error) {
	ps.mu.Lock()
	span := ps.span
	ps.mu.Unlock()
	if !span.IsZero() {
		return ps.pickIn(span)
	}
	var rejected []net.Listener
	defer func() {
		for _, ln := range rejected {
			_ = ln.Close()
		}
	}()
	for range maxPortTries {
		ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return nil, fmt.Errorf("%w: listen on 127.0.0.1:0: %w", ErrNoPort, err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		if !ps.claim(port) {
			rejected = append(rejected, ln)
			continue
		}
		return &Lease{Port: port, Listener: ln, ports: ps}, nil
	}
	return nil, fmt.Errorf("%w: the kernel offered %d ports that workers still hold", ErrNoPort, maxPortTries)
}

// pickIn binds a port of span that is not leased: random ones first (two
// hosts, or a host and its previous run, rarely meet), then, so that a
// nearly full range is still used to its last port, every port in order
// from a random start.
func (ps *Ports) pickIn(span PortRange) (*Lease, error) {
	try := func(port int) *Lease {
		if !ps.claim(port) {
			return nil
		}
		ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
		if err != nil {
			ps.unclaim(port) // something else listens there
			return nil
		}
		return &Lease{Port: port, Listener: ln, ports: ps}
	}
	n := span.Size()
	for range min(maxPortTries, n) {
		if l := try(span.Lo + rand.IntN(n)); l != nil {
			return l, nil
		}
	}
	start := rand.IntN(n)
	for i := range n {
		if l := try(span.Lo + (start+i)%n); l != nil {
			return l, nil
		}
	}
	return nil, fmt.Errorf("%w: every port of --worker-ports %s is in use", ErrNoPort, span)
}

// claim leases port if it is not leased.
func (ps *Ports) claim(port int) bool {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.held[port] {
		return false
	}
	if ps.held == nil {
		ps.held = map[int]bool{}
	}
	ps.held[port] = true
	return true
}

// unclaim gives back a port claim took.
func (ps *Ports) unclaim(port int) {
	ps.mu.Lock()
	delete(ps.held, port)
	ps.mu.Unlock()
}

// Held reports whether port is leased.
func (ps *Ports) Held(port int) bool {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.held[port]
}

// File returns a duplicate of the lease's listening socket, to pass to a
// child (for example in [Spec.ExtraFiles]); the caller closes it. It fails
// for a lease without a listener.
func (l *Lease) File() (*os.File, error) {
	if l.Listener == nil {
		return nil, errors.New("the port lease has no listening socket")
	}
	f, err := l.Listener.File()
	if err != nil {
		return nil, fmt.Errorf("listening socket of port %d: %w", l.Port, err)
	}
	return f, nil
}

// CloseListener closes the host's own listening socket of the lease (after
// a child inherited it); the port stays leased.
func (l *Lease) CloseListener() {
	if l.Listener != nil {
		_ = l.Listener.Close()
	}
}

// Release closes the lease's socket, if any, and makes the port available
// again. Releasing twice is harmless.
func (l *Lease) Release() {
	if l == nil {
		return
	}
	l.once.Do(func() {
		l.CloseListener()
		l.ports.mu.Lock()
		delete(l.ports.held, l.Port)
		l.ports.mu.Unlock()
	})
}
