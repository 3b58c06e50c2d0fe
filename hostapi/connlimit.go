package hostapi

import (
	"net"
	"sync"
	"time"
)

// Bounds of the control socket's connections (ServerOptions' zero values).
const (
	// DefaultMaxConns is how many control connections may be open at
	// once; a client past it waits in the socket's backlog until one
	// closes.
	DefaultMaxConns = 64
	// DefaultIdleTimeout closes a control connection that has been idle
	// (between requests) this long.
	DefaultIdleTimeout = 30 * time.Second
)

// peerListener accepts at most cap(slots) connections at a time and takes
// each connection's peer credentials as it accepts it.
type peerListener struct {
	net.Listener
	slots     chan struct{}
	closed    chan struct{}
	closeOnce sync.Once
}

func newPeerListener(ln net.Listener, max int) *peerListener {
	return &peerListener{Listener: ln, slots: make(chan struct{}, max), closed: make(chan struct{})}
}

// Accept waits for a free slot, then accepts and reads the peer.
func (l *peerListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.closed:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	p, err := peerFromConn(c)
	if err != nil {
		p = Peer{UID: -1, GID: -1, PID: -1} // nobody: reads only
	}
	return &peerConn{Conn: c, peer: p, release: func() { <-l.slots }}, nil
}

// Close stops accepting; a waiting Accept returns.
func (l *peerListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// peerConn is an accepted control connection with its peer; closing it
// frees its slot.
type peerConn struct {
	net.Conn
	peer    Peer
	once    sync.Once
	release func()
}

// Close closes the connection and frees its slot once.
func (c *peerConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
