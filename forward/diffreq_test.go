package forward

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/poolctl/poolctl/internal/httpsyntax"
)

// The host parses a client's request with net/http's server and the
// forwarder writes it again for the worker. The tests here check that
// nothing is lost or added on that way: every request the forwarder writes
// is one request, which net/http reads back with the method, target, Host,
// end-to-end header fields, body and trailers of the client's, so that a
// worker cannot be made to see a different or a second request (request
// smuggling through the host).

// clientRequest reads one request from in as the front's server does
// (http.ReadRequest) with its whole body and trailers; ok is false when
// net/http rejects the head or the body (the front then never forwards
// it, or answers 400).
func clientRequest(in []byte) (r *http.Request, body []byte, ok bool) {
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(in)))
	if err != nil {
		return nil, nil, false
	}
	body, err = io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, nil, false
	}
	r.RemoteAddr = "192.0.2.1:1234"
	return r, body, true
}

// forwardedBytes writes r (whose body is body) as Forward writes it to a
// worker: writeHead, then the body inline or streamed (chunked when its
// length is unknown) with the trailers.
func forwardedBytes(r *http.Request, body []byte) ([]byte, error) {
	var out bytes.Buffer
	c := &conn{bw: bufio.NewWriterSize(&out, writeBufSize)}
	hasBody := r.ContentLength != 0 // -1: chunked, as the front's server leaves it
	if hasBody {
		r.Body = io.NopCloser(bytes.NewReader(body))
	} else {
		r.Body = http.NoBody
	}
	mode := requestBodyMode(r, hasBody)
	if err := c.writeHead(r, mode, false); err != nil {
		return nil, err
	}
	var err error
	switch mode {
	case bodyInline:
		err = c.writeInlineBody(r.Body, r.ContentLength)
	case bodyStream:
		err = c.copyBody(r, &bodyCopy{})
	}
	if err == nil {
		err = c.bw.Flush()
	}
	return out.Bytes(), err
}

// endToEnd lists the fields of h the forwarder must pass on unchanged.
func endToEnd(h http.Header) map[string][]string {
	out := map[string][]string{}
	conn := h["Connection"]
	for k, vv := range h {
		switch {
		case hopByHop(k), k == "Host", k == "Content-Length", k == "Expect",
			strings.HasPrefix(k, "X-Forwarded-"), !httpsyntax.ValidToken(k):
			continue
		case len(conn) > 0 && !strings.HasPrefix(k, PrivatePrefix) && httpsyntax.HasToken(conn, k):
			continue
		}
		out[k] = vv
	}
	return out
}

// diffRequest checks one client input: when net/http takes it, what the
// forwarder writes must be exactly one request that net/http reads back
// the same.
func diffRequest(t *testing.T, in []byte) {
	t.Helper()
	r, body, ok := clientRequest(in)
	if !ok {
		return
	}
	want := struct {
		method, uri, host string
		header            map[string][]string
		trailer           http.Header
	}{r.Method, r.URL.RequestURI(), r.Host, endToEnd(r.Header), r.Trailer.Clone()}
	out, err := forwardedBytes(r, body)
	if err != nil {
		if errors.Is(err, ErrBadRequest) {
			return // refused before a byte went out
		}
		t.Fatalf("input %q: forwarding failed: %v", clip(in), err)
	}
	br := bufio.NewReader(bytes.NewReader(out))
	got, err := http.ReadRequest(br)
	if err != nil {
		t.Fatalf("input %q: net/http cannot read the forwarded request %q: %v", clip(in), clip(out), err)
	}
	gotBody, err := io.ReadAll(got.Body)
	if err != nil {
		t.Fatalf("input %q: net/http cannot read the forwarded body of %q: %v", clip(in), clip(out), err)
	}
	if _, err := br.Peek(1); err != io.EOF {
		t.Fatalf("input %q: forwarded bytes %q hold more than one request", clip(in), clip(out))
	}
	switch {
	case got.Method != want.method:
		t.Fatalf("input %q: method %q forwarded as %q", clip(in), want.method, got.Method)
	case got.URL.RequestURI() != want.uri:
		t.Fatalf("input %q: target %q forwarded as %q", clip(in), want.uri, got.URL.RequestURI())
	case got.Host != want.host:
		t.Fatalf("input %q: Host %q forwarded as %q", clip(in), want.host, got.Host)
	case !bytes.Equal(gotBody, body):
		t.Fatalf("input %q: body %q forwarded as %q", clip(in), clip(body), clip(gotBody))
	}
	for k, vv := range want.header {
		if !sameValues(got.Header[k], vv) {
			t.Fatalf("input %q: %s %q forwarded as %q", clip(in), k, vv, got.Header[k])
		}
	}
	for k, vv := range got.Header {
		if _, ok := want.header[k]; !ok && !strings.HasPrefix(k, "X-Forwarded-") && k != "Content-Length" && k != "Te" && k != "Trailer" {
			t.Fatalf("input %q: forwarded request has %s %q the client did not send", clip(in), k, vv)
		}
	}
	for k, vv := range want.trailer {
		if hopByHop(k) || k == "Content-Length" || !httpsyntax.ValidToken(k) || len(vv) == 0 {
			continue
		}
		if !sameValues(got.Trailer[k], vv) {
			t.Fatalf("input %q: trailer %s %q forwarded as %q", clip(in), k, vv, got.Trailer[k])
		}
	}
}

