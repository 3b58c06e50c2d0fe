package forward

import (
	"context"
	"errors"
	"net"
	"syscall"
	"time"
)

// Pauses between connects to a unix socket whose accept queue is full:
// the first unixRetryFirst, doubling up to unixRetryMax.
const (
	unixRetryFirst = time.Millisecond
	unixRetryMax   = 25 * time.Millisecond
)

// dialOther opens a connection to a backend that is not reached by a TCP
// dial of its address: a unix socket, or through Options.Dial. A unix
// socket whose accept queue is full refuses a connect at once with EAGAIN
// (where TCP drops the SYN and the connect waits), so such a refusal is
// tried again after a short pause, doubling up to unixRetryMax, until
// DialTimeout; each retry counts as a redial (DialStats). Any other
// error, or the target's close, ends it.
func (t *Target) dialOther(ctx context.Context) (*conn, error) {
	ctx, cancel := context.WithTimeout(ctx, t.dialTimeout)
	defer cancel()
	pause := unixRetryFirst
	var timer *time.Timer
	for {
		var nc net.Conn
		var err error
		if t.dialFn != nil {
			nc, err = t.dialFn(ctx)
		} else {
			nc, err = t.dialer.DialContext(ctx, t.network, t.addr)
		}
		if err == nil {
			return newConn(t, nc), nil
		}
		if !errors.Is(err, syscall.EAGAIN) {
			return nil, err
		}
		t.mu.Lock()
		closed := t.closed
		t.redials++
		t.mu.Unlock()
		if closed {
			return nil, err
		}
		if timer == nil {
			timer = time.NewTimer(pause)
			defer timer.Stop()
		} else {
			timer.Reset(pause)
		}
		select {
		case <-timer.C:
		case <-ctx.Done():
			return nil, err
		}
		pause = min(2*pause, unixRetryMax)
	}
}
