package http1

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Contract item 12: ConnState goes New, Active, Idle for each request of a
// kept connection, and Closed when the client leaves; a connection the
// server closes (Connection: close) ends with Closed too.
func TestConnState(t *testing.T) {
	states := newStateLog()
	ts := start(t, http.HandlerFunc(reply), states.hook)
	c := ts.dial(t)
	waitFor(t, "StateNew", func() bool { return states.last(c.c.LocalAddr()) == http.StateNew })
	c.send(getReq)
	c.ok("GET")
	waitFor(t, "StateIdle", func() bool { return states.last(c.c.LocalAddr()) == http.StateIdle })
	c.send(getReq)
	c.ok("GET")
	waitFor(t, "StateIdle", func() bool { return len(states.of(c.c.LocalAddr())) == 5 })
	c.c.Close()
	waitFor(t, "StateClosed", func() bool { return states.last(c.c.LocalAddr()) == http.StateClosed })
	want := []http.ConnState{http.StateNew, http.StateActive, http.StateIdle, http.StateActive, http.StateIdle, http.StateClosed}
	if got := states.of(c.c.LocalAddr()); !slices.Equal(got, want) {
		t.Errorf("ConnState %v, want %v", got, want)
	}

	c = ts.dial(t)
	c.send("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	c.ok("GET")
	c.expectClosed()
	waitFor(t, "StateClosed", func() bool { return states.last(c.c.LocalAddr()) == http.StateClosed })
	want = []http.ConnState{http.StateNew, http.StateActive, http.StateClosed}
	if got := states.of(c.c.LocalAddr()); !slices.Equal(got, want) {
		t.Errorf("ConnState %v, want %v", got, want)
	}
}

// Contract item 12: the state is Active while the handler runs (the
// front's idle timer must not fire on it).
func TestConnStateActiveDuringHandler(t *testing.T) {
	states := newStateLog()
	seen := make(chan http.ConnState, 1)
	var addr atomic.Value
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, _ := net.ResolveTCPAddr("tcp", r.RemoteAddr)
		addr.Store(a)
		seen <- states.last(a)
	}), states.hook)
	c := ts.dial(t)
	c.send(getReq)
	c.ok("GET")
	if st := recv(t, seen, "the handler"); st != http.StateActive {
		t.Fatalf("state during the handler: %v", st)
	}
}

// Contract item 13: a panic with http.ErrAbortHandler closes the
// connection (the client sees a truncated response), is logged at debug
// level only, and the server serves on.
func TestPanicAbortHandler(t *testing.T) {
	var log syncBuffer
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/abort" {
			io.WriteString(w, "partial")
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}
		reply(w, r)
	}), func(s *Server) { s.ErrorLog = debugLog(&log) })
	c := ts.dial(t)
	c.send("GET /abort HTTP/1.1\r\nHost: a\r\n\r\n")
	if _, body, err := c.readAnyResponse(); err == nil {
		t.Fatalf("complete response %q after the handler aborted", body)
	}
	c.expectClosed()
	c2 := ts.dial(t)
	c2.send(getReq)
	c2.ok("GET")
	waitFor(t, "the abort logged", func() bool { return strings.Contains(log.String(), "level=DEBUG") })
	if strings.Contains(log.String(), "level=ERROR") || strings.Contains(log.String(), "level=WARN") {
		t.Errorf("an aborted handler logged above debug:\n%s", log.String())
	}
}

// Contract item 13: any other panic closes the connection (no response if
// nothing was sent), is logged with its stack, and the server serves on.
func TestPanicOther(t *testing.T) {
	var log syncBuffer
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/boom" {
			panic("boom-value-1234")
		}
		reply(w, r)
	}), func(s *Server) { s.ErrorLog = debugLog(&log) })
	c := ts.dial(t)
	c.send("GET /boom HTTP/1.1\r\nHost: a\r\n\r\n")
	if resp, body, err := c.readAnyResponse(); err == nil && resp.StatusCode == 200 {
		t.Fatalf("200 %q after the handler panicked", body)
	}
	c.expectClosed()
	c2 := ts.dial(t)
	c2.send(getReq)
	c2.ok("GET")
	waitFor(t, "the panic logged", func() bool { return strings.Contains(log.String(), "boom-value-1234") })
	if !strings.Contains(log.String(), "TestPanicOther") {
		t.Errorf("the panic was logged without its stack:\n%s", log.String())
	}
}

// Contract item 14: Shutdown closes the listeners and the idle
// connections at once, lets an active one finish its response then closes
// it, and returns nil once none is left; Serve returns
// http.ErrServerClosed.
func TestShutdown(t *testing.T) {
	g := newGate(t)
	entered := make(chan struct{}, 1)
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			entered <- struct{}{}
			g.wait()
		}
		io.WriteString(w, r.URL.Path)
	}))
	idle := ts.dial(t)
	idle.send(getReq)
	idle.ok("GET")
	active := ts.dial(t)
	active.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
	recv(t, entered, "the slow handler")

	shut := make(chan error, 1)
	go func() { shut <- ts.Shutdown(withTimeout(t)) }()
	if err := ts.waitServe(t); !errors.Is(err, http.ErrServerClosed) {
		t.Fatalf("Serve: %v", err)
	}
	idle.expectClosed()
	if c, err := net.Dial("tcp", ts.addr); err == nil {
		c.Close()
		t.Fatalf("the listener still accepts after Shutdown")
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v while a handler is running", err)
	default:
	}
	g.open()
	if got := active.ok("GET"); got != "/slow" {
		t.Fatalf("active response %q", got)
	}
	active.expectClosed()
	if err := recv(t, shut, "Shutdown"); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

