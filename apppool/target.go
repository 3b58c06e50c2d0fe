package apppool

import (
	"context"
	"net"
	"sync"
	"sync/atomic"

	"github.com/poolctl/poolctl/forward"
)

// workerTarget is a worker's forward.Target (its pool of connections),
// made on the worker's first request rather than when it becomes ready: a
// host of hundreds of AlwaysRunning pools that serve now and then keeps no
// connection pool for the workers that have not served. Forward's hot path
// is one atomic load.
type workerTarget struct {
	t atomic.Pointer[forward.Target]

	mu      sync.Mutex // guards the fields below and the making of t
	closed  bool
	network string
	addr    string
	dial    func(ctx context.Context) (net.Conn, error) // nil: dial network and addr
}

// set says where the worker listens; its Target is made on first use.
func (wt *workerTarget) set(network, addr string, dial func(ctx context.Context) (net.Conn, error)) {
	wt.mu.Lock()
	wt.network, wt.addr, wt.dial = network, addr, dial
	wt.mu.Unlock()
}

// get returns the Target, making it on first use; a Target made after
// Close is closed (its Forward fails at once with forward.ErrClosed).
func (wt *workerTarget) get() *forward.Target {
	if t := wt.t.Load(); t != nil {
		return t
	}
	wt.mu.Lock()
	defer wt.mu.Unlock()
	if t := wt.t.Load(); t != nil {
		return t
	}
	t := forward.NewTarget(wt.network, wt.addr, forward.Options{Dial: wt.dial})
	if wt.closed {
		t.Close()
	}
	wt.t.Store(t)
	return t
}

// made reports whether the Target was made (tests).
func (wt *workerTarget) made() bool { return wt.t.Load() != nil }

// Close closes the Target if it was made, and any made later.
func (wt *workerTarget) Close() {
	wt.mu.Lock()
	wt.closed = true
	t := wt.t.Load()
	wt.mu.Unlock()
	if t != nil {
		t.Close()
	}
}