// sameValues compares field values without the whitespace around them,
// which is not part of a value (RFC 9110 §5.5; an obs-fold unfolded by
// net/http may leave some).
func sameValues(a, b []string) bool {
	return slices.EqualFunc(a, b, func(x, y string) bool { return strings.Trim(x, " \t") == strings.Trim(y, " \t") })
}

// requestCases are client requests around the smuggling traps (each is
// also a fuzz seed); rejected tells that the front (net/http's server)
// must refuse it, with a 4xx (or 501), or cut it off before the worker has a
// complete request. Two traps net/http's server takes, by design of
// RFC 9112: Content-Length with Transfer-Encoding: chunked (the chunked
// framing wins and Content-Length is dropped: the worker gets it chunked
// only) and obs-fold (unfolded into one line with a space). The lean loop
// (internal/http1) rejects both (leanRejects), as RFC 9112 allows.
var requestCases = []struct {
	name        string
	in          string
	rejected    bool
	leanRejects bool
}{
	{"get", "GET /a?b=c HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nX-A: 2\r\n\r\n", false, false},
	{"post length", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello", false, false},
	{"post chunked trailers", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n5\r\nhello\r\n0\r\nX-T: v\r\n\r\n", false, false},
	{"connection tokens", "GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, X-Drop\r\nX-Drop: 1\r\nX-Keep: 2\r\n\r\n", false, false},
	{"http10", "GET / HTTP/1.0\r\n\r\n", false, false},
	{"expect continue", "PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok", false, false},
	{"absolute form", "GET http://other/x HTTP/1.1\r\nHost: h\r\n\r\n", false, false},
	{"CL and TE", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", false, true},
	{"two CLs", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nokk", true, false},
	{"CL list", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2, 2\r\n\r\nok", true, false},
	{"TE gzip chunked", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", true, false},
	{"TE twice", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", true, false},
	{"obs-fold", "GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n 2\r\n\r\n", false, true},
	{"NUL in value", "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x00b\r\n\r\n", true, false},
	{"CR in value", "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\rb\r\n\r\n", true, false},
	{"space before colon", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length : 2\r\n\r\nok", true, false},
	{"two hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", true, false},
	{"chunk bare LF", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\nok\r\n0\r\n\r\n", true, false},
	{"chunk data bare LF", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\n0\r\n\r\n", true, false},
	{"chunk size overflow", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000002\r\nok\r\n0\r\n\r\n", true, false},
	{"chunk size hex prefix", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0x2\r\nok\r\n0\r\n\r\n", true, false},
	{"space in target", "GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", true, false},
}

// FuzzRequestForwarding feeds random client bytes to net/http's request
// parser (the front's) and checks what the forwarder writes for each
// request it takes (see diffRequest).
func FuzzRequestForwarding(f *testing.F) {
	for _, tc := range requestCases {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		diffRequest(t, in)
	})
}

// TestRequestSmugglingThroughFront sends each smuggling case to a front
// (net/http's server with Forward, answering a broken request body with
// 400 as poolctl's front does) in front of a worker that records every
// complete request it reads: a case the front must reject never reaches
// the worker complete (the client gets a 4xx), and one it takes reaches it
// as exactly one request with the client's body. The same bytes also go
// through diffRequest.
func TestRequestSmugglingThroughFront(t *testing.T) {
	type seen struct {
		method string
		body   string
	}
	got := make(chan seen, 16)
	addr := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		for {
			r, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			b, err := io.ReadAll(r.Body)
			if err != nil {
				return
			}
			got <- seen{r.Method, string(b)}
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	tg := NewTarget("tcp", addr, Options{})
	srv := newFrontServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		forwardOrRefuse(w, r, tg)
	}), false)
	t.Cleanup(func() {
		srv.Close()
		tg.Close()
	})
	for _, tc := range requestCases {
		t.Run(tc.name, func(t *testing.T) {
			diffRequest(t, []byte(tc.in))
			c, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(testTimeout))
			if _, err := io.WriteString(c, tc.in); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(c)
			var res *http.Response
			for res == nil || res.StatusCode < 200 {
				if res, err = http.ReadResponse(br, nil); err != nil {
					t.Fatalf("no answer: %v", err)
				}
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if tc.rejected || leanFront && tc.leanRejects {
				if (res.StatusCode < 400 || res.StatusCode >= 500) && res.StatusCode != http.StatusNotImplemented {
					t.Fatalf("status %d, want a 4xx refusal (or 501, net/http's answer to an unknown transfer coding)", res.StatusCode)
				}
				// A request the front forwarded would be in got by now: the
				// worker records it before it answers, and the client had
				// the front's answer.
				select {
				case s := <-got:
					t.Fatalf("the worker got %s with body %q", s.method, s.body)
				default:
				}
				return
			}
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200", res.StatusCode)
			}
			s := wait(t, got, "the forwarded request")
			_, body, _ := clientRequest([]byte(tc.in))
			if s.body != string(body) {
				t.Fatalf("worker got body %q, want %q", s.body, body)
			}
		})
	}
	select {
	case s := <-got:
		t.Fatalf("the worker got an extra request %s with body %q", s.method, s.body)
	default:
	}
}
