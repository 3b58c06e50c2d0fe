// Package forward relays HTTP requests received by a net/http server to a
// backend worker process over pooled HTTP/1.1 keep-alive connections.
//
// It is the forwarding path of poolctl's host: the host routes a request to
// a pool, picks a worker, and calls [Target.Forward] with the handler's
// ResponseWriter and Request. Forward is built for throughput on small
// requests:
//
//   - Idle connections are kept per Target in a LIFO stack under a mutex,
//     each with its own bufio.Reader and bufio.Writer and parser scratch.
//   - The request head is written by hand into the connection's writer and
//     the response head is parsed by hand; header names and values equal to
//     those of the previous response on the connection reuse its strings,
//     so a typical small response costs one allocation in this package.
//   - Everything runs on the calling goroutine. A second goroutine is used
//     only when the request body has to stream while the response may
//     already be arriving (unknown or large length, Expect: 100-continue),
//     and for the two-way copy of an upgraded (WebSocket) connection.
//   - The client's context is watched lazily: a client that goes away
//     aborts the backend call (a past deadline on the backend connection,
//     set by a context.AfterFunc), but the AfterFunc is registered only
//     when the backend has not answered within watchDelay (50 ms), because
//     registering it costs as much as the rest of a small forward.
//
// Forward sets X-Forwarded-For, X-Forwarded-Proto and X-Forwarded-Host,
// keeps the client's Host header, removes hop-by-hop headers in both
// directions, relays trailers both ways, and flushes streaming responses
// (no Content-Length, or text/event-stream) whenever the backend pauses.
//
// A handler uses it like this:
//
//	if err := target.Forward(w, r); err != nil {
//		var fe *forward.Error
//		if errors.As(err, &fe) && fe.Sent {
//			// The status is committed: abort the response so that the
//			// client sees a broken response, not a short complete one.
//			panic(http.ErrAbortHandler)
//		}
//		http.Error(w, "bad gateway: "+err.Error(), http.StatusBadGateway)
//	}
package forward

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Stages reported in [Error.Stage].
const (
	// StageDial means no connection to the backend could be had (dial
	// failure, or the Target is closed).
	StageDial = "dial"
	// StageWrite means sending the request to the backend failed; this
	// includes reading the client's request body.
	StageWrite = "write"
	// StageRead means reading the response head from the backend failed.
	StageRead = "read"
	// StageBody means relaying the response body (or its trailers) failed,
	// on the backend side or the client side.
	StageBody = "body"
	// StageUpgrade means an upgrade (e.g. WebSocket) hand-over failed.
	StageUpgrade = "upgrade"
)

// Sentinel errors, found with errors.Is in an [Error].
var (
	// ErrClosed is returned by Forward after [Target.Close].
	ErrClosed = errors.New("forward: target closed")
	// ErrBadResponse means the backend sent a malformed HTTP/1.x response.
	ErrBadResponse = errors.New("forward: malformed response from backend")
	// ErrBadRequest means the request cannot be written as HTTP/1.1
	// (invalid method, URI or host).
	ErrBadRequest = errors.New("forward: request cannot be forwarded")
	// ErrClientGone means the client went away (its request context ended)
	// while the request was in flight.
	ErrClientGone = errors.New("forward: client went away")
	// ErrRequestBody means the client's request body could not be read
	// (malformed chunked framing, a body cut short, a read deadline): the
	// client's fault, not the backend's. The backend connection is closed
	// as soon as it happens, and the caller should answer 400 (if nothing
	// was sent) and close the client connection.
	ErrRequestBody = errors.New("forward: the request body could not be read")
)

// Defaults for zero [Options] fields.
const (
	defaultMaxIdleConns = 256
	defaultDialTimeout  = 5 * time.Second
)

// Options tune a Target. Zero values mean sensible defaults.
type Options struct {
	MaxIdleConns int           // idle keep-alive connections kept (default 256)
	DialTimeout  time.Duration // default 5s
}

// Target is one backend worker reached over HTTP/1.1 keep-alive connections.
// It is safe for concurrent use.
type Target struct {
	network string
	addr    string
	maxIdle int
	dialer  net.Dialer

	mu     sync.Mutex
	idle   []*conn // LIFO: the most recently used connection is on top
	closed bool
}

// NewTarget returns a Target for network ("tcp" or "unix") and addr.
func NewTarget(network, addr string, opts Options) *Target {
	if opts.MaxIdleConns <= 0 {
		opts.MaxIdleConns = defaultMaxIdleConns
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = defaultDialTimeout
	}
	return &Target{
		network: network,
		addr:    addr,
		maxIdle: opts.MaxIdleConns,
		dialer:  net.Dialer{Timeout: opts.DialTimeout},
		idle:    make([]*conn, 0, min(opts.MaxIdleConns, 64)),
	}
}

