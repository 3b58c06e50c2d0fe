package forward

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/poolctl/poolctl/internal/nettest"
)

// TestDialsInFlightBounded: a burst of requests to a backend with no idle
// connection and a full accept queue (it does not accept yet, backlog 1)
// opens at most MaxDials connections at once (the SYNs the full queue
// drops wait for TCP's retransmit); the other requests wait for a dial
// slot or a connection that comes back idle, and every request succeeds
// once the backend accepts. A request whose client leaves while it waits
// fails as NotSent.
func TestDialsInFlightBounded(t *testing.T) {
	const burst = 16
	ln := nettest.ListenBacklog(t, 1)
	tg := NewTarget("tcp", ln.Addr().String(), Options{})
	t.Cleanup(tg.Close)

	var wg sync.WaitGroup
	codes := make(chan int, burst)
	for range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodGet, "http://app/", nil)
			if err := tg.Forward(rec, r); err != nil {
				t.Errorf("Forward: %v", err)
				codes <- 0
				return
			}
			codes <- rec.Code
		}()
	}
	// The queue holds a couple of connections; the dials after them hang.
	deadline := time.Now().Add(testTimeout)
	for {
		inFlight, _, _ := tg.DialStats()
		if inFlight == defaultMaxDials {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dials in flight stayed at %d, want %d while the accept queue is full", inFlight, defaultMaxDials)
		}
		time.Sleep(5 * time.Millisecond)
	}

	// A client that leaves while waiting for a slot: not sent.
	waiting := func() int {
		tg.mu.Lock()
		defer tg.mu.Unlock()
		return len(tg.waiters)
	}
	// The rest of the burst waits, but for the few the queue took.
	for waiting() < burst-defaultMaxDials-3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests wait for a connection, want the rest of the burst", waiting())
		}
		time.Sleep(5 * time.Millisecond)
	}
	before := waiting()
	ctx, cancel := context.WithCancel(context.Background())
	waited := make(chan error, 1)
	go func() {
		r := httptest.NewRequest(http.MethodGet, "http://app/", nil).WithContext(ctx)
		waited <- tg.Forward(httptest.NewRecorder(), r)
	}()
	for waiting() <= before {
		if time.Now().After(deadline) {
			t.Fatalf("the request of the client that leaves never waited (%d waiting)", waiting())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	err := <-waited
	var fe *Error
	if !errors.As(err, &fe) || fe.Outcome != NotSent || !errors.Is(err, ErrClientGone) {
		t.Fatalf("a client that left while waiting: %v, want outcome not sent and ErrClientGone", err)
	}

	// The backend starts accepting: everything is answered.
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok"))
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusOK {
			t.Errorf("a request got %d, want 200", c)
		}
	}
	if _, peak, _ := tg.DialStats(); peak > defaultMaxDials {
		t.Errorf("%d dials were in flight at once, want at most %d", peak, defaultMaxDials)
	}
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if len(tg.waiters) != 0 || tg.dialing != 0 {
		t.Errorf("%d waiters and %d dials left over", len(tg.waiters), tg.dialing)
	}
}
