package http1

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httputil"
	"net/textproto"
	"strings"
)

// The reference for the differential tests: what net/http's server (the
// front's server before this package) does with the same bytes, written
// here from its documented and observed behaviour: http.ReadRequest, then
// the checks its Server makes before calling a handler.

// stdlibServerHead reads head as net/http's Server does and returns the
// request the handler would get, or the status it answers instead (0 when
// it serves the request).
func stdlibServerHead(head []byte) (*http.Request, int) {
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(head)))
	if err != nil {
		if strings.Contains(err.Error(), "unsupported transfer encoding") {
			return nil, http.StatusNotImplemented
		}
		return nil, http.StatusBadRequest
	}
	h2Upgrade := r.Method == "PRI" && r.RequestURI == "*" && r.Proto == "HTTP/2.0"
	if r.ProtoMajor != 1 && !h2Upgrade {
		return nil, http.StatusHTTPVersionNotSupported
	}
	// http.ReadRequest drops the Host field; the Server looks at it as
	// the client sent it.
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(head)))
	if _, err := tp.ReadLine(); err != nil {
		return nil, http.StatusBadRequest
	}
	fields, err := tp.ReadMIMEHeader()
	if err != nil {
		return nil, http.StatusBadRequest
	}
	hosts, haveHost := fields["Host"]
	if r.ProtoAtLeast(1, 1) && len(hosts) == 0 && !h2Upgrade && r.Method != http.MethodConnect {
		return nil, http.StatusBadRequest
	}
	if haveHost && len(hosts) == 1 && !refValidHost(hosts[0]) {
		return nil, http.StatusBadRequest
	}
	for k, vv := range fields {
		if !refToken(k) {
			return nil, http.StatusBadRequest
		}
		for _, v := range vv {
			if !refValue(v) {
				return nil, http.StatusBadRequest
			}
		}
	}
	// The Server's expectation rule: 100-continue (first Expect value) is
	// met, any other non-empty Expect is answered 417.
	if ex := r.Header.Get("Expect"); ex != "" && !refHasToken(ex, "100-continue") {
		return nil, http.StatusExpectationFailed
	}
	return r, 0
}

// refToken reports whether s is an RFC 9110 token.
func refToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// refValue reports whether v is a field value net/http's Server accepts:
// no control byte but HTAB.
func refValue(v string) bool {
	for _, c := range []byte(v) {
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// refValidHost reports whether h is a Host value net/http's Server
// accepts: bytes of a reg-name, an IP literal and a port.
func refValidHost(h string) bool {
	for _, c := range []byte(h) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!$%&'()*+,-.:;=[]_~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// refHasToken reports whether the comma-separated list v holds tok (case
// insensitive).
func refHasToken(v, tok string) bool {
	for _, el := range strings.Split(v, ",") {
		if strings.EqualFold(strings.Trim(el, " \t"), tok) {
			return true
		}
	}
	return false
}

// stdlibChunked decodes a chunked body (and its trailer) from src as
// net/http's Server does for a handler: httputil.NewChunkedReader over the
// connection's 4 KiB bufio.Reader, then the trailer fields, which must end
// within that buffer.
func stdlibChunked(src []byte) ([]byte, http.Header, error) {
	br := bufio.NewReaderSize(bytes.NewReader(src), 4096)
	data, err := io.ReadAll(httputil.NewChunkedReader(br))
	if err != nil {
		return data, nil, err
	}
	if p, _ := br.Peek(2); string(p) == "\r\n" {
		return data, nil, nil
	}
	// The trailer must end (CRLF CRLF) within what the buffer can hold.
	p, _ := br.Peek(4096)
	if !bytes.Contains(p, []byte("\r\n\r\n")) {
		return data, nil, errors.New("trailer too long or not ended")
	}
	fields, err := textproto.NewReader(br).ReadMIMEHeader()
	if err != nil {
		return data, nil, err
	}
	return data, http.Header(fields), nil
}
