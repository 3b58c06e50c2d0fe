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
// The response parser takes no response that net/http's client would
// refuse (a differential fuzz test holds it to that): one Transfer-Encoding,
// exactly "chunked", and only on HTTP/1.1; repeated Content-Length fields
// only with the same text; no control characters in field values; chunk
// lines and trailer lines ending in CRLF, chunk lines within 4 KiB,
// trailers within 4 KiB, and at most 16 KiB of chunk extensions beyond
// what the data justifies. Anything else is ErrBadResponse: the client gets
// a 502 (or a cut-off response) and the connection is not reused.
//
// Forward never retries. A failure says how far the request got
// ([Outcome]: NotSent, Sent, PartlyAnswered), and the caller decides
// whether to send it again, here or elsewhere. New connections are opened
// a few at a time ([Options].MaxDials), and a connect whose SYN a full
// accept queue dropped is made again within milliseconds rather than after
// TCP's one-second retransmit.
//
// A handler uses it like this:
//
//	if err := target.Forward(w, r); err != nil {
//		var fe *forward.Error
//		if errors.As(err, &fe) && fe.Committed {
//			// The status is committed: abort the response so that the
//			// client sees a broken response, not a short complete one.
//			panic(http.ErrAbortHandler)
//		}
//		// fe.Outcome == forward.NotSent: nothing reached the backend,
//		// the request may go to another one.
//		http.Error(w, "bad gateway: "+err.Error(), http.StatusBadGateway)
//	}
package forward

import (
	"context"
	"errors"
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
	defaultMaxDials     = 4
	// rampHold is the longest a new connection holds its MaxDials slot
	// once connected: an answer that takes longer is a slow page, not an
	// accept queue, and must not keep other connections from opening.
	rampHold = 100 * time.Millisecond
)

// Options tune a Target. Zero values mean sensible defaults.
type Options struct {
	MaxIdleConns int           // idle keep-alive connections kept (default 256)
	DialTimeout  time.Duration // default 5s
	// MaxDials bounds the connections being opened to the backend at once
	// (default 4): a connection counts from its dial until the backend is
	// known to have accepted it (its first response byte), or rampHold
	// after it connected, or its close. A burst of requests to a backend
	// with no idle connection (a worker that just started, or one that
	// closes every connection) opens them a few at a time, so they do not
	// overflow a small accept queue, and the other requests wait for a
	// connection to come back idle or for a slot, rather than all dialling
	// at once.
	MaxDials int
	// Dial, when set, opens the connections instead of dialling network
	// and addr (a unix-socket worker reached through a pinned descriptor;
	// see proc.UnixSocket). A unix connect refused with EAGAIN (a full
	// accept queue) is tried again until DialTimeout (dialunix.go).
	Dial func(ctx context.Context) (net.Conn, error)
}

// Target is one backend worker reached over HTTP/1.1 keep-alive connections.
// It is safe for concurrent use.
type Target struct {
	network string
	addr    string
	maxIdle int
	dialer  net.Dialer
	dialFn  func(ctx context.Context) (net.Conn, error) // Options.Dial

	dialTimeout time.Duration

	maxDials int

	mu          sync.Mutex
	idle        []*conn // LIFO: the most recently used connection is on top
	closed      bool
	dialing     int             // connections opening (MaxDials), at most maxDials
	peakDialing int             // the most ever opening at once
	redials     uint64          // connect attempts abandoned and made again
	waiters     []chan struct{} // getConn calls waiting for a connection or a dial slot
}

// NewTarget returns a Target for network ("tcp" or "unix") and addr.
func NewTarget(network, addr string, opts Options) *Target {
	if opts.MaxIdleConns <= 0 {
		opts.MaxIdleConns = defaultMaxIdleConns
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = defaultDialTimeout
	}
	if opts.MaxDials <= 0 {
		opts.MaxDials = defaultMaxDials
	}
	return &Target{
		network:     network,
		addr:        addr,
		maxIdle:     opts.MaxIdleConns,
		maxDials:    opts.MaxDials,
		dialer:      net.Dialer{Timeout: opts.DialTimeout},
		dialFn:      opts.Dial,
		dialTimeout: opts.DialTimeout,
		idle:        make([]*conn, 0, min(opts.MaxIdleConns, 64)),
	}
}

