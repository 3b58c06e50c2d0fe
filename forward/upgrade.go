package forward

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// forwardUpgrade relays a request that asks for a protocol upgrade (e.g.
// WebSocket) on a dedicated connection. On 101 Switching Protocols it
// hijacks the client connection, sends it the 101 head and copies bytes
// both ways until either side closes, then closes both. Any other answer is
// relayed like a normal response. The dedicated connection is never pooled.
func (t *Target) forwardUpgrade(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	c, err := t.getConn(ctx, true)
	if err != nil {
		return &Error{Stage: StageDial, Outcome: NotSent, Err: gone(ctx, err)}
	}
	// The answer may take long: watch the client from the start.
	c.watch(ctx)
	if err := c.arm(); err != nil {
		c.close()
		return &Error{Stage: StageDial, Outcome: NotSent, Err: err}
	}
	hijacked := false
	defer func() {
		if !hijacked {
			c.unwatch()
			c.close()
		}
	}()

	hasBody := r.Body != nil && r.Body != http.NoBody
	mode := bodyNone
	if hasBody {
		mode = bodyStream
	}
	if err := c.writeHead(r, mode, true); err != nil {
		if errors.Is(err, ErrBadRequest) {
			return &Error{Stage: StageWrite, Outcome: NotSent, Err: err}
		}
		return &Error{Stage: StageWrite, Err: err}
	}
	if hasBody {
		// Bodies on upgrade requests are unusual; copy it before reading
		// the answer.
		err = c.copyBody(r, &bodyCopy{})
	} else {
		err = c.bw.Flush()
	}
	if err != nil {
		return &Error{Stage: StageWrite, Err: gone(ctx, err)}
	}

	for informational := 0; ; informational++ {
		if got, err := c.readHead(); err != nil {
			outcome := Sent
			if got || informational > 0 {
				outcome = PartlyAnswered
			}
			return &Error{Stage: StageRead, Outcome: outcome, Err: gone(ctx, err)}
		}
		s := c.head.status
		if s >= 200 || s == http.StatusSwitchingProtocols {
			break
		}
		if informational >= maxInformational {
			return &Error{Stage: StageRead, Outcome: PartlyAnswered, Err: fmt.Errorf("%w: too many 1xx responses", ErrBadResponse)}
		}
		if s != http.StatusContinue && r.ProtoAtLeast(1, 1) {
			// 1xx (103 Early Hints...) cannot go to an HTTP/1.0 client.
			c.relayInformational(w)
		}
	}
	if c.head.status != http.StatusSwitchingProtocols {
		sent, err := c.relay(w, r)
		if err != nil {
			stage := StageBody
			if !sent {
				stage = StageRead
			}
			return &Error{Stage: stage, Outcome: PartlyAnswered, Committed: sent, Err: gone(ctx, err)}
		}
		return nil
	}

	// 101: from here on the connection is no longer HTTP, and no longer
	// tied to the request's context.
	if !c.unwatch() {
		return &Error{Stage: StageUpgrade, Outcome: PartlyAnswered, Err: gone(ctx, ctx.Err())}
	}
	cc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return &Error{Stage: StageUpgrade, Outcome: PartlyAnswered, Err: fmt.Errorf("hijacking client connection: %w", err)}
	}
	hijacked = true
	defer cc.Close()
	defer c.close()
	_ = cc.SetDeadline(time.Time{})

	bw := brw.Writer
	bw.WriteString("HTTP/1.1 101 Switching Protocols\r\n")
	for i := range c.head.fields {
		f := &c.head.fields[i]
		if f.key != "Connection" && f.key != "Upgrade" && hopByHop(f.key) {
			continue
		}
		writeField(bw, f.key, f.val)
	}
	bw.WriteString("\r\n")
	if n := c.br.Buffered(); n > 0 {
		p, _ := c.br.Peek(n)
		bw.Write(p)
		_, _ = c.br.Discard(n)
	}
	if err := bw.Flush(); err != nil {
		return &Error{Stage: StageUpgrade, Outcome: PartlyAnswered, Committed: true, Err: fmt.Errorf("writing 101 to client: %w", err)}
	}
	if n := brw.Reader.Buffered(); n > 0 {
		p, _ := brw.Reader.Peek(n)
		if _, err := c.nc.Write(p); err != nil {
			return &Error{Stage: StageUpgrade, Outcome: PartlyAnswered, Committed: true, Err: fmt.Errorf("writing to backend: %w", err)}
		}
	}

	// Copy both ways; whichever direction ends first closes both
	// connections, which ends the other.
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(c.nc, cc)
		c.close()
		_ = cc.Close()
	}()
	_, _ = io.Copy(cc, c.nc)
	_ = cc.Close()
	c.close()
	<-done
	return nil
}
