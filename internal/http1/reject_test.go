package http1

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// rejectCase is a request head the server must refuse without calling the
// handler (contract item 2).
type rejectCase struct {
	name   string
	in     string
	status int
	conf   func(*Server)
}

// rejectCases are the heads of contract item 2, each with the status the
// server must answer. Every input ends in CRLF CRLF so that a server that
// only looks for the end of the head still sees one.
var rejectCases = []rejectCase{
	// 400: request line.
	{name: "no target", in: "GET HTTP/1.1\r\nHost: a\r\n\r\n", status: 400},
	{name: "no version", in: "GET /\r\nHost: a\r\n\r\n", status: 400},
	{name: "method only", in: "GET\r\nHost: a\r\n\r\n", status: 400},
	{name: "empty request line", in: "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", status: 400},
	{name: "two spaces after method", in: "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", status: 400},
	{name: "space after version", in: "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", status: 400},
	{name: "lowercase version", in: "GET / http/1.1\r\nHost: a\r\n\r\n", status: 400},
	{name: "method not a token", in: "GE(T / HTTP/1.1\r\nHost: a\r\n\r\n", status: 400},
	{name: "method with 8-bit byte", in: "G\xc9T / HTTP/1.1\r\nHost: a\r\n\r\n", status: 400},
	{name: "empty method", in: " / HTTP/1.1\r\nHost: a\r\n\r\n", status: 400},
	{name: "target with CTL", in: "GET /a\x01b HTTP/1.1\r\nHost: a\r\n\r\n", status: 400},
	{name: "target with DEL", in: "GET /a\x7fb HTTP/1.1\r\nHost: a\r\n\r\n", status: 400},
	{name: "target with NUL", in: "GET /a\x00b HTTP/1.1\r\nHost: a\r\n\r\n", status: 400},
	{name: "target with space", in: "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", status: 400},
	{name: "target with tab", in: "GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", status: 400},
	{name: "relative target", in: "GET a/b HTTP/1.1\r\nHost: a\r\n\r\n", status: 400},
	{name: "CONNECT bad authority", in: "CONNECT a:b:c HTTP/1.1\r\nHost: a\r\n\r\n", status: 400},
	// 400: line endings.
	{name: "bare LF after request line", in: "GET / HTTP/1.1\nHost: a\r\n\r\n", status: 400},
	{name: "bare LF after field", in: "GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n", status: 400},
	{name: "bare LF empty line", in: "GET / HTTP/1.1\r\nHost: a\r\n\nX: y\r\n\r\n", status: 400},
	{name: "bare LF everywhere", in: "GET / HTTP/1.1\nHost: a\n\n\r\n\r\n", status: 400},
	{name: "bare CR in value", in: "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", status: 400},
	{name: "bare CR in request line", in: "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", status: 400},
	// 400: fields.
	{name: "obs-fold space", in: "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", status: 400},
	{name: "obs-fold tab", in: "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n", status: 400},
	{name: "first field line folded", in: "GET / HTTP/1.1\r\n Host: a\r\n\r\n", status: 400},
	{name: "name not a token", in: "GET / HTTP/1.1\r\nHost: a\r\nX(y: b\r\n\r\n", status: 400},
	{name: "name with space", in: "GET / HTTP/1.1\r\nHost: a\r\nX y: b\r\n\r\n", status: 400},
	{name: "name with 8-bit byte", in: "GET / HTTP/1.1\r\nHost: a\r\nX\xc3\xa9: b\r\n\r\n", status: 400},
	{name: "name with NUL", in: "GET / HTTP/1.1\r\nHost: a\r\nX\x00: b\r\n\r\n", status: 400},
	{name: "empty name", in: "GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n", status: 400},
	{name: "space before colon", in: "GET / HTTP/1.1\r\nHost: a\r\nX : b\r\n\r\n", status: 400},
	{name: "tab before colon", in: "GET / HTTP/1.1\r\nHost: a\r\nX\t: b\r\n\r\n", status: 400},
	{name: "space before colon of Content-Length", in: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 3\r\n\r\nabc", status: 400},
	{name: "no colon", in: "GET / HTTP/1.1\r\nHost: a\r\nXyz\r\n\r\n", status: 400},
	{name: "NUL in value", in: "GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n", status: 400},
	{name: "CTL in value", in: "GET / HTTP/1.1\r\nHost: a\r\nX: a\x01b\r\n\r\n", status: 400},
	{name: "ESC in value", in: "GET / HTTP/1.1\r\nHost: a\r\nX: a\x1bb\r\n\r\n", status: 400},
	{name: "DEL in value", in: "GET / HTTP/1.1\r\nHost: a\r\nX: a\x7fb\r\n\r\n", status: 400},
	// 400: Host.
	{name: "HTTP/1.1 without Host", in: "GET / HTTP/1.1\r\nX: y\r\n\r\n", status: 400},
	{name: "two Host", in: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", status: 400},
	{name: "two equal Host", in: "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", status: 400},
	{name: "Host with space", in: "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", status: 400},
	{name: "Host with slash", in: "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", status: 400},
	{name: "Host with at", in: "GET / HTTP/1.1\r\nHost: a@b\r\n\r\n", status: 400},
	{name: "Host with NUL", in: "GET / HTTP/1.1\r\nHost: a\x00b\r\n\r\n", status: 400},
	// 400: framing.
	{name: "CL and TE", in: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 400},
	{name: "TE and CL", in: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n", status: 400},
	{name: "CL plus", in: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc", status: 400},
	{name: "CL minus", in: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\nabc", status: 400},
	{name: "CL hex", in: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x3\r\n\r\nabc", status: 400},
	{name: "CL trailing letter", in: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3a\r\n\r\nabc", status: 400},
	{name: "CL empty", in: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\nabc", status: 400},
	{name: "CL inner space", in: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3 3\r\n\r\nabc", status: 400},
	{name: "CL list", in: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc", status: 400},
	{name: "CL 2^63", in: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775808\r\n\r\nabc", status: 400},
	{name: "CL 20 digits", in: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\nabc", status: 400},
	{name: "CL differing", in: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", status: 400},
	// 431.
	{name: "field over MaxHeaderBytes", in: "GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("x", 2000) + "\r\n\r\n", status: 431,
		conf: func(s *Server) { s.MaxHeaderBytes = 1024 }},
	{name: "field over MaxHeaderBytes+4096", in: "GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("x", 6000) + "\r\n\r\n", status: 431,
		conf: func(s *Server) { s.MaxHeaderBytes = 1024 }},
	{name: "target over MaxHeaderBytes", in: "GET /" + strings.Repeat("x", 2000) + " HTTP/1.1\r\nHost: a\r\n\r\n", status: 431,
		conf: func(s *Server) { s.MaxHeaderBytes = 1024 }},
	{name: "fields over MaxHeaderFields", in: "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", status: 431,
		conf: func(s *Server) { s.MaxHeaderFields = 4 }},
	{name: "fields over default MaxHeaderFields", in: "GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("A: 1\r\n", 256) + "\r\n", status: 431},
	// 501.
	{name: "TE gzip", in: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", status: 501},
	{name: "TE gzip, chunked", in: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", status: 501},
	{name: "TE chunked, gzip", in: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", status: 501},
	{name: "TE chunked, chunked", in: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", status: 501},
	{name: "TE twice", in: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 501},
	{name: "TE identity", in: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n", status: 501},
	{name: "TE empty", in: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \r\n\r\n", status: 501},
	// 505.
	{name: "HTTP/2.0", in: "GET / HTTP/2.0\r\nHost: a\r\n\r\n", status: 505},
	{name: "HTTP/0.9", in: "GET / HTTP/0.9\r\nHost: a\r\n\r\n", status: 505},
	{name: "HTTP/3.0", in: "GET / HTTP/3.0\r\nHost: a\r\n\r\n", status: 505},
	// 417.
	{name: "Expect other", in: "POST / HTTP/1.1\r\nHost: a\r\nExpect: the-unexpected\r\nContent-Length: 3\r\n\r\nabc", status: 417},
	{name: "Expect other without body", in: "GET / HTTP/1.1\r\nHost: a\r\nExpect: x\r\n\r\n", status: 417},
}

// Contract item 2: every malformed head is answered with its status, in
// the documented shape, without calling the handler, and the connection is
// closed after the answer; also after a good request on the same
// connection.
func TestRejectedHeads(t *testing.T) {
	for _, tc := range rejectCases {
		for _, after := range []bool{false, true} {
			name := tc.name
			if after {
				name += "/after a good request"
			}
			t.Run(name, func(t *testing.T) {
				var called atomic.Int32
				conf := []func(*Server){}
				if tc.conf != nil {
					conf = append(conf, tc.conf)
				}
				ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					called.Add(1)
					reply(w, r)
				}), conf...)
				c := ts.dial(t)
				if after {
					c.send("GET /first HTTP/1.1\r\nHost: a\r\n\r\n")
					c.ok("GET")
					called.Store(0)
				}
				c.send(tc.in)
				checkRejection(t, c, tc.status)
				c.expectClosed()
				if n := called.Load(); n != 0 {
					t.Fatalf("the handler was called %d times", n)
				}
			})
		}
	}
}

// checkRejection reads a refusal with the given status in the contract's
// shape: HTTP/1.1 status line, Connection: close, text/plain, a
// Content-Length and a body "<code> <text>[: detail]".
func checkRejection(t *testing.T, c *client, status int) {
	t.Helper()
	resp, body, err := c.response("GET")
	if err != nil {
		t.Fatalf("reading the body of the refusal: %v", err)
	}
	want := fmt.Sprintf("%d %s", status, http.StatusText(status))
	if resp.Status != want || resp.Proto != "HTTP/1.1" {
		t.Fatalf("status line %s %s, want HTTP/1.1 %s (body %q)", resp.Proto, resp.Status, want, body)
	}
	if !resp.Close { // http.ReadResponse takes "Connection: close" out of the header
		t.Errorf("no Connection: close")
	}
	if got := resp.Header.Get("Content-Type"); got != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type %q", got)
	}
	if got := resp.Header.Get("Content-Length"); got != strconv.Itoa(len(body)) {
		t.Errorf("Content-Length %q for a body of %d bytes", got, len(body))
	}
	if body != want && !strings.HasPrefix(body, want+": ") {
		t.Errorf("body %q, want %q[: detail]", body, want)
	}
}

// Contract item 2: the limits count the request line and every field; a
// head just within them is served.
func TestHeadWithinLimits(t *testing.T) {
	ts := start(t, http.HandlerFunc(reply), func(s *Server) {
		s.MaxHeaderFields = 4
		s.MaxHeaderBytes = 1024
	})
	c := ts.dial(t)
	c.send("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: " + strings.Repeat("c", 800) + "\r\n\r\n")
	c.ok("GET")
	c.expectOpen()

	// The default field limit is 256.
	ts = start(t, http.HandlerFunc(reply))
	c = ts.dial(t)
	c.send("GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("A: 1\r\n", 255) + "\r\n")
	c.ok("GET")
}

// Contract item 2: the default MaxHeaderBytes is 1 MiB: a head of a bit
// less is served, one of a bit more refused with 431.
func TestDefaultMaxHeaderBytes(t *testing.T) {
	ts := start(t, http.HandlerFunc(reply))
	c := ts.dial(t)
	c.send("GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("x", 1<<20-100) + "\r\n\r\n")
	c.ok("GET")
	c = ts.dial(t)
	c.send("GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("x", 1<<20+100) + "\r\n\r\n")
	checkRejection(t, c, 431)
	c.expectClosed()
}

// Contract item 2: what the rules allow is served: several identical
// Content-Length fields, chunked in any case, Expect: 100-continue in any
// case, HTAB and 8-bit bytes in values, OWS around values.
func TestHeadAccepted(t *testing.T) {
	for _, tc := range []struct{ name, in, body string }{
		{"identical Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", "abc"},
		{"Content-Length with OWS", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \t3 \r\n\r\nabc", "abc"},
		{"Content-Length leading zeros", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 003\r\n\r\nabc", "abc"},
		{"CHUNKED", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: CHUNKED\r\n\r\n3\r\nabc\r\n0\r\n\r\n", "abc"},
		{"Expect in capitals", "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\nabc", "abc"},
		{"HTAB and 8-bit value", "POST / HTTP/1.1\r\nHost: a\r\nX: a\tb \xc3\xa9\xff\r\nContent-Length: 3\r\n\r\nabc", "abc"},
		{"empty value", "GET / HTTP/1.1\r\nHost: a\r\nX:\r\n\r\n", ""},
		{"HTTP/1.0 without Host", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", ""},
		{"CONNECT", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", ""},
		{"OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", ""},
		{"absolute form", "GET http://b/x HTTP/1.1\r\nHost: a\r\n\r\n", ""},
		{"IPv6 Host", "GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b := make([]byte, 16)
				n, _ := r.Body.Read(b)
				for n < 3 && tc.body != "" {
					m, err := r.Body.Read(b[n:])
					n += m
					if err != nil {
						break
					}
				}
				w.Write(b[:n])
			}))
			c := ts.dial(t)
			c.send(tc.in)
			if got := c.ok("GET"); got != tc.body {
				t.Fatalf("body %q, want %q", got, tc.body)
			}
		})
	}
}
