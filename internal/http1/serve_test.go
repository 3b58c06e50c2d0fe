package http1

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// echoPath answers with the request's path, and the body it read if any.
func echoPath(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	fmt.Fprintf(w, "%s %s%s", r.Method, r.URL.Path, b)
}

// Contract item 1: keep-alive; every request of a connection is answered
// on it and comes from the same client address.
func TestKeepAlive(t *testing.T) {
	var mu sync.Mutex
	var remotes []string
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		remotes = append(remotes, r.RemoteAddr)
		mu.Unlock()
		echoPath(w, r)
	}))
	c := ts.dial(t)
	for i := range 5 {
		c.send(fmt.Sprintf("GET /r%d HTTP/1.1\r\nHost: a\r\n\r\n", i))
		if got, want := c.ok("GET"), fmt.Sprintf("GET /r%d", i); got != want {
			t.Fatalf("response %d: body %q, want %q", i, got, want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, r := range remotes {
		if r != c.c.LocalAddr().String() {
			t.Fatalf("RemoteAddr %q, want the client's address %q", r, c.c.LocalAddr())
		}
	}
}

// Contract item 1: pipelined requests (written in one go, with bodies of
// both framings among them) are answered in order.
func TestPipelinedInOrder(t *testing.T) {
	ts := start(t, http.HandlerFunc(echoPath))
	c := ts.dial(t)
	c.send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n" +
		"POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello" +
		"POST /3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" +
		"HEAD /4 HTTP/1.1\r\nHost: a\r\n\r\n" +
		"GET /5 HTTP/1.1\r\nHost: a\r\n\r\n")
	for _, want := range []struct{ method, body string }{
		{"GET", "GET /1"}, {"POST", "POST /2hello"}, {"POST", "POST /3abc"}, {"HEAD", ""}, {"GET", "GET /5"},
	} {
		if got := c.ok(want.method); got != want.body {
			t.Fatalf("body %q, want %q", got, want.body)
		}
	}
	c.expectOpen()
}

// Contract items 1, 3, 6: an HTTP/1.0 request without keep-alive is
// answered (status line HTTP/1.1) and the connection closed.
func TestHTTP10Closes(t *testing.T) {
	ts := start(t, http.HandlerFunc(echoPath))
	c := ts.dial(t)
	c.send("GET /old HTTP/1.0\r\n\r\n")
	line, err := c.br.Peek(9)
	if err != nil || string(line) != "HTTP/1.1 " {
		t.Fatalf("status line starts %q (%v), want \"HTTP/1.1 \"", line, err)
	}
	if got := c.ok("GET"); got != "GET /old" {
		t.Fatalf("body %q", got)
	}
	c.expectClosed()
}

// Contract item 6: an HTTP/1.0 keep-alive request is answered with
// Connection: keep-alive when the response has a Content-Length, and the
// connection is kept.
func TestHTTP10KeepAlive(t *testing.T) {
	ts := start(t, http.HandlerFunc(echoPath))
	c := ts.dial(t)
	for i := range 3 {
		c.send(fmt.Sprintf("GET /k%d HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", i))
		resp, body, err := c.response("GET")
		if err != nil || body != fmt.Sprintf("GET /k%d", i) {
			t.Fatalf("body %q, %v", body, err)
		}
		if resp.ContentLength != int64(len(body)) || resp.Header.Get("Connection") != "keep-alive" {
			t.Fatalf("Content-Length %d, Connection %q; want %d and keep-alive", resp.ContentLength, resp.Header.Get("Connection"), len(body))
		}
	}
	// Keep-Alive in any case, as net/http.
	c.send("GET /last HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
	if got := c.ok("GET"); got != "GET /last" {
		t.Fatalf("body %q", got)
	}
	c.expectOpen()
}

// Contract item 2: up to 4 empty lines before a request line are skipped.
func TestLeadingEmptyLines(t *testing.T) {
	ts := start(t, http.HandlerFunc(echoPath))
	c := ts.dial(t)
	c.send("GET /a HTTP/1.1\r\nHost: a\r\n\r\n")
	c.ok("GET")
	for n := 1; n <= 4; n++ {
		c.send(strings.Repeat("\r\n", n) + "GET /b HTTP/1.1\r\nHost: a\r\n\r\n")
		if got := c.ok("GET"); got != "GET /b" {
			t.Fatalf("%d empty lines: body %q", n, got)
		}
	}
	// Also on a fresh connection.
	c2 := ts.dial(t)
	c2.send("\r\n\r\nGET /c HTTP/1.1\r\nHost: a\r\n\r\n")
	if got := c2.ok("GET"); got != "GET /c" {
		t.Fatalf("body %q", got)
	}
}

// Contract item 1: many connections are served at once, each by its own
// goroutine (a handler blocked on one connection does not hold up another).
func TestConnectionsIndependent(t *testing.T) {
	g := newGate(t)
	entered := make(chan struct{}, 1)
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/block" {
			entered <- struct{}{}
			g.wait()
		}
		echoPath(w, r)
	}))
	blocked := ts.dial(t)
	blocked.send("GET /block HTTP/1.1\r\nHost: a\r\n\r\n")
	recv(t, entered, "the blocking handler")
	for range 3 {
		c := ts.dial(t)
		c.send("GET /other HTTP/1.1\r\nHost: a\r\n\r\n")
		if got := c.ok("GET"); got != "GET /other" {
			t.Fatalf("body %q", got)
		}
	}
	g.open()
	if got := blocked.ok("GET"); got != "GET /block" {
		t.Fatalf("body %q", got)
	}
}
