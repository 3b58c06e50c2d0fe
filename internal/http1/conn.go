package http1

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// conn is one client connection and its serving loop.
type conn struct {
	srv    *Server
	nc     net.Conn
	in     inbuf
	bw     *bufio.Writer
	ctx    context.Context // the connection's; each request's derives from it
	remote string
	tls    *tls.ConnectionState // of a TLS connection; every request's r.TLS
	keys   keyCache
	spare  []byte // scratch for discarding bodies
	accept time.Time

	wmu sync.Mutex // held while writing to bw
	cur *response  // the response being written (guarded by wmu)

	state atomic.Int32 // http.ConnState

	// The request in flight, for the hangup watcher (guarded by mu).
	mu     sync.Mutex
	cancel context.CancelFunc
	gone   bool // the client closed or reset its side
	id     uint64

	readDeadlineSet, writeDeadlineSet bool
	hijacked                          bool
}

// buffer pools: a connection takes its buffers when it starts and gives
// them back when it ends.
var (
	readBufs  = sync.Pool{New: func() any { b := make([]byte, inbufSize); return &b }}
	writeBufs = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 4<<10) }}
)

// serve reads requests and answers them until the connection ends.
func (c *conn) serve() {
	defer func() {
		if !c.hijacked {
			c.close()
		}
	}()
	for {
		r, cancel, err := c.readRequest()
		if err != nil {
			c.refuse(err)
			return
		}
		c.setState(http.StateActive)
		w := &response{c: c, req: r, h: make(http.Header), length: -1}
		if b, ok := r.Body.(*body); ok {
			w.body = b
		}
		c.wmu.Lock()
		c.cur = w
		c.wmu.Unlock()
		if !c.run(w, r, cancel) || c.hijacked {
			return
		}
		w.finish()
		if w.closeAfter || (w.body != nil && !w.body.discard()) {
			return
		}
		if !c.clearDeadlines() || c.srv.shuttingDown() {
			return
		}
		c.in.reset()
		c.setState(http.StateIdle)
	}
}

// run runs the handler on r with a context the hangup watcher can cancel;
// it reports false when the handler panicked (the connection then ends).
func (c *conn) run(w *response, r *http.Request, cancel context.CancelFunc) (ok bool) {
	c.mu.Lock()
	c.cancel = cancel
	gone := c.gone
	c.mu.Unlock()
	if gone {
		cancel()
	}
	defer func() {
		c.mu.Lock()
		c.cancel = nil
		c.mu.Unlock()
		cancel()
		if v := recover(); v != nil {
			ok = false
			if v == http.ErrAbortHandler {
				c.srv.debugf("http1: handler aborted the response", "remote", c.remote)
				return
			}
			c.srv.logf("http1: panic serving "+c.remote, "panic", v, "stack", string(debug.Stack()))
		}
	}()
	c.srv.Handler.ServeHTTP(w, r)
	return true
}

