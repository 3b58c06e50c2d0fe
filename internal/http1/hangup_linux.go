package http1

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"

	"github.com/poolctl/poolctl/internal/epollset"
	"golang.org/x/sys/unix"
)

// The hangup watcher: every served connection is in one epoll set, for
// EPOLLRDHUP only (plus the errors and hang-ups epoll always reports),
// edge-triggered. The set itself is waited on through the runtime's
// poller by one goroutine. So a client closing or resetting its side is
// noticed at once, and costs nothing per request: no background read, no
// goroutine, no system call.

// hangupHub is the epoll set of the served connections.
type hangupHub struct {
	set *epollset.Set

	mu    sync.Mutex
	next  uint64
	conns map[uint64]*conn
}

// theHub is the process's hangup watcher, set up on first use.
var theHub = sync.OnceValues(newHangupHub)

// Supported reports whether the hangup watcher can run here; the server
// does not serve without it.
func Supported() error {
	_, err := theHub()
	return err
}

// newHangupHub creates the epoll set and starts its goroutine.
func newHangupHub() (*hangupHub, error) {
	set, err := epollset.New("http1-hangups")
	if err != nil {
		return nil, fmt.Errorf("hangup watcher: %w", err)
	}
	h := &hangupHub{set: set, conns: map[uint64]*conn{}}
	go h.run()
	return h, nil
}

// run waits for hang-ups for the life of the process.
func (h *hangupHub) run() {
	events := make([]unix.EpollEvent, 64)
	for {
		n, err := h.set.Wait(events)
		if err != nil {
			return
		}
		for _, ev := range events[:n] {
			id := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
			h.mu.Lock()
			c := h.conns[id]
			h.mu.Unlock()
			if c != nil {
				c.hungUp()
			}
		}
	}
}

// watch adds c to the set. A connection with no descriptor to watch is
// served without (its requests' contexts end only with them).
func (h *hangupHub) watch(c *conn) {
	rc := rawConnOf(c.nc)
	if rc == nil {
		c.srv.debugf("http1: connection without a descriptor; client hang-ups go unnoticed", "remote", c.remote)
		return
	}
	h.mu.Lock()
	h.next++
	id := h.next
	h.conns[id] = c
	h.mu.Unlock()
	c.id = id
	var err error
	cerr := rc.Control(func(fd uintptr) {
		err = h.set.Add(int(fd), unix.EpollEvent{Events: unix.EPOLLRDHUP | unix.EPOLLET, Fd: int32(uint32(id)), Pad: int32(uint32(id >> 32))})
	})
	if err = errors.Join(err, cerr); err != nil {
		h.unwatch(c)
		c.srv.debugf("http1: cannot watch the connection for hang-ups", "remote", c.remote, "err", err)
	}
}

// unwatch forgets c; the kernel drops its descriptor from the set when it
// is closed, and an event for an id no longer known is ignored.
func (h *hangupHub) unwatch(c *conn) {
	if c.id == 0 {
		return
	}
	h.mu.Lock()
	delete(h.conns, c.id)
	h.mu.Unlock()
	c.id = 0
}

// rawConnOf finds the descriptor of nc, through wrappers that expose
// NetConn.
func rawConnOf(nc net.Conn) syscall.RawConn {
	for range 8 {
		switch v := nc.(type) {
		case syscall.Conn:
			rc, err := v.SyscallConn()
			if err != nil {
				return nil
			}
			return rc
		case interface{ NetConn() net.Conn }:
			nc = v.NetConn()
		default:
			return nil
		}
	}
	return nil
}
