package http1

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

// The request-head parser and the chunked decoder read bytes from any
// client, for a root process: fuzzed for panics and self-consistency, and
// compared with net/http (stdlib_test.go) on the same bytes. A failure is
// an input this package accepts and net/http's server refuses (a request
// smuggling risk: the two would frame or route the bytes differently), or
// one both accept and read differently.
//
// Deliberate differences, not failures:
//   - This package refuses more: Content-Length with Transfer-Encoding
//     (net/http drops the Content-Length), bare LF line ends, obs-fold,
//     Transfer-Encoding in HTTP/1.0 (net/http ignores it), HTTP/1.1
//     CONNECT without Host, "PRI * HTTP/2.0", more than MaxHeaderFields
//     fields, Host among the declared trailers, a Content-Length of more
//     than 19 digits (leading zeros).
//   - Pragma: no-cache without Cache-Control: net/http adds
//     "Cache-Control: no-cache" to the request's header; this package
//     passes the header as the client sent it.
//   - Trailer fields a trailer may not carry (Content-Length,
//     Transfer-Encoding, Trailer, Host) are dropped; net/http keeps them in
//     Request.Trailer.
//   - Limits: a chunk-size line may have 4096 bytes and a trailer
//     MaxHeaderBytes (1 MiB); net/http stops at its 4 KiB read buffer.