// Contract item 14: Shutdown returns ctx.Err() when its context ends
// first; Close then closes the active connection.
func TestShutdownContextExpires(t *testing.T) {
	g := newGate(t)
	entered := make(chan struct{}, 1)
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		g.wait()
	}))
	c := ts.dial(t)
	c.send(getReq)
	recv(t, entered, "the handler")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := ts.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v, want context.DeadlineExceeded", err)
	}
	ts.Close()
	c.expectClosed()
	if err := ts.waitServe(t); !errors.Is(err, http.ErrServerClosed) {
		t.Fatalf("Serve: %v", err)
	}
}

// Contract item 14: Close closes every connection now, active ones too,
// and Serve returns http.ErrServerClosed.
func TestClose(t *testing.T) {
	g := newGate(t)
	entered := make(chan struct{}, 1)
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			entered <- struct{}{}
			g.wait()
		}
		reply(w, r)
	}))
	idle := ts.dial(t)
	idle.send(getReq)
	idle.ok("GET")
	fresh := ts.dial(t) // accepted, nothing sent
	active := ts.dial(t)
	active.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
	recv(t, entered, "the slow handler")
	if err := ts.Close(); err != nil {
		t.Logf("Close: %v", err)
	}
	if err := ts.waitServe(t); !errors.Is(err, http.ErrServerClosed) {
		t.Fatalf("Serve: %v", err)
	}
	idle.expectClosed()
	fresh.expectClosed()
	active.expectClosed()
}

// Contract item 14 (as net/http): Serve after Shutdown or Close returns
// http.ErrServerClosed at once (and closes the listener).
func TestServeAfterClose(t *testing.T) {
	s := &Server{Handler: http.HandlerFunc(reply)}
	s.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	if err := recv(t, done, "Serve"); !errors.Is(err, http.ErrServerClosed) {
		t.Fatalf("Serve after Close: %v", err)
	}
}

// Contract item 3: the request's context is cancelled when the client
// closes its connection (FIN) or resets it (RST) while the handler runs.
func TestContextCancelledOnHangup(t *testing.T) {
	if err := Supported(); err != nil {
		t.Skipf("no hangup watcher here: %v", err)
	}
	for _, reset := range []bool{false, true} {
		name := "close"
		if reset {
			name = "reset"
		}
		t.Run(name, func(t *testing.T) {
			entered := make(chan struct{}, 1)
			outcome := make(chan error, 1)
			ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				entered <- struct{}{}
				select {
				case <-r.Context().Done():
					outcome <- nil
				case <-time.After(guard):
					outcome <- errors.New("the request's context was not cancelled")
				}
			}))
			c := ts.dial(t)
			c.send(getReq)
			recv(t, entered, "the handler")
			if reset {
				c.c.SetLinger(0)
			}
			c.c.Close()
			if err := recv(t, outcome, "the handler's outcome"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Contract item 3: pipelined bytes waiting while a handler runs are not a
// hang-up: the context stays live and the next request is served.
func TestContextNotCancelledByPipelinedData(t *testing.T) {
	entered := make(chan struct{}, 1)
	outcome := make(chan error, 1)
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/wait" {
			entered <- struct{}{}
			select {
			case <-r.Context().Done():
				outcome <- errors.New("cancelled by pipelined data")
			case <-time.After(300 * time.Millisecond):
				outcome <- nil
			}
		}
		reply(w, r)
	}))
	c := ts.dial(t)
	c.send("GET /wait HTTP/1.1\r\nHost: a\r\n\r\n")
	recv(t, entered, "the handler")
	c.send(getReq)
	if err := recv(t, outcome, "the handler's outcome"); err != nil {
		t.Fatal(err)
	}
	c.ok("GET")
	c.ok("GET")
}

// Supported is nil on Linux, where the hangup watcher runs.
func TestSupported(t *testing.T) {
	if err := Supported(); err != nil && runtime.GOOS == "linux" {
		t.Fatalf("Supported on Linux: %v", err)
	}
}

// Contract item 13 with no ErrorLog (nil: discarded): a panic still only
// closes its connection.
func TestPanicWithoutErrorLog(t *testing.T) {
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/boom" {
			panic("boom")
		}
		reply(w, r)
	}))
	c := ts.dial(t)
	c.send("GET /boom HTTP/1.1\r\nHost: a\r\n\r\n")
	c.expectClosed()
	c2 := ts.dial(t)
	c2.send(getReq)
	c2.ok("GET")
}
