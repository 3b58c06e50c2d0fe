package forward

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// deadlineConn counts the read deadline changes made on a backend
// connection.
type deadlineConn struct {
	*net.TCPConn
	n *atomic.Int64
}

func (c deadlineConn) SetReadDeadline(t time.Time) error {
	c.n.Add(1)
	return c.TCPConn.SetReadDeadline(t)
}

func (c deadlineConn) SetDeadline(t time.Time) error {
	c.n.Add(1)
	return c.TCPConn.SetDeadline(t)
}

// TestReadDeadlineKeptAcrossRequests (issue 12): requests that follow
// each other on a kept-alive backend connection do not each set and clear
// the read deadline that watches for a slow answer (two timer changes per
// request): one set within the last half of watchDelay is reused.
func TestReadDeadlineKeptAcrossRequests(t *testing.T) {
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("hello"))
	}))
	t.Cleanup(be.Close)
	addr := be.Listener.Addr().String()
	var changes atomic.Int64
	dials := 0
	tg := NewTarget("tcp", addr, Options{Dial: func(ctx context.Context) (net.Conn, error) {
		dials++
		var d net.Dialer
		nc, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		return deadlineConn{nc.(*net.TCPConn), &changes}, nil
	}})
	t.Cleanup(tg.Close)
	r, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+addr+"/", nil)
	r.RemoteAddr = "127.0.0.1:1"
	const requests = 200
	start := time.Now()
	for range requests {
		w := &discardWriter{h: http.Header{}}
		if err := tg.Forward(w, r); err != nil {
			t.Fatal(err)
		}
		if w.status != 200 || w.n != 5 {
			t.Fatalf("status %d, %d bytes", w.status, w.n)
		}
	}
	if dials != 1 {
		t.Fatalf("%d connections, want 1 kept alive", dials)
	}
	// A deadline is set again once less than watchDelay/2 of it is left,
	// and cleared when the connection sat idle past it: at most two
	// changes per watchDelay/2 of time, however many requests (before,
	// two per request). The bound grows with the time the requests took,
	// so a slow machine loosens it rather than failing it; on an ordinary
	// one the 200 requests take a few watchDelays and the old code's 400
	// changes are far over it.
	elapsed := time.Since(start)
	limit := 2*int64(elapsed/(watchDelay/2)) + 4
	if n := changes.Load(); n > limit {
		t.Errorf("%d read deadline changes for %d requests in %v, want at most %d", n, requests, elapsed, limit)
	}
}
