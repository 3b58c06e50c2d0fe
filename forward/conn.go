package forward

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Buffer sizes. The reader is larger than the writer: response heads and
// small bodies should arrive in one read.
const (
	readBufSize  = 8 << 10
	writeBufSize = 4 << 10
	copyBufSize  = 32 << 10
)

// watchDelay is how long a request may wait on the backend before Forward
// starts watching the client's context. Registering a context.AfterFunc
// costs about as much as the rest of the forwarder's own work for a small
// response, and most responses arrive well within this delay, so the first
// reads of a request run under a read deadline instead; a read that hits it
// arms the watch (which fires at once if the client has already gone) and
// goes on without a deadline. A client that goes away is thus noticed
// within watchDelay at worst.
const watchDelay = 50 * time.Millisecond

// fastReads is the number of reads per request made under watchDelay
// before the watch is armed anyway (long bodies).
const fastReads = 2

// aLongTimeAgo is a deadline in the past, used to make blocked I/O on a
// connection return at once.
var aLongTimeAgo = time.Unix(1, 0)

// copyBufs holds 32 KiB buffers for streaming large bodies.
var copyBufs = sync.Pool{New: func() any {
	b := make([]byte, copyBufSize)
	return &b
}}

// conn is one keep-alive connection to the backend with its buffers and
// the parser's scratch space, all reused from request to request.
type conn struct {
	t      *Target
	nc     net.Conn
	raw    syscall.RawConn // for the liveness probe; nil if unsupported
	br     *bufio.Reader   // reads through watchReader
	bw     *bufio.Writer
	abort  func() // sets a past deadline on nc; made once per conn
	reused bool   // popped from the idle stack (not freshly dialed)

	// A new connection holds one of the Target's MaxDials slots until
	// opened runs: at its first response byte, rampHold after it
	// connected (a timer), or its close.
	opening atomic.Bool

	probe probe // the liveness probe's state (probe_linux.go)

	// Per-request watch of the client's context (see watchDelay).
	ctx   context.Context // the request's context; nil between requests
	stop  func() bool     // non-nil once the watch is armed
	reads int             // reads made under watchDelay in this request
	dl    bool            // a watchDelay read deadline may be set on nc
	dlAt  time.Time       // when that deadline is

	head respHead          // scratch for the response head parser
	prev []field           // the previous response head, to reuse strings
	keys map[string]string // raw header name -> canonical, per conn
}

// newConn wraps nc.
func newConn(t *Target, nc net.Conn) *conn {
	c := &conn{
		t:  t,
		nc: nc,
		bw: bufio.NewWriterSize(nc, writeBufSize),
	}
	c.br = bufio.NewReaderSize(watchReader{c}, readBufSize)
	if sc, ok := nc.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			c.raw = raw
		}
	}
	c.abort = func() { _ = c.nc.SetDeadline(aLongTimeAgo) }
	return c
}

// close closes the network connection.
func (c *conn) close() {
	c.opened()
	_ = c.nc.Close()
}

// opened gives back the MaxDials slot of a new connection, once: the
// backend answered on it (so it accepted it), or it has been connected for
// rampHold, or it is closed.
func (c *conn) opened() {
	if !c.opening.CompareAndSwap(true, false) {
		return // (the rampHold timer, left to fire, ends here)
	}
	t := c.t
	t.mu.Lock()
	t.dialing--
	t.wakeOne()
	t.mu.Unlock()
}

// alive probes an idle connection without blocking: false when the peer has
// closed it, reset it, or sent unsolicited bytes. A watchDelay deadline
// left from the last request stays in place for the next one (see
// watchReader.read), unless it has expired: that fails the probe, and the
// probe is made again without it.
func (c *conn) alive() bool {
	if c.raw == nil {
		return true
	}
	ok, err := probeAlive(c.raw, &c.probe)
	if err != nil && c.dl && errors.Is(err, os.ErrDeadlineExceeded) {
		if c.clearDeadline() != nil {
			return false
		}
		ok, err = probeAlive(c.raw, &c.probe)
	}
	return err == nil && ok
}

// watch starts a request: its client context is watched lazily. (Calling
// ctx.Done here would allocate the context's channel for nothing when the
// watch is never armed.)
func (c *conn) watch(ctx context.Context) {
	c.stop = nil
	c.reads = 0
	c.ctx = ctx
}

// arm registers the client-context watch now, if it is not armed yet,
// after clearing any watchDelay deadline (the watch's own deadline must not
// be overwritten).
func (c *conn) arm() error {
	if err := c.clearDeadline(); err != nil {
		return err
	}
	if c.ctx != nil && c.stop == nil {
		c.stop = context.AfterFunc(c.ctx, c.abort)
	}
	return nil
}

// clearDeadline removes a watchDelay read deadline left on nc.
func (c *conn) clearDeadline() error {
	if !c.dl {
		return nil
	}
	c.dl = false
	return c.nc.SetReadDeadline(time.Time{})
}

// unwatch ends the request's watch. It reports false when the watch fired
// (or is firing): the connection then has a past deadline and must go.
func (c *conn) unwatch() bool {
	ok := c.stop == nil || c.stop()
	c.stop = nil
	c.ctx = nil
	return ok
}

// watchReader is the reader under c.br. While the watch is not armed, it
// reads under a watchDelay deadline and arms the watch when that expires.
type watchReader struct{ c *conn }

// Read reads from the backend connection.
func (r watchReader) Read(p []byte) (int, error) {
	n, err := r.read(p)
	if n > 0 && r.c.opening.Load() {
		r.c.opened()
	}
	return n, err
}

// read is Read without the MaxDials bookkeeping.
func (r watchReader) read(p []byte) (int, error) {
	c := r.c
	if c.ctx != nil && c.stop == nil {
		if c.reads < fastReads {
			c.reads++
			// The deadline is left in place after a successful read,
			// also while the connection is idle: the next fast read
			// keeps it if at least half of watchDelay is left (requests
			// that follow each other closely then change no timer),
			// else sets it again; arm or a read without a watch clears
			// it. The watch may so be armed after half of watchDelay
			// rather than all of it: a client that goes away is still
			// noticed within watchDelay.
			now := time.Now()
			if !c.dl || c.dlAt.Sub(now) < watchDelay/2 {
				c.dl, c.dlAt = true, now.Add(watchDelay)
				if err := c.nc.SetReadDeadline(c.dlAt); err != nil {
					return 0, err
				}
			}
			n, err := c.nc.Read(p)
			if n > 0 || err == nil || !isTimeout(err) {
				return n, err
			}
		}
		if err := c.arm(); err != nil {
			return 0, err
		}
	} else if err := c.clearDeadline(); err != nil {
		return 0, err
	}
	return c.nc.Read(p)
}
