package forward

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// testTimeout bounds every wait in these tests.
const testTimeout = 10 * time.Second

// front is a server on 127.0.0.1 (the lean loop or net/http's, see
// TestMain) whose handler forwards to a Target, recording the errors
// Forward returns.
type front struct {
	*frontServer
	target *Target
	errs   chan error
}

// newFront starts a front that forwards to the TCP backend at addr.
func newFront(t *testing.T, addr string) *front {
	t.Helper()
	return newFrontTarget(t, NewTarget("tcp", addr, Options{}), false)
}

// newFrontTarget starts a front for tg (TLS when tls is set).
func newFrontTarget(t *testing.T, tg *Target, tls bool) *front {
	t.Helper()
	f := &front{target: tg, errs: make(chan error, 4096)}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := tg.Forward(w, r)
		if err == nil {
			return
		}
		select {
		case f.errs <- err:
		default:
		}
		var fe *Error
		if errors.As(err, &fe) && fe.Committed {
			panic(http.ErrAbortHandler)
		}
		http.Error(w, "bad gateway: "+err.Error(), http.StatusBadGateway)
	})
	f.frontServer = newFrontServer(h, tls)
	t.Cleanup(func() {
		f.Close()
		tg.Close()
	})
	return f
}

// nextErr waits for the next error recorded by the front.
func (f *front) nextErr(t *testing.T) *Error {
	t.Helper()
	select {
	case err := <-f.errs:
		var fe *Error
		if !errors.As(err, &fe) {
			t.Fatalf("Forward returned %T %v, want *Error", err, err)
		}
		return fe
	case <-time.After(testTimeout):
		t.Fatal("no error from Forward within the deadline")
		return nil
	}
}

// noErr fails if the front has recorded an error.
func (f *front) noErr(t *testing.T) {
	t.Helper()
	select {
	case err := <-f.errs:
		t.Fatalf("Forward returned %v", err)
	default:
	}
}

// newClient returns a client with its own connections, closed at cleanup.
func newClient(t *testing.T) *http.Client {
	t.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: 100, DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: testTimeout}
}

// backend is an httptest server on 127.0.0.1 that counts connections.
type backend struct {
	*httptest.Server
	mu     sync.Mutex
	conns  int // StateNew events
	closed int // StateClosed events
	cond   *sync.Cond
}

// newBackend starts a backend serving h.
func newBackend(t *testing.T, h http.HandlerFunc) *backend {
	t.Helper()
	b := &backend{}
	b.cond = sync.NewCond(&b.mu)
	b.Server = httptest.NewUnstartedServer(h)
	b.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		b.mu.Lock()
		switch s {
		case http.StateNew:
			b.conns++
		case http.StateClosed, http.StateHijacked:
			b.closed++
		}
		b.mu.Unlock()
		b.cond.Broadcast()
	}
	b.Start()
	t.Cleanup(b.Close)
	return b
}

// addr returns the backend's host:port.
func (b *backend) addr() string { return b.Listener.Addr().String() }

// counts returns the connection counters.
func (b *backend) counts() (conns, closed int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.conns, b.closed
}

// waitClosed waits until at least n connections have closed.
func (b *backend) waitClosed(t *testing.T, n int) {
	t.Helper()
	deadline := time.AfterFunc(testTimeout, b.cond.Broadcast)
	defer deadline.Stop()
	start := time.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.closed < n {
		if time.Since(start) > testTimeout {
			t.Fatalf("backend saw %d closed connections, want %d", b.closed, n)
		}
		b.cond.Wait()
	}
}

// rawBackend accepts connections on 127.0.0.1 and hands each to serve on
// its own goroutine. It returns the address.
func rawBackend(t *testing.T, serve func(c net.Conn, br *bufio.Reader)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(testTimeout))
				serve(c, bufio.NewReader(c))
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// dialFront opens a raw connection to the front, closed at cleanup.
func dialFront(t *testing.T, f *front) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", f.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(testTimeout))
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

// wait receives from ch within the test deadline.
func wait[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(testTimeout):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}