// Outcome says how far a failed forward got, which is what decides
// whether the request may be sent again (by the caller: Forward itself
// never retries).
type Outcome int

// The outcomes of a failed forward. The zero value is Sent, the cautious
// assumption.
const (
	// Sent means the request, or part of it, may have reached the backend
	// and no byte of an answer was read: only a request that is safe to
	// repeat may be sent again.
	Sent Outcome = iota
	// NotSent means nothing of the request reached the backend: the dial
	// failed (or waited in vain for a connection slot), or the Target is
	// closed, or the request cannot be written as HTTP/1.1 (ErrBadRequest,
	// which no other backend would take either). A dead idle connection
	// is found by a probe before any byte is written and replaced, so it
	// never fails a request. The request, body included, is untouched.
	NotSent
	// PartlyAnswered means the backend had started to answer (a status
	// line, an informational response, a malformed head, or a response
	// cut off): the request was handled, at least in part, and must not be
	// sent again.
	PartlyAnswered
)

// String returns the outcome's name.
func (o Outcome) String() string {
	switch o {
	case NotSent:
		return "not sent"
	case PartlyAnswered:
		return "partly answered"
	}
	return "sent"
}

// Error describes a failed forward.
type Error struct {
	// Stage is one of StageDial, StageWrite, StageRead, StageBody and
	// StageUpgrade.
	Stage string
	// Outcome says how far the request got: NotSent, Sent (no answer) or
	// PartlyAnswered.
	Outcome Outcome
	// Committed tells whether the response status was committed to the
	// ResponseWriter (then Outcome is PartlyAnswered). If not, the caller
	// answers (e.g. 502). If so, the caller cannot answer any more and
	// should abort the handler with panic(http.ErrAbortHandler) so the
	// client sees a broken response rather than a short one that looks
	// complete.
	Committed bool
	// BodyCut tells that the forwarder itself ended the reading of the
	// client's request body (the worker failed before it took it all) by
	// setting a past read deadline on the client's connection. net/http
	// cancels the request's context on that read error: the cancellation
	// is then the forwarder's doing, not a client that went away.
	BodyCut bool
	// Reused tells that the request went out on a kept-alive connection
	// that then closed before a byte of answer (Outcome Sent): the worker
	// may have closed or lost that idle connection just as the request was
	// written, so the failure need not be the request's doing. net/http's
	// client sends an idempotent request again in that case; so may the
	// caller.
	Reused bool
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
// It returns an *Error otherwise: Error.Outcome says how far the request
// got (NotSent, Sent, PartlyAnswered) and Error.Committed whether the
// response status reached the client (if not, the caller answers, e.g.
// 502 with a reason; if so, the caller aborts with
// panic(http.ErrAbortHandler)).
//
// Forward makes one attempt and never retries: whether a failed request
// may be sent again, here or to another backend, is the caller's decision,
// made from the Outcome. An idle connection is probed without blocking
// before it is reused, and a dead one (workers close idle connections) is
// replaced before any byte is written, so that race does not fail
// requests.
//
// A backend connection is reused only when its response was read to the
// end, the backend did not ask to close it, and nothing was left unread on
// it. (A client's "Connection: close" is hop-by-hop: it closes the client's
// connection, not the backend's.)
//
// At most Options.MaxDials connections are being opened to the backend at
// once; a request that finds no idle connection and no free dial slot
// waits for either (see Options.MaxDials).
//
// If r's context ends (the client went away), the backend call is aborted
// and the connection discarded; the error wraps ErrClientGone and the
// context's cause.
func (t *Target) Forward(w http.ResponseWriter, r *http.Request) error {
	if isUpgradeRequest(r.Header) {
		return t.forwardUpgrade(w, r)
	}
	hasBody := r.Body != nil && r.Body != http.NoBody
	c, err := t.getConn(r.Context(), false)
	if err != nil {
		return &Error{Stage: StageDial, Outcome: NotSent, Err: gone(r.Context(), err)}
	}
	return t.roundTrip(c, w, r, hasBody)
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
	for len(t.waiters) > 0 {
		t.wakeOne() // they find the Target closed
	}
	t.mu.Unlock()
	for _, c := range idle {
		c.close()
	}
}

// getConn pops an idle connection that passes a liveness probe, or dials
// a new one when fewer than maxDials dials are in flight; otherwise it
// waits until a connection is returned or a dial ends. fresh forces a dial
// (upgrades). It fails with ErrClosed once the Target is closed, and with
// the context's error when ctx ends while it waits.
func (t *Target) getConn(ctx context.Context, fresh bool) (*conn, error) {
	for {
		t.mu.Lock()
		if t.closed {
			t.mu.Unlock()
			return nil, ErrClosed
		}
		if n := len(t.idle); n > 0 && !fresh {
			c := t.idle[n-1]
			t.idle[n-1] = nil
			t.idle = t.idle[:n-1]
			t.mu.Unlock()
			if !c.alive() {
				c.close()
				continue
			}
			c.reused = true
			return c, nil
		}
		if t.dialing < t.maxDials {
			t.dialing++
			if t.dialing > t.peakDialing {
				t.peakDialing = t.dialing
			}
			t.mu.Unlock()
			c, err := t.dial(ctx)
			if err != nil {
				t.mu.Lock()
				t.dialing--
				t.wakeOne()
				t.mu.Unlock()
				return nil, err
			}
			// The slot is the new connection's until it is known to be
			// accepted (see conn.opened).
			c.opening.Store(true)
			time.AfterFunc(rampHold, c.opened)
			return c, nil
		}
		wake := make(chan struct{}, 1)
		t.waiters = append(t.waiters, wake)
		t.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			t.mu.Lock()
			if !t.dropWaiter(wake) {
				t.wakeOne() // it was woken too: pass the turn on
			}
			t.mu.Unlock()
			return nil, ctx.Err()
		}
	}
}

