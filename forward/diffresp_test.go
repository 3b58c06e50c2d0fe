package forward

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
)

// countReader counts the bytes read through it.
type countReader struct {
	r io.Reader
	n int
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// parsedResponse is what a parser made of a worker's response bytes.
type parsedResponse struct {
	status   int
	header   http.Header // end-to-end fields only (poolctl relays no others)
	body     []byte
	trailer  http.Header
	consumed int  // bytes of input the response took
	untilEOF bool // the body ran to the end of the input
	chunked  bool // the body was chunked (it may have trailers)
}

// poolctlResponse parses in as the worker's answer to a method request
// with the forwarder's own parser (readHead, inspect, relay), as
// roundTrip does, relaying into a recorder.
func poolctlResponse(method string, in []byte) (parsedResponse, error) {
	var p parsedResponse
	cr := &countReader{r: bytes.NewReader(in)}
	c := &conn{}
	c.br = bufio.NewReaderSize(cr, readBufSize)
	for informational := 0; ; {
		if _, err := c.readHead(); err != nil {
			return p, err
		}
		s := c.head.status
		if s >= 200 {
			break
		}
		if s == http.StatusSwitchingProtocols {
			return p, fmt.Errorf("%w: 101 to a request without Upgrade", ErrBadResponse)
		}
		if informational++; informational > maxInformational {
			return p, fmt.Errorf("%w: too many 1xx responses", ErrBadResponse)
		}
	}
	rec := httptest.NewRecorder()
	r := httptest.NewRequest(method, "/", nil)
	info, err := c.inspect(method)
	if err != nil {
		return p, err
	}
	if _, err := c.relay(rec, r); err != nil {
		return p, err
	}
	res := rec.Result()
	p.status = res.StatusCode
	p.header = res.Header
	p.body = rec.Body.Bytes()
	p.trailer = res.Trailer
	p.consumed = cr.n - c.br.Buffered()
	p.untilEOF = info.frame == frameClose
	p.chunked = info.frame == frameChunked
	return p, nil
}

// netResponse parses in as the answer to a method request with net/http's
// client parser (http.ReadResponse, skipping 1xx answers as the client
// does, reading the body to its end).
func netResponse(method string, in []byte) (parsedResponse, error) {
	var p parsedResponse
	cr := &countReader{r: bytes.NewReader(in)}
	br := bufio.NewReader(cr)
	req := &http.Request{Method: method}
	var res *http.Response
	for informational := 0; ; informational++ {
		var err error
		res, err = http.ReadResponse(br, req)
		if err != nil {
			return p, err
		}
		if res.StatusCode >= 200 || res.StatusCode == http.StatusSwitchingProtocols || informational > maxInformational {
			break
		}
	}
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return p, err
	}
	p.status = res.StatusCode
	p.header = res.Header
	p.body = body
	p.trailer = res.Trailer
	p.consumed = cr.n - br.Buffered()
	return p, nil
}

// diffResponse fails when the forwarder accepts a response that net/http's
// client rejects, or when both accept it but disagree on its status, body,
// end-to-end header values or where it ends on the connection (the
// response-splitting risk on a kept-alive worker connection).
func diffResponse(t *testing.T, method string, in []byte) (accepted bool) {
	t.Helper()
	ours, oerr := poolctlResponse(method, in)
	theirs, nerr := netResponse(method, in)
	if oerr != nil {
		return false
	}
	if nerr != nil {
		t.Fatalf("%s response %q: forward accepts it (status %d, body %q), net/http rejects it: %v", method, clip(in), ours.status, clip(ours.body), nerr)
	}
	if ours.status != theirs.status || !bytes.Equal(ours.body, theirs.body) {
		t.Fatalf("%s response %q: forward reads status %d body %q, net/http status %d body %q", method, clip(in), ours.status, clip(ours.body), theirs.status, clip(theirs.body))
	}
	if !ours.untilEOF && ours.consumed != theirs.consumed {
		t.Fatalf("%s response %q: forward ends it after %d bytes, net/http after %d", method, clip(in), ours.consumed, theirs.consumed)
	}
	for k, vv := range ours.header {
		if k == "Content-Type" && len(vv) == 0 || k == "Content-Length" || k == "Trailer" {
			continue // the forwarder's own marks and framing
		}
		if !slices.Equal(vv, theirs.header[k]) {
			t.Fatalf("%s response %q: forward relays %s: %q, net/http reads %q", method, clip(in), k, vv, theirs.header[k])
		}
	}
	for k, vv := range ours.trailer {
		if h, ok := ours.header[k]; ok && slices.Equal(h, vv) || !ours.chunked {
			// The recorder reports a declared trailer name that is also a
			// header as a trailer with the header's values; and only a
			// chunked body has trailers.
			continue
		}
		if !slices.Equal(vv, theirs.trailer[k]) {
			t.Fatalf("%s response %q: forward relays trailer %s: %q, net/http reads %q", method, clip(in), k, vv, theirs.trailer[k])
		}
	}
	return true
}

