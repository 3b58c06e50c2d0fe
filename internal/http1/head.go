package http1

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/poolctl/poolctl/internal/httpsyntax"
)

// headError is a request head the server refuses: status is the answer
// (400, 417, 431, 501 or 505), msg says why.
type headError struct {
	status int
	msg    string
}

func (e *headError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.status, http.StatusText(e.status), e.msg)
}

// bad is a 400 headError.
func bad(format string, args ...any) *headError {
	return &headError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

// defaultMaxHeaderFields is Server.MaxHeaderFields when it is 0.
const defaultMaxHeaderFields = 256

// keyCacheMax bounds a connection's cache of canonical header names.
const keyCacheMax = 64

// keyCache maps header names as a client spells them to their canonical
// form, so a connection canonicalises each spelling once.
type keyCache map[string]string

// canonical returns the canonical form of the token name.
func (kc keyCache) canonical(name string) string {
	if isCanonical(name) {
		return name
	}
	if k, ok := kc[name]; ok {
		return k
	}
	k := http.CanonicalHeaderKey(name)
	if kc != nil && len(kc) < keyCacheMax {
		// Cloned: name is part of the request's head, which the cache
		// must not keep alive.
		kc[strings.Clone(name)] = k
	}
	return k
}

// isCanonical reports whether the token b is already in canonical form:
// upper case at the start and after each '-', lower case elsewhere.
func isCanonical(b string) bool {
	upper := true
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case upper && 'a' <= c && c <= 'z':
			return false
		case !upper && 'A' <= c && c <= 'Z':
			return false
		}
		upper = c == '-'
	}
	return true
}

// parseHeadInto parses one complete request head (request line, fields,
// the final empty line; CRLF line ends) into r (zero), with a connection's
// key cache (may be nil). An invalid head returns a *headError.
func parseHeadInto(r *http.Request, head []byte, maxFields int, kc keyCache) error {
	if maxFields <= 0 {
		maxFields = defaultMaxHeaderFields
	}
	if !bytes.HasSuffix(head, []byte("\r\n\r\n")) {
		return bad("incomplete request head")
	}
	if err := checkLineEnds(head); err != nil {
		return err
	}
	s := string(head) // one allocation; every string below is part of it
	nl := strings.IndexByte(s, '\n')
	if err := parseRequestLine(r, s[:nl-1]); err != nil {
		return err
	}
	rest := s[nl+1:]
	fields := strings.Count(rest, "\n") - 1 // the last line is the empty one
	if fields > maxFields {
		return &headError{status: http.StatusRequestHeaderFieldsTooLarge, msg: fmt.Sprintf("more than %d header fields", maxFields)}
	}
	r.Header = make(http.Header, fields)
	if err := parseFields(r.Header, rest, fields, kc); err != nil {
		return err
	}
	return settleRequest(r)
}

// checkLineEnds rejects a head with a bare LF or a bare CR: every line
// ends in CRLF, and CR appears nowhere else.
func checkLineEnds(head []byte) error {
	for i := 0; i < len(head); {
		j := bytes.IndexAny(head[i:], "\r\n")
		if j < 0 {
			break
		}
		i += j
		if head[i] == '\n' || i+1 >= len(head) || head[i+1] != '\n' {
			return bad("line not ended by CRLF")
		}
		i += 2
	}
	return nil
}

// parseRequestLine fills r's method, target and protocol from line.
func parseRequestLine(r *http.Request, line string) error {
	method, rest, ok1 := strings.Cut(line, " ")
	target, proto, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 {
		return bad("malformed request line %q", clip(line))
	}
	if !httpsyntax.ValidToken(method) {
		return bad("invalid method %q", clip(method))
	}
	major, minor, ok := parseProto(proto)
	if !ok {
		return bad("malformed HTTP version %q", clip(proto))
	}
	if major != 1 {
		return &headError{status: http.StatusHTTPVersionNotSupported, msg: fmt.Sprintf("unsupported protocol version %q", clip(proto))}
	}
	if target == "" || !validTarget(target) {
		return bad("invalid request target %q", clip(target))
	}
	r.Method, r.RequestURI, r.Proto, r.ProtoMajor, r.ProtoMinor = method, target, proto, major, minor
	u, err := parseTarget(method, target)
	if err != nil {
		return bad("invalid request target %q: %v", clip(target), err)
	}
	r.URL = u
	return nil
}

// parseProto parses "HTTP/x.y" with one digit each.
func parseProto(p string) (major, minor int, ok bool) {
	switch p {
	case "HTTP/1.1":
		return 1, 1, true
	case "HTTP/1.0":
		return 1, 0, true
	}
	if len(p) != 8 || p[:5] != "HTTP/" || p[6] != '.' || !isDigit(p[5]) || !isDigit(p[7]) {
		return 0, 0, false
	}
	return int(p[5] - '0'), int(p[7] - '0'), true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// validTarget reports whether the request target has no control byte,
// space or DEL.
func validTarget(t string) bool {
	for i := 0; i < len(t); i++ {
		if c := t[i]; c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

// parseTarget parses the request target as net/http does: origin or
// absolute form, "*", and CONNECT's authority form.
func parseTarget(method, target string) (*url.URL, error) {
	if method == http.MethodConnect && !strings.HasPrefix(target, "/") {
		u, err := url.ParseRequestURI("http://" + target)
		if err != nil {
			return nil, err
		}
		u.Scheme = ""
		return u, nil
	}
	return url.ParseRequestURI(target)
}

// parseFields parses the field lines of rest (each ended by CRLF, then
// the empty line) into h; n is how many there are.
func parseFields(h http.Header, rest string, n int, kc keyCache) error {
	vals := make([]string, n) // the values' backing arrays, one allocation
	for i := 0; i < n; i++ {
		nl := strings.IndexByte(rest, '\n')
		line := rest[:nl-1]
		rest = rest[nl+1:]
		if line == "" {
			return bad("empty line inside the request head")
		}
		if line[0] == ' ' || line[0] == '\t' {
			return bad("obsolete line folding in the header")
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return bad("header line without a colon %q", clip(line))
		}
		if !httpsyntax.ValidToken(name) {
			return bad("invalid header field name %q", clip(name))
		}
		value = trimOWS(value)
		if !validValue(value) {
			return bad("invalid value in header field %q", clip(name))
		}
		key := kc.canonical(name)
		vals[i] = value
		if old, ok := h[key]; ok {
			h[key] = append(old, value)
		} else {
			h[key] = vals[i : i+1 : i+1]
		}
	}
	return nil
}

// trimOWS trims spaces and tabs around a field value.
func trimOWS(v string) string {
	for v != "" && (v[0] == ' ' || v[0] == '\t') {
		v = v[1:]
	}
	for v != "" && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		v = v[:len(v)-1]
	}
	return v
}

// validValue reports whether a field value has no control byte but HTAB
// (bytes from 0x80 are allowed, as obs-text).
func validValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
