package forward

import (
	"net/http"
	"strings"

	"github.com/poolctl/poolctl/internal/httpsyntax"
)

// PrivatePrefix starts the canonical names of headers that poolctl's front
// sets for its workers (X-Poolctl-Site). A client's Connection header never
// removes them as hop-by-hop: the front removes the client's own copies and
// sets its values, and those must reach the worker.
const PrivatePrefix = "X-Poolctl-"

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

// isUpgradeRequest reports whether h asks for a protocol upgrade.
func isUpgradeRequest(h http.Header) bool {
	return len(h["Upgrade"]) > 0 && httpsyntax.HasToken(h["Connection"], "upgrade")
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