// headCases are request heads on the edges where parsers disagree, with
// the status parseHead must give (0: accepted).
var headCases = []struct {
	name   string
	in     string
	status int
}{
	{"CL+TE", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
	{"TE+CL", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400},
	{"CL+TE gzip", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: gzip\r\n\r\n", 400},
	{"duplicate differing CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400},
	{"duplicate differing CL case", "POST / HTTP/1.1\r\nHost: a\r\ncontent-length: 5\r\nContent-Length: 6\r\n\r\n", 400},
	{"duplicate equal CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", 0},
	{"duplicate CL leading zero", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 05\r\n\r\n", 400},
	{"CL list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n", 400},
	{"CL plus", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", 400},
	{"CL minus", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -5\r\n\r\n", 400},
	{"CL minus zero", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -0\r\n\r\n", 400},
	{"CL OWS", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \t 5 \t\r\n\r\n", 0},
	{"CL inner space", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5 0\r\n\r\n", 400},
	{"CL hex", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\n", 400},
	{"CL underscore", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5_0\r\n\r\n", 400},
	{"CL exponent", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1e3\r\n\r\n", 400},
	{"CL empty", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 400},
	{"CL max int64", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775807\r\n\r\n", 0},
	{"CL 2^63", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775808\r\n\r\n", 400},
	{"CL 19 nines", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9999999999999999999\r\n\r\n", 400},
	{"CL 2^64+5", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551621\r\n\r\n", 400},
	{"CL leading zeros", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0005\r\n\r\n", 0},
	{"CL 20 digits leading zero", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 00000000000000000005\r\n\r\n", 400},
	{"CL on GET", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", 0},
	{"CL 0", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", 0},
	{"CL unicode digit", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \xd9\xa5\r\n\r\n", 400},
	{"obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 400},
	{"obs-fold of TE", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n", 400},
	{"bare LF", "GET / HTTP/1.1\nHost: a\n\n", 400},
	{"bare LF in field", "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", 400},
	{"bare CR in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400},
	{"bare CR at end of value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\r\n\r\n", 400},
	{"NUL in name", "GET / HTTP/1.1\r\nHost: a\r\nX\x00Y: b\r\n\r\n", 400},
	{"NUL in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n", 400},
	{"space before colon", "GET / HTTP/1.1\r\nHost: a\r\nX : b\r\n\r\n", 400},
	{"space before colon TE", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n", 400},
	{"tab in name", "GET / HTTP/1.1\r\nHost: a\r\nX\tY: b\r\n\r\n", 400},
	{"TE chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", 0},
	{"TE Chunked OWS", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:  Chunked \t\r\n\r\n", 0},
	{"TE chunked on GET", "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", 0},
	{"TE gzip, chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
	{"TE chunked, identity", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n", 501},
	{"TE twice", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 501},
	{"TE chunked comma", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked,\r\n\r\n", 501},
	{"TE xchunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n", 501},
	{"TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400},
	{"TE in HTTP/1.0 alone", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
	{"Trailer declared", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTrailer: x-a, X-B\r\n\r\n", 0},
	{"Trailer not chunked", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTrailer: X-A\r\n\r\n", 0},
	{"Trailer Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTrailer: Content-Length\r\n\r\n", 400},
	{"Trailer Host", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTrailer: Host\r\n\r\n", 400},
	{"multiple Host", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
	{"multiple Host case", "GET / HTTP/1.1\r\nHost: a\r\nhOST: a\r\n\r\n", 400},
	{"missing Host", "GET / HTTP/1.1\r\n\r\n", 400},
	{"empty Host", "GET / HTTP/1.1\r\nHost:\r\n\r\n", 0},
	{"Host with port", "GET / HTTP/1.1\r\nHost: a.example:8080\r\n\r\n", 0},
	{"Host IPv6", "GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n", 0},
	{"Host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400},
	{"Host with slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400},
	{"Host 8-bit", "GET / HTTP/1.1\r\nHost: \xc3\xa9\r\n\r\n", 400},
	{"absolute form, Host mismatch", "GET http://b.example/x?y HTTP/1.1\r\nHost: a.example\r\n\r\n", 0},
	{"absolute form https userinfo", "GET https://u:p@b.example:8443/x HTTP/1.1\r\nHost: a\r\n\r\n", 0},
	{"absolute form without Host field", "GET http://b.example/ HTTP/1.1\r\n\r\n", 400},
	{"absolute form empty host", "GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", 0},
	{"scheme-relative target", "GET //evil.example/x HTTP/1.1\r\nHost: a\r\n\r\n", 0},
	{"CONNECT authority", "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n", 0},
	{"CONNECT path", "CONNECT /rpc HTTP/1.1\r\nHost: a\r\n\r\n", 0},
	{"CONNECT without Host", "CONNECT a.example:443 HTTP/1.1\r\n\r\n", 400},
	{"CONNECT bad port", "CONNECT a:b:c HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	{"OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 0},
	{"GET *", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", 0},
	{"HTTP/1.0 without Host", "GET / HTTP/1.0\r\n\r\n", 0},
	{"HTTP/1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 0},
	{"HTTP/1.0 keep-alive, close", "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", 0},
	{"HTTP/1.1 close", "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 0},
	{"HTTP/1.1 close list", "GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade, CLOSE\r\n\r\n", 0},
	{"HTTP/1.2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", 0},
	{"HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},
	{"PRI", "PRI * HTTP/2.0\r\n\r\n", 505},
	{"HTTP/0.9", "GET / HTTP/0.9\r\n\r\n", 505},
	{"HTTP/1.10", "GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400},
	{"HTTP/1", "GET / HTTP/1\r\nHost: a\r\n\r\n", 400},
	{"lowercase version", "GET / http/1.1\r\nHost: a\r\n\r\n", 400},
	{"no version", "GET /\r\nHost: a\r\n\r\n", 400},
	{"tab separators", "GET\t/\tHTTP/1.1\r\nHost: a\r\n\r\n", 400},
	{"two spaces", "GET /  HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	{"lowercase method", "get / HTTP/1.1\r\nHost: a\r\n\r\n", 0},
	{"odd method", "M-SEARCH * HTTP/1.1\r\nHost: a\r\n\r\n", 0},
	{"leading CRLF", "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	{"target 8-bit", "GET /\xff\xfe HTTP/1.1\r\nHost: a\r\n\r\n", 0},
	{"target bad escape", "GET /%zz HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	{"target fragment", "GET /a?b#c HTTP/1.1\r\nHost: a\r\n\r\n", 0},
	{"relative target", "GET a HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	{"8-bit value", "GET / HTTP/1.1\r\nHost: a\r\nX: caf\xc3\xa9 \xff\x80\r\n\r\n", 0},
	{"8-bit name", "GET / HTTP/1.1\r\nHost: a\r\nX\xc3\xa9: b\r\n\r\n", 400},
	{"DEL in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n", 400},
	{"HTAB in value", "GET / HTTP/1.1\r\nHost: a\r\nX: \ta\tb\t\r\n\r\n", 0},
	{"empty values", "GET / HTTP/1.1\r\nHost: a\r\nX:\r\nY:   \r\n\r\n", 0},
	{"merged fields", "GET / HTTP/1.1\r\nHost: a\r\nx-a: 1\r\nX-A: 2\r\nx-A: 3\r\n\r\n", 0},
	{"underscore name", "GET / HTTP/1.1\r\nHost: a\r\nx_forwarded_for: 1\r\n\r\n", 0},
	{"odd token name", "GET / HTTP/1.1\r\nHost: a\r\n!#$%&'*+-.^_`|~: 1\r\n\r\n", 0},
	{"colon in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a:b: c\r\n\r\n", 0},
	{"Pragma no-cache", "GET / HTTP/1.1\r\nHost: a\r\nPragma: no-cache\r\n\r\n", 0},
	{"Expect 100-continue", "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n", 0},
	{"Expect 100-continue GET", "GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n", 0},
	{"Expect other", "POST / HTTP/1.1\r\nHost: a\r\nExpect: x\r\nContent-Length: 1\r\n\r\n", 417},
	{"Expect HTTP/1.0", "POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n", 0},
	{"Expect other HTTP/1.0", "POST / HTTP/1.0\r\nExpect: x\r\nContent-Length: 1\r\n\r\n", 417},
	{"Expect twice", "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nExpect: x\r\nContent-Length: 1\r\n\r\n", 0},
	{"Expect list", "POST / HTTP/1.1\r\nHost: a\r\nExpect: x, 100-continue\r\nContent-Length: 1\r\n\r\n", 0},
	{"Expect other first", "POST / HTTP/1.1\r\nHost: a\r\nExpect: x\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n", 417},
	{"very long value", "GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("v", 64<<10) + "\r\n\r\n", 0},
	{"very long target", "GET /" + strings.Repeat("t", 64<<10) + " HTTP/1.1\r\nHost: a\r\n\r\n", 0},
	{"very long name", "GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("N", 64<<10) + ": v\r\n\r\n", 0},
	{"256 fields", "GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("A: 1\r\n", 255) + "\r\n", 0},
	{"257 fields", "GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("A: 1\r\n", 256) + "\r\n", 431},
	{"incomplete", "GET / HTTP/1.1\r\nHost: a\r\n", 400},
	{"empty", "", 400},
	{"only CRLF CRLF", "\r\n\r\n", 400},
}

// TestParseHeadAgainstNetHTTP feeds each edge case to parseHead and to
// net/http: parseHead must give the listed status, must not accept what
// net/http refuses, and where both accept they must read the same request.
func TestParseHeadAgainstNetHTTP(t *testing.T) {
	for _, tc := range headCases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := parseHead([]byte(tc.in), 0)
			status := 0
			if err != nil {
				var he *headError
				if !errors.As(err, &he) {
					t.Fatalf("error %v is not a *headError", err)
				}
				status = he.status
			}
			if status != tc.status {
				t.Errorf("parseHead: status %d (%v), want %d", status, err, tc.status)
			}
			checkHead(t, []byte(tc.in), 0, r, err)
			compareHead(t, []byte(tc.in), r)
		})
	}
}

// FuzzParseHead: parseHead never panics, returns a self-consistent
// request or a *headError, and never accepts what net/http refuses nor
// reads a head differently.
func FuzzParseHead(f *testing.F) {
	for _, tc := range headCases {
		if len(tc.in) < 4096 {
			f.Add([]byte(tc.in))
		}
	}
	for _, tc := range rejectCases {
		if head, _, ok := strings.Cut(tc.in, "\r\n\r\n"); ok && len(head) < 4096 {
			f.Add([]byte(head + "\r\n\r\n"))
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := parseHead(in, 0)
		checkHead(t, in, 0, r, err)
		compareHead(t, in, r)
		if err == nil {
			// The field limit counts every field line.
			n := bytes.Count(in, []byte("\r\n")) - 2
			if _, err := parseHead(in, n); err != nil {
				t.Fatalf("refused with maxFields %d = its field count: %v", n, err)
			}
			if n > 1 { // maxFields 0 is the default
				var he *headError
				if _, err := parseHead(in, n-1); !errors.As(err, &he) || he.status != http.StatusRequestHeaderFieldsTooLarge {
					t.Fatalf("maxFields %d for %d fields: %v, want 431", n-1, n, err)
				}
			}
		}
	})
}

// checkHead checks parseHead's result for in: a *headError with a status
// of the contract, or a request consistent with itself and with in.
func checkHead(t *testing.T, in []byte, maxFields int, r *http.Request, err error) {
	t.Helper()
	if err != nil {
		var he *headError
		if !errors.As(err, &he) {
			t.Fatalf("error %v (%T) is not a *headError", err, err)
		}
		switch he.status {
		case 400, 417, 431, 501, 505:
		default:
			t.Fatalf("status %d", he.status)
		}
		if r != nil {
			t.Fatalf("a request with an error")
		}
		return
	}
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%q: "+format, append([]any{clipped(in)}, args...)...)
	}
	if !bytes.HasSuffix(in, []byte("\r\n\r\n")) || bytes.Count(in, []byte("\n")) != bytes.Count(in, []byte("\r\n")) ||
		bytes.Count(in, []byte("\r")) != bytes.Count(in, []byte("\r\n")) {
		fail("accepted with a line not ended by CRLF, or without the final empty line")
	}
	if bytes.Contains(in[:len(in)-2], []byte("\r\n\r\n")) {
		fail("accepted with an empty line inside the head")
	}
	if !refToken(r.Method) {
		fail("method %q", r.Method)
	}
	if r.ProtoMajor != 1 || r.ProtoMinor < 0 || r.ProtoMinor > 9 || r.Proto != fmt.Sprintf("HTTP/1.%d", r.ProtoMinor) {
		fail("protocol %q %d.%d", r.Proto, r.ProtoMajor, r.ProtoMinor)
	}
	if r.URL == nil || r.RequestURI == "" || strings.ContainsAny(r.RequestURI, " \t\r\n\x00\x7f") {
		fail("URL %v, RequestURI %q", r.URL, r.RequestURI)
	}
	if !bytes.HasPrefix(in, []byte(r.Method+" "+r.RequestURI+" "+r.Proto+"\r\n")) {
		fail("request line is not %q %q %q", r.Method, r.RequestURI, r.Proto)
	}
	if r.Header == nil {
		fail("nil Header")
	}
	if _, ok := r.Header["Host"]; ok {
		fail("Host in Header")
	}
	// The Host of an absolute-form or authority-form target is the URL's
	// (url.Parse allows bytes a Host field may not have, as with
	// net/http); a Host field's value has only host bytes. Neither may
	// hold a control byte or a space: the forwarder writes it in a head.
	if r.URL.Host != "" && r.Host != r.URL.Host || r.URL.Host == "" && !refValidHost(r.Host) ||
		strings.ContainsFunc(r.Host, func(c rune) bool { return c <= ' ' || c == 0x7f }) {
		fail("Host %q (URL host %q)", r.Host, r.URL.Host)
	}
	values := 0
	for k, vv := range r.Header {
		if !refToken(k) || http.CanonicalHeaderKey(k) != k {
			fail("header key %q", k)
		}
		for _, v := range vv {
			values++
			if !refValue(v) || strings.Trim(v, " \t") != v {
				fail("header %s value %q", k, v)
			}
		}
	}
	limit := maxFields
	if limit <= 0 {
		limit = 256
	}
	if values > limit {
		fail("%d field values for a limit of %d", values, limit)
	}
	if _, ok := r.Header["Transfer-Encoding"]; ok {
		fail("Transfer-Encoding left in Header")
	}
	switch {
	case r.ContentLength == -1:
		if !reflect.DeepEqual(r.TransferEncoding, []string{"chunked"}) {
			fail("ContentLength -1 with TransferEncoding %q", r.TransferEncoding)
		}
		if _, ok := r.Header["Content-Length"]; ok {
			fail("chunked with a Content-Length field")
		}
		if r.ProtoMinor == 0 {
			fail("chunked HTTP/1.0 request")
		}
	case r.ContentLength < -1:
		fail("ContentLength %d", r.ContentLength)
	default:
		if r.TransferEncoding != nil {
			fail("TransferEncoding %q without chunked framing", r.TransferEncoding)
		}
		cl, ok := r.Header["Content-Length"]
		if ok {
			n, perr := strconv.ParseInt(cl[0], 10, 64)
			if len(cl) != 1 || perr != nil || n != r.ContentLength || strings.Trim(cl[0], "0123456789") != "" {
				fail("Content-Length field %q, ContentLength %d", cl, r.ContentLength)
			}
		} else if r.ContentLength != 0 {
			fail("ContentLength %d without a Content-Length field", r.ContentLength)
		}
		if r.Trailer != nil {
			fail("Trailer %v without chunked framing", r.Trailer)
		}
	}
	for k, v := range r.Trailer {
		if v != nil || !refToken(k) || http.CanonicalHeaderKey(k) != k {
			fail("Trailer %q: %q", k, v)
		}
		switch k {
		case "Content-Length", "Transfer-Encoding", "Trailer", "Host":
			fail("forbidden trailer %q declared", k)
		}
	}
	// As net/http: the first Expect value must list 100-continue.
	if ex, ok := r.Header["Expect"]; ok && !refHasToken(ex[0], "100-continue") {
		fail("Expect %q accepted", ex)
	}
}

// compareHead compares parseHead's reading of in (r, nil when refused)
// with net/http's server's.
func compareHead(t *testing.T, in []byte, r *http.Request) {
	t.Helper()
	std, status := stdlibServerHead(in)
	if r == nil {
		return // refusing more than net/http is allowed
	}
	if std == nil {
		t.Fatalf("%q: parseHead accepts a head net/http's server answers %d", clipped(in), status)
	}
	var diffs []string
	check := func(what string, ours, theirs any) {
		if !reflect.DeepEqual(ours, theirs) {
			diffs = append(diffs, fmt.Sprintf("%s: ours %#v, net/http %#v", what, ours, theirs))
		}
	}
	check("Method", r.Method, std.Method)
	check("URL", r.URL.String(), std.URL.String())
	check("*URL", *r.URL, *std.URL)
	check("RequestURI", r.RequestURI, std.RequestURI)
	check("Proto", []any{r.Proto, r.ProtoMajor, r.ProtoMinor}, []any{std.Proto, std.ProtoMajor, std.ProtoMinor})
	check("Host", r.Host, std.Host)
	check("Header", normalisedHeader(r, std), std.Header)
	check("ContentLength", r.ContentLength, std.ContentLength)
	check("TransferEncoding", len(r.TransferEncoding) > 0, len(std.TransferEncoding) > 0)
	if len(std.TransferEncoding) > 0 {
		check("TransferEncoding", r.TransferEncoding, std.TransferEncoding)
	}
	check("Close", r.Close, std.Close)
	check("Trailer", r.Trailer, std.Trailer)
	if len(diffs) > 0 {
		t.Fatalf("%q: parseHead and net/http read it differently:\n%s", clipped(in), strings.Join(diffs, "\n"))
	}
}

// normalisedHeader is r's header with the deliberate differences from
// net/http's std (see the top of this file) undone.
func normalisedHeader(r, std *http.Request) http.Header {
	h := r.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	if p := h["Pragma"]; len(p) > 0 && p[0] == "no-cache" {
		if _, ok := h["Cache-Control"]; !ok {
			h["Cache-Control"] = []string{"no-cache"}
		}
	}
	return h
}

// chunkedCases are chunked bodies (with trailers) on the edges.
var chunkedCases = []struct{ name, in string }{
	{"simple", "5\r\nhello\r\n0\r\n\r\n"},
	{"two chunks", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"},
	{"upper hex", "A\r\n0123456789\r\n0\r\n\r\n"},
	{"leading zeros", "0005\r\nhello\r\n000\r\n\r\n"},
	{"16 hex digits", "0000000000000005\r\nhello\r\n0\r\n\r\n"},
	{"17 hex digits", "00000000000000005\r\nhello\r\n0\r\n\r\n"},
	{"size 2^63", "8000000000000000\r\nhello\r\n0\r\n\r\n"},
	{"size 2^64-1", "ffffffffffffffff\r\nhello\r\n0\r\n\r\n"},
	{"extension", "5;a=b\r\nhello\r\n0;last\r\n\r\n"},
	{"quoted extension", "5;a=\"x;y\\\"z\"\r\nhello\r\n0\r\n\r\n"},
	{"space before extension", "5 ;a=b\r\nhello\r\n0\r\n\r\n"},
	{"tab after size", "5\t\r\nhello\r\n0\r\n\r\n"},
	{"space after size", "5 \r\nhello\r\n0\r\n\r\n"},
	{"space before size", " 5\r\nhello\r\n0\r\n\r\n"},
	{"plus size", "+5\r\nhello\r\n0\r\n\r\n"},
	{"0x size", "0x5\r\nhello\r\n0\r\n\r\n"},
	{"empty size", "\r\nhello\r\n0\r\n\r\n"},
	{"bare LF size line", "5\nhello\r\n0\r\n\r\n"},
	{"bare LF after data", "5\r\nhello\n0\r\n\r\n"},
	{"CR in size line", "5\r;x\r\nhello\r\n0\r\n\r\n"},
	{"data too long", "5\r\nhello!\r\n0\r\n\r\n"},
	{"data too short", "5\r\nhell\r\n0\r\n\r\n"},
	{"no last chunk", "5\r\nhello\r\n"},
	{"no final CRLF", "5\r\nhello\r\n0\r\n"},
	{"trailer", "5\r\nhello\r\n0\r\nX-A: 1\r\nx-b: 2\r\nX-A: 3\r\n\r\n"},
	{"trailer forbidden fields", "5\r\nhello\r\n0\r\nContent-Length: 1\r\nHost: h\r\nX-A: 1\r\n\r\n"},
	{"trailer obs-fold", "5\r\nhello\r\n0\r\nX-A: 1\r\n 2\r\n\r\n"},
	{"trailer bare LF", "5\r\nhello\r\n0\r\nX-A: 1\n\r\n"},
	{"trailer no colon", "5\r\nhello\r\n0\r\nX-A\r\n\r\n"},
	{"trailer space before colon", "5\r\nhello\r\n0\r\nX-A : 1\r\n\r\n"},
	{"trailer NUL", "5\r\nhello\r\n0\r\nX-A: \x00\r\n\r\n"},
	{"trailer not ended", "5\r\nhello\r\n0\r\nX-A: 1\r\n"},
	{"size line 4094 bytes", "5;" + strings.Repeat("e", 4092) + "\r\nhello\r\n0\r\n\r\n"},
	{"size line 4097 bytes", "5;" + strings.Repeat("e", 4095) + "\r\nhello\r\n0\r\n\r\n"},
	{"extension overhead", strings.Repeat("1;"+strings.Repeat("e", 4000)+"\r\nx\r\n", 6) + "0\r\n\r\n"},
	{"many 1-byte chunks", strings.Repeat("1\r\nx\r\n", 3000) + "0\r\n\r\n"},
	{"CR in extension", "5;\r\r\nhello\r\n0\r\n\r\n"},
	{"CR in extension, data like a size", "5;\r\r\n00000\r\n0\r\n\r\n"},
	{"data then next request", "5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n"},
}

// TestDecodeChunkedAgainstNetHTTP decodes each edge case as the server
// does and as net/http does: decodeChunked must not accept what net/http
// refuses, and where both accept, the data and trailers must agree.
func TestDecodeChunkedAgainstNetHTTP(t *testing.T) {
	for _, tc := range chunkedCases {
		t.Run(tc.name, func(t *testing.T) {
			compareChunked(t, []byte(tc.in))
		})
	}
}

// FuzzDecodeChunked: the chunked decoder never panics, reads the same
// whatever the source's read sizes, and agrees with net/http.
func FuzzDecodeChunked(f *testing.F) {
	for _, tc := range chunkedCases {
		if len(tc.in) < 4096 {
			f.Add([]byte(tc.in))
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		compareChunked(t, in)
	})
}

// compareChunked checks decodeChunked on in against itself over a
// one-byte-at-a-time source and against net/http.
func compareChunked(t *testing.T, in []byte) {
	t.Helper()
	data, tr, err := decodeChunked(bytes.NewReader(in), 0, 0)
	data1, tr1, err1 := decodeChunked(iotest.OneByteReader(bytes.NewReader(in)), 0, 0)
	if (err == nil) != (err1 == nil) || err == nil && (!bytes.Equal(data, data1) || !reflect.DeepEqual(tr, tr1)) {
		t.Fatalf("%q: whole reads give %q %v (%v), one-byte reads %q %v (%v)", clipped(in), clipped(data), tr, err, clipped(data1), tr1, err1)
	}
	if err != nil {
		return
	}
	if len(data) > len(in) {
		t.Fatalf("%q: %d bytes decoded from %d", clipped(in), len(data), len(in))
	}
	ref, refTr, refErr := stdlibChunked(in)
	if refErr != nil {
		if chunkLimitDifference(in, refErr) {
			return
		}
		t.Fatalf("%q: decodeChunked accepts (%q) what net/http refuses: %v", clipped(in), clipped(data), refErr)
	}
	if !bytes.Equal(data, ref) {
		t.Fatalf("%q: decoded %q, net/http %q", clipped(in), clipped(data), clipped(ref))
	}
	for _, k := range []string{"Content-Length", "Transfer-Encoding", "Trailer", "Host"} {
		delete(refTr, k) // dropped, deliberately
	}
	if len(refTr) == 0 {
		refTr = nil
	}
	if len(tr) == 0 {
		tr = nil
	}
	if !reflect.DeepEqual(tr, refTr) {
		t.Fatalf("%q: trailer %v, net/http %v", clipped(in), tr, refTr)
	}
}

// chunkLimitDifference reports whether net/http refused in only for a
// size limit of its own that this package sets differently (see the top
// of this file): a chunk-size line of 4094 to 4096 bytes, or a trailer
// larger than net/http's 4 KiB buffer.
func chunkLimitDifference(in []byte, refErr error) bool {
	msg := refErr.Error()
	return len(in) > 4000 && (strings.Contains(msg, "line too long") || strings.Contains(msg, "trailer too long"))
}

// clipped shortens b for a failure message.
func clipped(b []byte) []byte {
	if len(b) > 300 {
		return append(b[:300:300], "..."...)
	}
	return b
}
