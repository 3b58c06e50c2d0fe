package http1

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// Contract item 4: a Content-Length body ends after that many bytes (the
// next request follows it); a handler reading in small pieces gets every
// byte then io.EOF.
func TestContentLengthBody(t *testing.T) {
	h, ch := recordRequests()
	ts := start(t, h)
	c := ts.dial(t)
	big := strings.Repeat("0123456789", 10000)
	c.send(fmt.Sprintf("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n%sGET / HTTP/1.1\r\nHost: a\r\n\r\n", len(big), big))
	c.ok("POST")
	c.ok("GET")
	if s := recv(t, ch, "the handler"); s.Body != big || s.BodyErr != nil {
		t.Fatalf("body of %d bytes (%v), want %d", len(s.Body), s.BodyErr, len(big))
	}
	if s := recv(t, ch, "the handler"); s.Body != "" || s.BodyErr != nil {
		t.Fatalf("second request's body %q (%v)", s.Body, s.BodyErr)
	}
}

// Contract item 4: a chunked body of many chunks, sent in pieces, is
// decoded; extensions are ignored; the connection is kept.
func TestChunkedBody(t *testing.T) {
	h, ch := recordRequests()
	ts := start(t, h)
	c := ts.dial(t)
	c.send("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
	var want strings.Builder
	for i := range 50 {
		piece := strings.Repeat(string(rune('a'+i%26)), i*37)
		want.WriteString(piece)
		ext := ""
		if i%3 == 0 {
			ext = fmt.Sprintf(";i=%d;name=\"v;x\"", i)
		}
		if i == 0 {
			continue // a zero-size chunk ends the body
		}
		c.send(fmt.Sprintf("%x%s\r\n%s\r\n", len(piece), ext, piece))
	}
	c.send("0\r\n\r\n")
	c.ok("POST")
	if s := recv(t, ch, "the handler"); s.Body != want.String() || s.BodyErr != nil {
		t.Fatalf("body of %d bytes (%v), want %d", len(s.Body), s.BodyErr, want.Len())
	}
	c.expectOpen()
}

// Contract item 4: a malformed chunked body is a read error for the
// handler and the connection is closed after the response.
func TestMalformedChunkedBody(t *testing.T) {
	for _, tc := range []struct{ name, body string }{
		{"size not hex", "zz\r\nhello\r\n0\r\n\r\n"},
		{"empty size", "\r\nhello\r\n0\r\n\r\n"},
		{"no CRLF after data", "5\r\nhelloXX0\r\n\r\n"},
		{"short data", "5\r\nhel\r\n0\r\n\r\n"},
		{"bare LF after size", "5\nhello\r\n0\r\n\r\n"},
		{"bare LF after data", "5\r\nhello\n0\r\n\r\n"},
		{"CR inside size line", "5\r;x\r\nhello\r\n0\r\n\r\n"},
		{"17 hex digits", "00000000000000005\r\nhello\r\n0\r\n\r\n"},
		{"size over 2^63-1", "8000000000000000\r\nhello\r\n0\r\n\r\n"},
		{"size over 2^64", "10000000000000000\r\nhello\r\n0\r\n\r\n"},
		{"negative size", "-5\r\nhello\r\n0\r\n\r\n"},
		{"size line over 4096 bytes", "5;" + strings.Repeat("e", 5000) + "\r\nhello\r\n0\r\n\r\n"},
		{"space in size", "5 5\r\nhello\r\n0\r\n\r\n"},
		{"trailer obs-fold", "5\r\nhello\r\n0\r\nX-T: a\r\n b\r\n\r\n"},
		{"trailer without colon", "5\r\nhello\r\n0\r\nX-T\r\n\r\n"},
		{"trailer NUL", "5\r\nhello\r\n0\r\nX-T: a\x00b\r\n\r\n"},
		{"trailer bare LF", "5\r\nhello\r\n0\r\nX-T: a\n\r\n"},
		{"trailer space before colon", "5\r\nhello\r\n0\r\nX-T : a\r\n\r\n"},
		{"trailers over MaxHeaderFields", "5\r\nhello\r\n0\r\n" + strings.Repeat("X-T: a\r\n", 5) + "\r\n"},
		{"trailers over MaxHeaderBytes", "5\r\nhello\r\n0\r\nX-T: " + strings.Repeat("t", 5000) + "\r\n\r\n"},
		{"end of stream in data", "5\r\nhel"},
		{"end of stream before last chunk", "5\r\nhello\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, ch := recordRequests()
			ts := start(t, h, func(s *Server) {
				s.MaxHeaderFields = 4
				s.MaxHeaderBytes = 4096
			})
			c := ts.dial(t)
			c.send("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + tc.body)
			if strings.HasPrefix(tc.name, "end of stream") {
				c.c.CloseWrite()
			}
			s := recv(t, ch, "the handler")
			if s.BodyErr == nil {
				t.Fatalf("the handler read %q and no error", s.Body)
			}
			if _, _, err := c.readAnyResponse(); err != nil && !isReset(err) {
				t.Fatalf("reading the response: %v", err)
			}
			c.expectClosed()
		})
	}
}

// readAnyResponse reads a response if one comes; an error means the
// server sent none (or a truncated one).
func (c *client) readAnyResponse() (*http.Response, string, error) {
	resp, err := http.ReadResponse(c.br, &http.Request{Method: "POST"})
	if err != nil {
		return nil, "", err
	}
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

// Contract item 4: reading the body after the handler returned fails.
func TestBodyReadAfterHandler(t *testing.T) {
	bodies := make(chan io.Reader, 1)
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bodies <- r.Body
		io.WriteString(w, "ok")
	}))
	c := ts.dial(t)
	c.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	c.ok("POST")
	body := recv(t, bodies, "the handler")
	c.ok("GET") // the server is done with the first request
	<-bodies
	n, err := body.Read(make([]byte, 64))
	if n > 0 || err == nil {
		t.Fatalf("Read after the handler returned: %d bytes, %v; want an error", n, err)
	}
	if err == io.EOF {
		t.Logf("Read after the handler returned: io.EOF (net/http: http.ErrBodyReadAfterClose)")
	}
}

