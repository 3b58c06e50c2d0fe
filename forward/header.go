package forward

import (
	"net/http"
	"strings"
)

// PrivatePrefix starts the canonical names of headers that poolctl's front
// sets for its workers (X-Poolctl-Site). A client's Connection header never
// removes them as hop-by-hop: the front removes the client's own copies and
// sets its values, and those must reach the worker.
const PrivatePrefix = "X-Poolctl-"

// isTokenChar reports the tchar set of RFC 9110 §5.6.2.
var isTokenChar = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// validToken reports whether s is a non-empty RFC 9110 token.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar[s[i]] {
			return false
		}
	}
	return true
}

// hopByHop reports whether the canonical header name k is a hop-by-hop
// header that a proxy must not forward (RFC 9110 §7.6.1), plus the
// framing headers that Forward writes itself.
func hopByHop(k string) bool {
	switch k {
	case "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate",
		"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade":
		return true
	}
	return false
}

// forEachToken calls f for each comma-separated, space-trimmed, non-empty
// element of the values vv; it stops when f returns false.
func forEachToken(vv []string, f func(tok string) bool) {
	for _, v := range vv {
		for v != "" {
			var tok string
			if i := strings.IndexByte(v, ','); i >= 0 {
				tok, v = v[:i], v[i+1:]
			} else {
				tok, v = v, ""
			}
			tok = strings.Trim(tok, " \t")
			if tok != "" && !f(tok) {
				return
			}
		}
	}
}

// hasToken reports whether the comma-separated lists vv contain tok,
// compared case-insensitively.
func hasToken(vv []string, tok string) bool {
	found := false
	forEachToken(vv, func(t string) bool {
		if strings.EqualFold(t, tok) {
			found = true
			return false
		}
		return true
	})
	return found
}

// isUpgradeRequest reports whether h asks for a protocol upgrade.
func isUpgradeRequest(h http.Header) bool {
	return len(h["Upgrade"]) > 0 && hasToken(h["Connection"], "upgrade")
}

// commonKeys maps header names as backends commonly spell them (canonical
// and lower case) to their canonical form, so that parsing them does not
// allocate.
var commonKeys = func() map[string]string {
	names := []string{
		"Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language",
		"Accept-Ranges", "Access-Control-Allow-Credentials",
		"Access-Control-Allow-Headers", "Access-Control-Allow-Methods",
		"Access-Control-Allow-Origin", "Access-Control-Expose-Headers",
		"Access-Control-Max-Age", "Age", "Allow", "Alt-Svc", "Cache-Control",
		"Connection", "Content-Disposition", "Content-Encoding",
		"Content-Language", "Content-Length", "Content-Location",
		"Content-Range", "Content-Security-Policy", "Content-Type", "Cookie",
		"Date", "Etag", "Expires", "Grpc-Message", "Grpc-Status",
		"Keep-Alive", "Last-Modified", "Link", "Location", "Pragma",
		"Proxy-Authenticate", "Proxy-Connection", "Referrer-Policy",
		"Refresh", "Retry-After", "Server", "Server-Timing", "Set-Cookie",
		"Strict-Transport-Security", "Te", "Timing-Allow-Origin", "Trailer",
		"Transfer-Encoding", "Upgrade", "Vary", "Via", "Warning",
		"Www-Authenticate", "X-Content-Type-Options", "X-Frame-Options",
		"X-Powered-By", "X-Request-Id", "X-Xss-Protection",
		"Sec-Websocket-Accept", "Sec-Websocket-Protocol",
		"Sec-Websocket-Extensions",
	}
	m := make(map[string]string, 3*len(names))
	for _, n := range names {
		m[n] = n
		m[strings.ToLower(n)] = n
	}
	m["ETag"] = "Etag"
	m["WWW-Authenticate"] = "Www-Authenticate"
	m["TE"] = "Te"
	return m
}()

// maxKeyCache bounds the per-connection cache of header names.
const maxKeyCache = 64

// canonicalKey returns the canonical form of the header name b, which the
// caller has checked to be a token. It allocates only for names not seen
// before on this connection.
func (c *conn) canonicalKey(b []byte) string {
	if k, ok := commonKeys[string(b)]; ok {
		return k
	}
	if k, ok := c.keys[string(b)]; ok {
		return k
	}
	k := http.CanonicalHeaderKey(string(b))
	if c.keys == nil || len(c.keys) >= maxKeyCache {
		c.keys = make(map[string]string)
	}
	c.keys[string(b)] = k
	return k
}