// hungUp is the watcher's news that the client closed or reset its side:
// the request in flight, if any, is cancelled.
func (c *conn) hungUp() {
	c.mu.Lock()
	c.gone = true
	cancel := c.cancel
	c.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// readRequest reads and parses the next request head, and sets up its
// body and its context (cancel ends it).
func (c *conn) readRequest() (*http.Request, context.CancelFunc, error) {
	head, err := c.readHead()
	if err != nil {
		return nil, nil, err
	}
	_, maxFields := c.srv.headLimits()
	var parsed http.Request // on the stack: WithContext makes the one copy
	if err := parseHeadInto(&parsed, head, maxFields, c.keys); err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(c.ctx)
	r := parsed.WithContext(ctx)
	r.RemoteAddr = c.remote
	r.TLS = c.tls
	if r.ContentLength == 0 {
		r.Body = http.NoBody
		return r, cancel, nil
	}
	b := &body{c: c, r: r, chunked: r.ContentLength < 0, remain: max(r.ContentLength, 0)}
	if expectsContinue(r) {
		b.cont.Store(true)
	}
	r.Body = b
	return r, cancel, nil
}

// readHead reads up to the end of the next request head and returns it
// (valid until the next read). Up to 4 empty lines before it are skipped.
// The wait for its first byte has no deadline; once it has begun, the
// rest must come within ReadHeaderTimeout.
func (c *conn) readHead() ([]byte, error) {
	maxBytes, _ := c.srv.headLimits()
	in := &c.in
	scan, lineStart, skipped := 0, 0, 0
	timed := false
	for {
		buf := in.buffered()
		for scan < len(buf) {
			i := bytes.IndexByte(buf[scan:], '\n')
			if i < 0 {
				scan = len(buf)
				break
			}
			nl := scan + i
			scan = nl + 1
			empty := nl == lineStart || nl == lineStart+1 && buf[lineStart] == '\r'
			switch {
			case !empty:
				lineStart = scan
				continue
			case lineStart == 0 && nl == 1 && skipped < 4:
				skipped++ // a CRLF before the request line
				in.r += scan
				buf = in.buffered()
				scan, lineStart = 0, 0
				continue
			}
			if scan > maxBytes {
				return nil, &headError{status: http.StatusRequestHeaderFieldsTooLarge, msg: "request head too large"}
			}
			if timed {
				if err := c.nc.SetReadDeadline(time.Time{}); err != nil {
					return nil, err
				}
			}
			in.r += scan
			return buf[:scan], nil
		}
		if len(buf) > maxBytes {
			return nil, &headError{status: http.StatusRequestHeaderFieldsTooLarge, msg: "request head too large"}
		}
		if len(buf) > 0 && !timed && c.srv.ReadHeaderTimeout > 0 {
			timed = true
			if err := c.nc.SetReadDeadline(time.Now().Add(c.srv.ReadHeaderTimeout)); err != nil {
				return nil, err
			}
		}
		if err := in.fill(maxBytes + 1); err != nil {
			if errors.Is(err, errHeadTooLarge) {
				return nil, &headError{status: http.StatusRequestHeaderFieldsTooLarge, msg: "request head too large"}
			}
			if errors.Is(err, io.EOF) && len(buf) > 0 {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
}

// refuse ends a connection whose next request could not be read: an
// invalid head is answered with its status; a closed or timed-out
// connection is just closed.
func (c *conn) refuse(err error) {
	var he *headError
	if !errors.As(err, &he) {
		if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
			c.srv.debugf("http1: reading request", "remote", c.remote, "err", err)
		}
		return
	}
	c.srv.debugf("http1: refused request", "remote", c.remote, "status", he.status, "err", he.msg)
	text := http.StatusText(he.status)
	msg := strconv.Itoa(he.status) + " " + text + ": " + he.msg
	bw := c.bw
	writeStatusLine(bw, he.status)
	bw.WriteString("Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: ")
	bw.WriteString(strconv.Itoa(len(msg)))
	bw.WriteString("\r\n\r\n")
	bw.WriteString(msg)
	_ = c.nc.SetWriteDeadline(time.Now().Add(refuseWriteTimeout))
	_ = bw.Flush()
}

// refuseWriteTimeout bounds the write of a refusal to a client that does
// not read.
const refuseWriteTimeout = 5 * time.Second

// sendContinue writes 100 Continue, unless the response has begun.
func (c *conn) sendContinue() {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.cur != nil && (c.cur.sent || c.cur.hijacked) {
		return
	}
	c.bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
	if err := c.bw.Flush(); err != nil && c.cur != nil {
		c.cur.setWriteErr(err)
	}
}

// scratch returns the connection's buffer for discarding.
func (c *conn) scratch() []byte {
	if c.spare == nil {
		c.spare = make([]byte, 8<<10)
	}
	return c.spare
}

// clearDeadlines clears the deadlines a handler set.
func (c *conn) clearDeadlines() bool {
	if c.readDeadlineSet {
		c.readDeadlineSet = false
		if c.nc.SetReadDeadline(time.Time{}) != nil {
			return false
		}
	}
	if c.writeDeadlineSet {
		c.writeDeadlineSet = false
		if c.nc.SetWriteDeadline(time.Time{}) != nil {
			return false
		}
	}
	return true
}

// hijack hands the connection over: the returned reader holds the bytes
// already read past the request head.
func (c *conn) hijack() (net.Conn, *bufio.ReadWriter, error) {
	c.hijacked = true
	c.srv.unwatch(c)
	rest := bytes.Clone(c.in.buffered())
	c.in.r = c.in.w
	var src io.Reader = c.nc
	if len(rest) > 0 {
		src = io.MultiReader(bytes.NewReader(rest), c.nc)
	}
	br := bufio.NewReaderSize(src, max(4<<10, len(rest)))
	if len(rest) > 0 {
		if _, err := br.Peek(len(rest)); err != nil {
			return nil, nil, err
		}
	}
	c.setState(http.StateHijacked)
	c.releaseBuffers()
	return c.nc, bufio.NewReadWriter(br, bufio.NewWriter(c.nc)), nil
}

// setState records the connection's state and tells the server's hook.
func (c *conn) setState(s http.ConnState) {
	c.state.Store(int32(s))
	if s == http.StateClosed || s == http.StateHijacked {
		c.srv.forget(c)
	}
	if hook := c.srv.ConnState; hook != nil {
		hook(c.nc, s)
	}
}

// close closes the connection and gives its buffers back.
func (c *conn) close() {
	c.srv.unwatch(c)
	_ = c.nc.Close()
	c.setState(http.StateClosed)
	c.releaseBuffers()
}

// releaseBuffers gives the connection's buffers back to the pools.
func (c *conn) releaseBuffers() {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.bw != nil {
		c.bw.Reset(nil)
		writeBufs.Put(c.bw)
		c.bw = nil
	}
	if len(c.in.buf) == inbufSize {
		b := c.in.buf
		readBufs.Put(&b)
	}
	c.in.buf = nil
}