// wakeOne wakes the longest waiting getConn, if any. Called with t.mu
// held.
func (t *Target) wakeOne() {
	if len(t.waiters) == 0 {
		return
	}
	wake := t.waiters[0]
	t.waiters[0] = nil
	t.waiters = t.waiters[1:]
	wake <- struct{}{} // buffered, and each waiter is woken once
}

// dropWaiter removes wake from the waiters and reports whether it was
// still there (not woken yet). Called with t.mu held.
func (t *Target) dropWaiter(wake chan struct{}) bool {
	for i, w := range t.waiters {
		if w == wake {
			t.waiters = append(t.waiters[:i], t.waiters[i+1:]...)
			return true
		}
	}
	return false
}

// Connect attempts to a worker: the first waits synWait, each next one
// twice as long, until DialTimeout.
const synWait = 25 * time.Millisecond

// dial opens a new connection to the backend. A worker is on this machine,
// where a connect completes at once unless the worker's accept queue is
// full: the kernel then drops the SYN, and TCP sends it again only after a
// second (then 3 s, 7 s). So a TCP connect that has not completed within
// synWait is abandoned and tried again at once, the wait doubling each
// time, until DialTimeout: a worker with a small listen backlog that falls
// behind costs a request milliseconds, not a second.
func (t *Target) dial(ctx context.Context) (*conn, error) {
	if t.network != "tcp" || t.dialFn != nil {
		return t.dialOther(ctx) // dialunix.go
	}
	deadline := time.Now().Add(t.dialTimeout)
	wait := synWait
	for {
		until := time.Now().Add(wait)
		if until.After(deadline) {
			until = deadline
		}
		actx, cancel := context.WithDeadline(ctx, until)
		nc, err := t.dialer.DialContext(actx, t.network, t.addr)
		cancel()
		if err == nil {
			return newConn(t, nc), nil
		}
		if ctx.Err() != nil || !isTimeout(err) || !time.Now().Before(deadline) {
			return nil, err
		}
		t.mu.Lock()
		t.redials++
		t.mu.Unlock()
		wait *= 2
	}
}

// DialStats reports the connections opening now (see Options.MaxDials),
// the most there ever were at once, and the connect attempts abandoned and
// made again (see dial).
func (t *Target) DialStats() (inFlight, peak int, redials uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.dialing, t.peakDialing, t.redials
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
	t.wakeOne()
	t.mu.Unlock()
}