// Error describes a failed forward.
type Error struct {
	// Stage is one of StageDial, StageWrite, StageRead, StageBody and
	// StageUpgrade.
	Stage string
	// Sent tells whether the response status was committed to the
	// ResponseWriter. If not, the caller answers (e.g. 502). If so, the
	// caller cannot answer any more and should abort the handler with
	// panic(http.ErrAbortHandler) so the client sees a broken response
	// rather than a short one that looks complete.
	Sent bool
	// Err is the underlying error.
	Err error
}

// Error returns a one-line description of e.
func (e *Error) Error() string {
	return "forward " + e.Stage + ": " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Forward relays r to the target and streams the response to w.
// It returns nil when a response was relayed (whatever its status).
// It returns an *Error otherwise; Error.Sent tells whether any response
// bytes reached the client (if not, the caller answers, e.g. 502 with a
// reason; if so, the caller aborts with panic(http.ErrAbortHandler)).
//
// A backend connection is reused only when its response was read to the
// end, the backend did not ask to close it, and nothing was left unread on
// it. (A client's "Connection: close" is hop-by-hop: it closes the client's
// connection, not the backend's.) A request without a body whose method is
// GET, HEAD, OPTIONS or DELETE is retried once on a fresh connection when a
// reused idle connection turns out to be dead before any response byte
// arrived (workers may close idle connections); for a request with a body,
// a reused connection is first probed without blocking, and a dead one is
// replaced, but a request that then fails is not retried.
//
// If r's context ends (the client went away), the backend call is aborted
// and the connection discarded; the error wraps ErrClientGone and the
// context's cause.
func (t *Target) Forward(w http.ResponseWriter, r *http.Request) error {
	if isUpgradeRequest(r.Header) {
		return t.forwardUpgrade(w, r)
	}
	hasBody := r.Body != nil && r.Body != http.NoBody
	retryable := !hasBody && idempotentNoBody(r.Method)
	for attempt := 0; ; attempt++ {
		c, err := t.getConn(r.Context(), hasBody, attempt > 0)
		if err != nil && attempt > 0 {
			// The request went out on a reused connection that closed
			// before an answer, and the backend now refuses new ones: it
			// may have died of this very request, so this is not a failure
			// to reach it, and callers must not send it elsewhere.
			return &Error{Stage: StageRead, Err: fmt.Errorf("the connection closed before an answer and a new one failed: %w", err)}
		}
		if err != nil {
			return &Error{Stage: StageDial, Err: err}
		}
		retry, err := t.roundTrip(c, w, r, hasBody, retryable && attempt == 0 && c.reused)
		if !retry {
			return err
		}
	}
}

// CloseIdle closes idle connections (used when a worker is drained).
func (t *Target) CloseIdle() {
	t.mu.Lock()
	idle := t.idle
	t.idle = make([]*conn, 0, cap(idle))
	t.mu.Unlock()
	for _, c := range idle {
		c.close()
	}
}

// Close closes idle connections and makes later Forward calls fail at once
// with ErrClosed. Connections in use are closed when their request ends.
func (t *Target) Close() {
	t.mu.Lock()
	t.closed = true
	idle := t.idle
	t.idle = nil
	t.mu.Unlock()
	for _, c := range idle {
		c.close()
	}
}

// getConn pops an idle connection or dials a new one. fresh forces a dial.
// checkAlive asks for a liveness probe of a reused connection, for requests
// that cannot be retried.
func (t *Target) getConn(ctx context.Context, checkAlive, fresh bool) (*conn, error) {
	for !fresh {
		t.mu.Lock()
		if t.closed {
			t.mu.Unlock()
			return nil, ErrClosed
		}
		n := len(t.idle)
		if n == 0 {
			t.mu.Unlock()
			break
		}
		c := t.idle[n-1]
		t.idle[n-1] = nil
		t.idle = t.idle[:n-1]
		t.mu.Unlock()
		if checkAlive && !c.alive() {
			c.close()
			continue
		}
		c.reused = true
		return c, nil
	}
	return t.dial(ctx)
}

// dial opens a new connection to the backend.
func (t *Target) dial(ctx context.Context) (*conn, error) {
	t.mu.Lock()
	closed := t.closed
	t.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	nc, err := t.dialer.DialContext(ctx, t.network, t.addr)
	if err != nil {
		return nil, err
	}
	return newConn(t, nc), nil
}

// putConn returns c to the idle stack, or closes it when the stack is full
// or the target is closed.
func (t *Target) putConn(c *conn) {
	t.mu.Lock()
	if t.closed || len(t.idle) >= t.maxIdle {
		t.mu.Unlock()
		c.close()
		return
	}
	t.idle = append(t.idle, c)
	t.mu.Unlock()
}

// idempotentNoBody reports whether a body-less request with method m may be
// sent a second time.
func idempotentNoBody(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodDelete:
		return true
	}
	return false
}