// responseCases are worker answers that a response parser must get right:
// the framing and smuggling traps, each with whether the forwarder must
// accept it.
var responseCases = []struct {
	name   string
	in     string
	accept bool
}{
	{"plain", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello", true},
	{"no reason", "HTTP/1.1 204\r\n\r\n", true},
	{"http10 close", "HTTP/1.0 200 OK\r\n\r\nuntil close", true},
	{"chunked trailers", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n5;e=1\r\nhello\r\n0\r\nX-T: yes\r\n\r\n", true},
	{"chunk size BWS", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n", true},
	{"continue then 200", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", true},
	{"same CL twice", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok", true},
	{"CL and TE", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", true},
	{"length past the end", "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", false},
	{"obs-text value", "HTTP/1.1 200 OK\r\nX-A: caf\xc3\xa9\r\nContent-Length: 0\r\n\r\n", true},
	{"tab in value", "HTTP/1.1 200 OK\r\nX-A: a\tb\r\nContent-Length: 0\r\n\r\n", true},

	{"two CLs", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nokk", false},
	{"two CL spellings", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 02\r\n\r\nok", false},
	{"CL list", "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok", false},
	{"CL sign", "HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok", false},
	{"TE gzip chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", false},
	{"TE twice", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", false},
	{"TE identity", "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\nok", false},
	{"obs-fold", "HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\nContent-Length: 0\r\n\r\n", false},
	{"NUL in value", "HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 0\r\n\r\n", false},
	{"CTL in value", "HTTP/1.1 200 OK\r\nX-A: a\x01b\r\nContent-Length: 0\r\n\r\n", false},
	{"DEL in value", "HTTP/1.1 200 OK\r\nX-A: a\x7fb\r\nContent-Length: 0\r\n\r\n", false},
	{"CR in value", "HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 0\r\n\r\n", false},
	{"space before colon", "HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok", false},
	{"bad version", "HTTP/1.x 200 OK\r\nContent-Length: 0\r\n\r\n", false},
	{"chunk bare LF", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\nok\r\n0\r\n\r\n", false},
	{"chunk data bare LF", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\n0\r\n\r\n", false},
	{"chunk data no CRLF", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX0\r\n\r\n", false},
	{"chunk size overflow", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000002\r\nok\r\n0\r\n\r\n", false},
	{"chunk size 16 digits", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0000000000000002\r\nok\r\n0\r\n\r\n", false},
	{"chunk size hex prefix", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x2\r\nok\r\n0\r\n\r\n", false},
	{"chunk size negative", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-2\r\nok\r\n0\r\n\r\n", false},
	{"chunk BWS before ext", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2 ;x\r\nok\r\n0\r\n\r\n", false},
	{"chunk CR in line", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r;x\r\nok\r\n0\r\n\r\n", false},
	{"chunk line too long", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;" + string(bytes.Repeat([]byte("x"), 4100)) + "\r\nok\r\n0\r\n\r\n", false},
	{"chunk line 4096", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;" + string(bytes.Repeat([]byte("x"), 4092)) + "\r\nok\r\n0\r\n\r\n", true},
	{"chunk line 4097", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;" + string(bytes.Repeat([]byte("x"), 4093)) + "\r\nok\r\n0\r\n\r\n", false},
	{"chunk extensions flood", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + string(bytes.Repeat([]byte("1;"+string(bytes.Repeat([]byte("e"), 500))+"\r\nx\r\n"), 40)) + "0\r\n\r\n", false},
	{"trailer obs-fold", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: 1\r\n 2\r\n\r\n", false},
	{"http10 chunked", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", false},
	{"chunk size LF only", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\n", false},
	{"trailer bare LF", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: 1\n\r\n", false},
	{"trailer end bare LF", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\n", false},
	{"trailer too long", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: " + string(bytes.Repeat([]byte("t"), 5000)) + "\r\n\r\n", false},
	{"101 unasked", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n", false},
}

// TestResponseParserAgainstNetHTTP checks the forwarder's response parser
// on the smuggling and framing cases: it accepts what it must, rejects
// what it must, and never accepts what net/http's client rejects or reads
// a response differently from it.
func TestResponseParserAgainstNetHTTP(t *testing.T) {
	for _, tc := range responseCases {
		t.Run(tc.name, func(t *testing.T) {
			for _, method := range []string{http.MethodGet, http.MethodHead} {
				got := diffResponse(t, method, []byte(tc.in))
				if method == http.MethodGet && got != tc.accept {
					_, err := poolctlResponse(method, []byte(tc.in))
					t.Fatalf("%s: forward accepts=%v (err %v), want %v", tc.name, got, err, tc.accept)
				}
			}
		})
	}
}

// FuzzResponseParser feeds random worker answers to the forwarder's
// response parser and to net/http's (see diffResponse). head selects a
// HEAD request (no body whatever the framing says).
func FuzzResponseParser(f *testing.F) {
	for _, tc := range responseCases {
		f.Add(false, []byte(tc.in))
	}
	f.Add(true, []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"))
	f.Fuzz(func(t *testing.T, head bool, in []byte) {
		method := http.MethodGet
		if head {
			method = http.MethodHead
		}
		_ = diffResponse(t, method, in)
	})
}
