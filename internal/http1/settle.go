package http1

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/poolctl/poolctl/internal/httpsyntax"
)

// settleRequest checks the fields that frame and route the request and
// sets the *http.Request fields they decide, as net/http's ReadRequest
// does, stricter where a lenient reading lets a request be smuggled.
func settleRequest(r *http.Request) error {
	h := r.Header
	if err := settleHost(r); err != nil {
		return err
	}
	te, hasTE := h["Transfer-Encoding"]
	cl, hasCL := h["Content-Length"]
	switch {
	case hasTE && hasCL:
		return bad("both Content-Length and Transfer-Encoding")
	case hasTE:
		if r.ProtoMinor == 0 {
			return bad("Transfer-Encoding in an HTTP/1.0 request")
		}
		if len(te) != 1 || !strings.EqualFold(te[0], "chunked") {
			return &headError{status: http.StatusNotImplemented, msg: "unsupported Transfer-Encoding " + strconv.Quote(clip(strings.Join(te, ",")))}
		}
		delete(h, "Transfer-Encoding")
		r.TransferEncoding = []string{"chunked"}
		r.ContentLength = -1
	case hasCL:
		n, ok := parseContentLength(cl[0])
		if !ok {
			return bad("invalid Content-Length %q", clip(cl[0]))
		}
		for _, v := range cl[1:] {
			if v != cl[0] {
				return bad("differing Content-Length values")
			}
		}
		if len(cl) > 1 {
			h["Content-Length"] = cl[:1:1]
		}
		r.ContentLength = n
	}
	r.Close = shouldClose(r)
	if err := settleTrailer(r); err != nil {
		return err
	}
	return settleExpect(r)
}

// settleHost sets r.Host and takes the Host field out of the header.
func settleHost(r *http.Request) error {
	hosts, ok := r.Header["Host"]
	if len(hosts) > 1 {
		return bad("more than one Host field")
	}
	if !ok && r.ProtoMinor >= 1 {
		return bad("missing required Host header")
	}
	if ok && !validHost(hosts[0]) {
		return bad("invalid Host %q", clip(hosts[0]))
	}
	delete(r.Header, "Host")
	r.Host = r.URL.Host
	if r.Host == "" && ok {
		r.Host = hosts[0]
	}
	return nil
}

// parseContentLength parses a Content-Length value: decimal digits only,
// within int64.
func parseContentLength(v string) (int64, bool) {
	if v == "" || len(v) > 19 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(v); i++ {
		if !isDigit(v[i]) {
			return 0, false
		}
		n = n*10 + int64(v[i]-'0')
	}
	return n, n >= 0
}

// shouldClose reports whether the connection ends after this request:
// HTTP/1.0 unless the client asks to keep it, HTTP/1.1 when the client
// says close. (The Connection field stays in the header, as net/http's
// server leaves it.)
func shouldClose(r *http.Request) bool {
	conn := r.Header["Connection"]
	closeTok := httpsyntax.HasToken(conn, "close")
	if r.ProtoMinor == 0 {
		return closeTok || !httpsyntax.HasToken(conn, "keep-alive")
	}
	return closeTok
}

// settleTrailer sets r.Trailer from the Trailer field of a chunked
// request (keys now, values once the body is read); the field is dropped.
func settleTrailer(r *http.Request) error {
	vv, ok := r.Header["Trailer"]
	if !ok || r.ContentLength != -1 {
		return nil
	}
	delete(r.Header, "Trailer")
	var err error
	httpsyntax.ForEachToken(vv, func(tok string) bool {
		key := http.CanonicalHeaderKey(tok)
		if !httpsyntax.ValidToken(key) || forbiddenTrailer(key) {
			err = bad("bad trailer key %q", clip(key))
			return false
		}
		if r.Trailer == nil {
			r.Trailer = http.Header{}
		}
		r.Trailer[key] = nil
		return true
	})
	return err
}

// forbiddenTrailer reports the fields a trailer may not carry.
func forbiddenTrailer(key string) bool {
	switch key {
	case "Transfer-Encoding", "Trailer", "Content-Length", "Host":
		return true
	}
	return false
}

// settleExpect refuses an expectation the server cannot meet (417), as
// net/http's server does: any Expect but 100-continue. 100-continue is met
// (expectsContinue) on an HTTP/1.1 request with a body, and ignored
// otherwise.
func settleExpect(r *http.Request) error {
	ex, ok := r.Header["Expect"]
	if !ok || httpsyntax.HasToken(ex[:1], "100-continue") {
		return nil
	}
	return &headError{status: http.StatusExpectationFailed, msg: "unsupported Expect " + strconv.Quote(clip(strings.Join(ex, ",")))}
}

// expectsContinue reports whether r waits for 100 Continue before its
// body.
func expectsContinue(r *http.Request) bool {
	ex := r.Header["Expect"]
	return len(ex) > 0 && r.ProtoMinor >= 1 && r.ContentLength != 0 && httpsyntax.HasToken(ex[:1], "100-continue")
}