// Contract item 5: with Expect: 100-continue the server sends 100
// Continue only on the handler's first body Read, and then reads the body.
func TestExpectContinue(t *testing.T) {
	g := newGate(t)
	entered := make(chan struct{}, 1)
	bodies := make(chan string, 1)
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		g.wait()
		b, err := io.ReadAll(r.Body)
		if err != nil {
			b = []byte("error: " + err.Error())
		}
		bodies <- string(b)
		w.Write(b)
	}))
	c := ts.dial(t)
	c.send("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
	recv(t, entered, "the handler")
	// Nothing is sent while the handler has not read.
	c.c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if b, err := c.br.Peek(1); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("before the handler read the body the server sent %q (%v)", b, err)
	}
	c.c.SetReadDeadline(time.Now().Add(guard))
	g.open()
	want := "HTTP/1.1 100 Continue\r\n\r\n"
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c.br, got); err != nil || string(got) != want {
		t.Fatalf("read %q (%v), want %q", got, err, want)
	}
	c.send("hello")
	if got := recv(t, bodies, "the body"); got != "hello" {
		t.Fatalf("the handler read %q", got)
	}
	if got := c.ok("POST"); got != "hello" {
		t.Fatalf("body %q", got)
	}
	c.expectOpen()
}

// Contract item 5: a handler that answers without reading the body of an
// Expect: 100-continue request: no 100 Continue, the response, then the
// connection is closed (the client may not send the body at all).
func TestExpectContinueUnread(t *testing.T) {
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "no thanks")
	}))
	c := ts.dial(t)
	c.send("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
	resp, body, err := c.readAnyResponse()
	if err != nil || resp.StatusCode != 200 || body != "no thanks" {
		t.Fatalf("response %v %q (%v), want 200 \"no thanks\" and no 100 Continue", resp, body, err)
	}
	c.expectClosed()
}

