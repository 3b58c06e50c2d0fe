package http1

import (
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

const headTimeout = 300 * time.Millisecond

// Contract item 11: a head trickled slower than ReadHeaderTimeout is
// closed without an answer, and the handler is not called.
func TestReadHeaderTimeoutTrickle(t *testing.T) {
	var called atomic.Int32
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		called.Add(1)
	}), func(s *Server) { s.ReadHeaderTimeout = headTimeout })
	c := ts.dial(t)
	stop := make(chan struct{})
	trickled := make(chan struct{})
	go func() {
		defer close(trickled)
		// A head that never ends, one byte at a time.
		head := "GET / HTTP/1.1\r\nHost: a\r\nX-Slow: "
		for i := 0; ; i++ {
			b := byte('a')
			if i < len(head) {
				b = head[i]
			}
			if _, err := c.c.Write([]byte{b}); err != nil {
				return
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	b, err := io.ReadAll(c.br)
	close(stop)
	<-trickled
	if len(b) > 0 {
		t.Fatalf("the server answered %q, want a close without an answer", b)
	}
	if err != nil && !isReset(err) {
		t.Fatalf("waiting for the close: %v", err)
	}
	if n := called.Load(); n != 0 {
		t.Fatalf("the handler was called")
	}
}

// Contract item 11: the timeout counts from a head's first byte: a client
// idle longer than the timeout before a request (first or next) is served;
// and a complete head is not cut by it, however long the handler and the
// body take.
func TestReadHeaderTimeoutNotBeforeFirstByte(t *testing.T) {
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(500)
			return
		}
		w.Write(b)
	}), func(s *Server) { s.ReadHeaderTimeout = headTimeout })
	c := ts.dial(t)
	time.Sleep(2 * headTimeout) // idle before the first byte
	c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	c.ok("GET")
	time.Sleep(2 * headTimeout) // idle between requests
	// A complete head, then a body that takes longer than the timeout.
	c.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nab")
	time.Sleep(2 * headTimeout)
	c.send("cd")
	if got := c.ok("POST"); got != "abcd" {
		t.Fatalf("body %q", got)
	}
}

// Contract item 11: a head sent in pieces that completes within the
// timeout is served.
func TestReadHeaderTimeoutPiecesInTime(t *testing.T) {
	ts := start(t, http.HandlerFunc(reply), func(s *Server) { s.ReadHeaderTimeout = guard })
	c := ts.dial(t)
	for _, piece := range []string{"GET / HT", "TP/1.1\r\nHo", "st: a\r", "\n\r", "\n"} {
		c.send(piece)
		time.Sleep(10 * time.Millisecond)
	}
	c.ok("GET")
}
