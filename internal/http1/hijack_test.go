package http1

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"testing"
)

// stateLog records ConnState calls per connection (by the client's
// address).
type stateLog struct {
	mu     sync.Mutex
	states map[string][]http.ConnState
}

func newStateLog() *stateLog { return &stateLog{states: map[string][]http.ConnState{}} }

func (l *stateLog) hook(s *Server) {
	s.ConnState = func(c net.Conn, st http.ConnState) {
		l.mu.Lock()
		defer l.mu.Unlock()
		k := c.RemoteAddr().String()
		l.states[k] = append(l.states[k], st)
	}
}

// of returns the states of the connection from the client address a.
func (l *stateLog) of(a net.Addr) []http.ConnState {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]http.ConnState(nil), l.states[a.String()]...)
}

// last returns the latest state of that connection (-1: none yet).
func (l *stateLog) last(a net.Addr) http.ConnState {
	s := l.of(a)
	if len(s) == 0 {
		return -1
	}
	return s[len(s)-1]
}

// Contract item 8: Hijack hands over the connection with the bytes read
// past the request head (pipelined data) first in the reader; ConnState
// goes to StateHijacked and the server forgets the connection (Close does
// not close it, no StateClosed).
func TestHijack(t *testing.T) {
	states := newStateLog()
	type result struct {
		first string
		err   error
	}
	results := make(chan result, 1)
	hijacked := make(chan net.Conn, 1)
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nc, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			results <- result{err: err}
			return
		}
		hijacked <- nc
		// The pipelined bytes, then what the client sends after.
		b := make([]byte, len("PIPELINED+MORE"))
		_, err = io.ReadFull(rw, b)
		results <- result{first: string(b), err: err}
		rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\nechoed:" + string(b))
		rw.Flush()
	}), states.hook)
	c := ts.dial(t)
	c.send("GET /up HTTP/1.1\r\nHost: a\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\nPIPELINED")
	nc := recv(t, hijacked, "Hijack")
	t.Cleanup(func() { nc.Close() })
	waitFor(t, "StateHijacked", func() bool { return states.last(c.c.LocalAddr()) == http.StateHijacked })
	c.send("+MORE")
	res := recv(t, results, "the handler's reads")
	if res.err != nil || res.first != "PIPELINED+MORE" {
		t.Fatalf("the hijacked reader gave %q (%v), want \"PIPELINED+MORE\"", res.first, res.err)
	}
	resp, err := http.ReadResponse(c.br, &http.Request{Method: "GET"})
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("response %v (%v)", resp, err)
	}
	b := make([]byte, len("echoed:PIPELINED+MORE"))
	if _, err := io.ReadFull(c.br, b); err != nil || string(b) != "echoed:PIPELINED+MORE" {
		t.Fatalf("read %q (%v)", b, err)
	}
	// The server forgot the connection: Close leaves it open.
	ts.Close()
	ts.waitServe(t)
	if _, err := nc.Write([]byte("still mine")); err != nil {
		t.Fatalf("the hijacked connection was closed by Server.Close: %v", err)
	}
	b = make([]byte, len("still mine"))
	if _, err := io.ReadFull(c.br, b); err != nil || string(b) != "still mine" {
		t.Fatalf("read %q (%v)", b, err)
	}
	want := []http.ConnState{http.StateNew, http.StateActive, http.StateHijacked}
	if got := states.of(c.c.LocalAddr()); !slices.Equal(got, want) {
		t.Errorf("ConnState %v, want %v", got, want)
	}
}

// Contract item 8: a request with a body: the hijacked reader starts with
// the body bytes the server had read.
func TestHijackWithBufferedBody(t *testing.T) {
	got := make(chan string, 1)
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nc, rw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		defer nc.Close()
		b := make([]byte, 10)
		_, err = io.ReadFull(rw.Reader, b)
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		got <- string(b)
	}))
	c := ts.dial(t)
	c.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789")
	if g := recv(t, got, "the handler"); g != "0123456789" {
		t.Fatalf("hijacked reader: %q", g)
	}
}

// Contract item 8: Hijack after the response header was sent fails, and
// the response goes on normally.
func TestHijackAfterHeader(t *testing.T) {
	errs := make(chan error, 1)
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		nc, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			nc.Close()
		}
		errs <- err
		io.WriteString(w, "body")
	}))
	c := ts.dial(t)
	c.send(getReq)
	if err := recv(t, errs, "Hijack"); err == nil {
		t.Fatal("Hijack after the header was sent succeeded")
	}
	if got := c.ok("GET"); got != "body" {
		t.Fatalf("body %q", got)
	}
	c.expectOpen()
}

// Contract item 8: the hijacked *bufio.ReadWriter writes to the
// connection.
func TestHijackWriter(t *testing.T) {
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nc, rw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer nc.Close()
		rw.WriteString("raw bytes")
		rw.Flush()
	}))
	c := ts.dial(t)
	c.send(getReq)
	b, err := io.ReadAll(bufio.NewReader(c.br))
	if string(b) != "raw bytes" || err != nil && !isReset(err) {
		t.Fatalf("read %q (%v)", b, err)
	}
}