// Contract item 5: no 100 Continue once the response has started; the
// handler can still read the body the client sends.
func TestExpectContinueAfterResponseStarted(t *testing.T) {
	bodies := make(chan string, 1)
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		w.(http.Flusher).Flush()
		b, _ := io.ReadAll(r.Body)
		bodies <- string(b)
		w.Write(b)
	}))
	c := ts.dial(t)
	c.send("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
	resp, err := http.ReadResponse(c.br, &http.Request{Method: "POST"})
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("first response %v (%v), want 202", resp, err)
	}
	c.send("hello")
	if got := recv(t, bodies, "the body"); got != "hello" {
		t.Fatalf("the handler read %q", got)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil || string(b) != "hello" {
		t.Fatalf("body %q (%v)", b, err)
	}
}

// Contract item 5: HTTP/1.0 and bodiless requests get no 100 Continue.
func TestExpectContinueNotSent(t *testing.T) {
	ts := start(t, http.HandlerFunc(echoPath))
	c := ts.dial(t)
	c.send("GET /nobody HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n")
	resp, body, err := c.readAnyResponse()
	if err != nil || resp.StatusCode != 200 || body != "GET /nobody" {
		t.Fatalf("response %v %q (%v)", resp, body, err)
	}
	c.send("POST /old HTTP/1.0\r\nConnection: keep-alive\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi")
	resp, body, err = c.readAnyResponse()
	if err != nil || resp.StatusCode != 200 || body != "POST /oldhi" {
		t.Fatalf("response %v %q (%v)", resp, body, err)
	}
}

// Contract item 10: an unread body of up to 256 KiB is discarded and the
// connection kept, in both framings.
func TestUnreadSmallBodyKeepsConnection(t *testing.T) {
	ts := start(t, http.HandlerFunc(reply))
	c := ts.dial(t)
	small := strings.Repeat("x", 200<<10)
	c.send(fmt.Sprintf("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n", len(small)))
	// The server may answer before it discards: write concurrently.
	done := make(chan error, 1)
	go func() { _, err := c.c.Write([]byte(small)); done <- err }()
	c.ok("POST")
	if err := recv(t, done, "the body written"); err != nil {
		t.Fatal(err)
	}
	c.expectOpen()
	c.send("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
	go func() { _, err := fmt.Fprintf(c.c, "%x\r\n%s\r\n0\r\n\r\n", len(small), small); done <- err }()
	c.ok("POST")
	if err := recv(t, done, "the body written"); err != nil {
		t.Fatal(err)
	}
	c.expectOpen()
}

// Contract item 10: an unread body of more than 256 KiB closes the
// connection after the response.
func TestUnreadLargeBodyClosesConnection(t *testing.T) {
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			ts := start(t, http.HandlerFunc(reply))
			c := ts.dial(t)
			large := strings.Repeat("x", 300<<10)
			if chunked {
				c.send("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
				large = fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(large), large)
			} else {
				c.send(fmt.Sprintf("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n", len(large)))
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				c.c.Write([]byte(large)) // fails once the server closed
			}()
			c.ok("POST")
			c.expectClosed()
			<-done
		})
	}
}

// Contract item 4: a bare CR in a chunk-size line is malformed however
// the bytes arrive; here the CR is the last byte of a read (fuzz finding
// testdata/fuzz/FuzzDecodeChunked/ab05092042b9cd95).
func TestChunkedBareCRSplit(t *testing.T) {
	h, ch := recordRequests()
	ts := start(t, h)
	c := ts.dial(t)
	c.send("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;\r")
	time.Sleep(100 * time.Millisecond) // let the server read up to the CR
	c.send("\r\nhello\r\n0\r\n\r\n")
	if s := recv(t, ch, "the handler"); s.BodyErr == nil {
		t.Fatalf("the handler read %q and no error", s.Body)
	}
}
