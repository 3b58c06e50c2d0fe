package forward

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
)

// maxInformational bounds the 1xx responses relayed before the final one.
const maxInformational = 16

// roundTrip sends r on c and relays the response to w. It makes one
// attempt: a failure is reported with its Outcome, and c is closed.
func (t *Target) roundTrip(c *conn, w http.ResponseWriter, r *http.Request, hasBody bool) error {
	ctx := r.Context()
	if ctx.Err() != nil {
		t.putConn(c)
		return &Error{Stage: StageWrite, Outcome: NotSent, Err: gone(ctx, ctx.Err())}
	}
	// A client that goes away aborts the backend call: the connection
	// gets a past deadline, so blocked I/O returns (see watchDelay).
	c.watch(ctx)
	reusable := false
	defer func() { t.release(c, reusable) }()

	mode := requestBodyMode(r, hasBody)
	if err := c.writeHead(r, mode, false); err != nil {
		if errors.Is(err, ErrBadRequest) {
			// Refused before a byte was written (sending it
			// elsewhere would fail the same way).
			return &Error{Stage: StageWrite, Outcome: NotSent, Err: err}
		}
		return &Error{Stage: StageWrite, Err: err}
	}
	var werr error
	var bc *bodyCopy
	fullDuplex := true
	switch mode {
	case bodyNone:
		werr = c.bw.Flush()
	case bodyInline:
		werr = c.writeInlineBody(r.Body, r.ContentLength)
		if werr == nil {
			werr = c.bw.Flush()
		}
	case bodyStream:
		werr = c.bw.Flush()
		if werr == nil {
			// A streamed body may take long: watch the client now.
			werr = c.arm()
		}
		if werr == nil {
			if r.ProtoMajor < 2 {
				fullDuplex = http.NewResponseController(w).EnableFullDuplex() == nil
			}
			bc = c.startBodyCopy(r)
		}
	}
	if werr != nil && isClientError(werr) {
		return &Error{Stage: StageWrite, Err: gone(ctx, werr)}
	}
	// After a failed write the backend may still have answered (an early
	// 413, say) before closing: try to read that answer.

	informational := 0
	for {
		got, err := c.readHead()
		if err != nil {
			outcome := Sent
			if got || informational > 0 {
				outcome = PartlyAnswered
			}
			cut := false
			if bc != nil {
				if berr := bc.finish(ctx, c, w); bc.clientFault(berr) {
					// The body copy failed on the client side and closed
					// the backend connection: that is why the read ended.
					return &Error{Stage: StageWrite, Outcome: outcome, Err: gone(ctx, berr)}
				}
				cut = bc.stopped
			}
			if werr != nil {
				return &Error{Stage: StageWrite, Outcome: outcome, BodyCut: cut, Err: goneUnlessCut(ctx, werr, cut)}
			}
			return &Error{Stage: StageRead, Outcome: outcome, BodyCut: cut, Reused: c.reused && outcome == Sent, Err: goneUnlessCut(ctx, err, cut)}
		}
		s := c.head.status
		if s >= 200 {
			break
		}
		if s == http.StatusSwitchingProtocols {
			if bc != nil {
				_ = bc.finish(ctx, c, w)
			}
			return &Error{Stage: StageRead, Outcome: PartlyAnswered, Err: fmt.Errorf("%w: 101 to a request without Upgrade", ErrBadResponse)}
		}
		if informational++; informational > maxInformational {
			if bc != nil {
				_ = bc.finish(ctx, c, w)
			}
			return &Error{Stage: StageRead, Outcome: PartlyAnswered, Err: fmt.Errorf("%w: too many 1xx responses", ErrBadResponse)}
		}
		if s != http.StatusContinue && r.ProtoAtLeast(1, 1) {
			// 1xx (103 Early Hints...) cannot go to an HTTP/1.0 client.
			c.relayInformational(w)
		}
	}

	var berr error // result of the request body copy
	copied := bc   // bc is cleared once finished
	if bc != nil && !fullDuplex {
		// The ResponseWriter cannot write while the body is read:
		// finish (or abandon) the body first.
		berr = bc.finish(ctx, c, w)
		bc = nil
	}
	sent, err := c.relay(w, r)
	if bc != nil {
		berr = bc.finish(ctx, c, w)
	}
	if err != nil && !sent && copied.clientFault(berr) {
		return &Error{Stage: StageWrite, Outcome: PartlyAnswered, Err: gone(ctx, berr)}
	}
	if err != nil {
		stage := StageBody
		if !sent {
			stage = StageRead
		}
		cut := copied != nil && copied.stopped
		return &Error{Stage: stage, Outcome: PartlyAnswered, Committed: sent, BodyCut: cut, Err: goneUnlessCut(ctx, err, cut)}
	}
	// Stray bytes after the response would be read as the next response:
	// such a connection is not reused.
	reusable = werr == nil && berr == nil && c.head.keepAlive && c.br.Buffered() == 0
	return nil
}

// relay copies the response whose head is in c.head to w: header, body and
// trailers. sent reports whether the status was committed to w.
func (c *conn) relay(w http.ResponseWriter, r *http.Request) (sent bool, err error) {
	info, err := c.inspect(r.Method)
	if err != nil {
		return false, err
	}
	c.head.keepAlive = info.keepAlive
	h := w.Header()
	c.copyHeader(h, info)
	if !info.hasType && info.frame != frameNone && h["Content-Type"] == nil {
		// Relay the absence: stop net/http from sniffing a type.
		h["Content-Type"] = nil
	}
	w.WriteHeader(c.head.status)
	if info.frame == frameNone {
		return true, nil
	}
	if info.stream && c.br.Buffered() == 0 {
		// Nothing more has arrived: let the client see the head now.
		if err := flush(w); err != nil {
			c.head.keepAlive = false
			return true, &errClientWrite{err}
		}
	}
	if err := c.relayBody(w, info); err != nil {
		c.head.keepAlive = false
		return true, err
	}
	if info.frame == frameChunked && len(c.head.fields) > 0 {
		c.copyTrailers(h)
	}
	return true, nil
}

// release returns c to the idle stack when reusable and no abort ran, and
// closes it otherwise.
func (t *Target) release(c *conn, reusable bool) {
	if !c.unwatch() {
		reusable = false
	}
	if reusable {
		t.putConn(c)
	} else {
		c.close()
	}
}

// gone adds ErrClientGone and the context's cause to err when ctx is done.
func gone(ctx context.Context, err error) error {
	if ctx.Err() == nil {
		return err
	}
	return fmt.Errorf("%w (%w): %w", ErrClientGone, context.Cause(ctx), err)
}

// goneUnlessCut is gone, except when the forwarder cut the client's body
// itself (cut): the context it cancelled is not a client that went away.
func goneUnlessCut(ctx context.Context, err error, cut bool) error {
	if cut {
		return err
	}
	return gone(ctx, err)
}

// isClientError reports whether err came from reading the client's body.
func isClientError(err error) bool {
	var ce *clientError
	return errors.As(err, &ce)
}

// isTimeout reports whether err is a timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
