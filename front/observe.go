package front

import (
	"bufio"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/poolctl/poolctl/accesslog"
	"github.com/poolctl/poolctl/apppool"
)

// exchange follows one request through the front: it wraps the response
// writer to learn the status and the bytes sent, and remembers the site,
// pool and refusal reason, so that when the request ends the pool's
// counters and the site's access log can be updated.
type exchange struct {
	http.ResponseWriter
	f        *Front
	id       uint64 // the request's id, also its error page reference
	r        *http.Request
	start    time.Time
	local    netip.AddrPort  // the connection's local address
	conn     *trackedConn    // the client connection; nil when not tracked
	req      apppool.Request // the request as its pool sees it (serve.go)
	status   int             // the final status written; 0 before
	bytes    int64
	hijacked bool
	aborted  bool // the response was cut off (http.ErrAbortHandler)
	site     *siteRoute
	pool     Pool
	reason   string // the refusal reason, when the front turned it away
	unrouted bool   // no site, or no application of the site, matched

	// What the request was routed by, so that it can be routed again
	// once if its pool stops because the routes moved (legacy.go).
	key      listenKey
	table    *table
	rerouted bool
}

// newExchange starts following a request that arrived on the listener key.
// The connection's addresses come from its tracked connection, which
// parsed them once when it was accepted.
func (f *Front) newExchange(w http.ResponseWriter, r *http.Request, key listenKey) *exchange {
	x := &exchange{ResponseWriter: w, f: f, id: f.reqID.Add(1), r: r, start: time.Now(), key: key, table: f.routes.Load()}
	if tc, _ := r.Context().Value(connKey{}).(*trackedConn); tc != nil {
		x.conn, x.local = tc, tc.local
	} else if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		x.local = addrPortOf(la)
	}
	return x
}

// addrPortOf returns a connection address as a netip.AddrPort, IPv4
// unmapped: a TCP address without formatting it, another kind parsed from
// its String (the zero AddrPort when that is not "ip:port").
func addrPortOf(a net.Addr) netip.AddrPort {
	if ta, ok := a.(*net.TCPAddr); ok {
		ap := ta.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	if a == nil {
		return netip.AddrPort{}
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}

// WriteHeader records the final status (informational ones pass through).
func (x *exchange) WriteHeader(code int) {
	if x.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		x.status = code
	}
	x.ResponseWriter.WriteHeader(code)
}

// Write counts the body bytes.
func (x *exchange) Write(p []byte) (int, error) {
	if x.status == 0 {
		x.status = http.StatusOK
	}
	n, err := x.ResponseWriter.Write(p)
	x.bytes += int64(n)
	return n, err
}

// Flush flushes the underlying writer.
func (x *exchange) Flush() { _ = http.NewResponseController(x.ResponseWriter).Flush() }

// Hijack hands the connection over (an upgrade, or a TCP-level refusal).
func (x *exchange) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(x.ResponseWriter).Hijack()
	if err == nil {
		x.hijacked = true
	}
	return c, brw, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (x *exchange) Unwrap() http.ResponseWriter { return x.ResponseWriter }

// finish records the request in its pool's counters and its site's access
// log. It runs when the handler returns or panics.
func (f *Front) finish(x *exchange) {
	status := x.status
	if x.hijacked && status == 0 && x.reason == "" {
		status = http.StatusSwitchingProtocols // an upgraded connection, now closed
	}
	took := time.Since(x.start)
	if x.pool != nil && status != 0 {
		x.pool.ObserveRequest(status, took)
	}
	if x.unrouted {
		f.unrouted.Add(1)
	}
	if x.site == nil {
		return
	}
	log := x.site.log
	if log == nil || status == 0 && x.hijacked {
		return // no log, or a connection reset: no HTTP exchange to log
	}
	e := accesslog.Entry{
		Time: x.start.Add(took), Method: x.r.Method, URIStem: x.r.URL.Path, URIQuery: x.r.URL.RawQuery,
		UserAgent: x.r.Header.Get("User-Agent"), Referer: x.r.Header.Get("Referer"),
		Status: status, TimeTaken: took, BytesSent: x.bytes, BytesReceived: max(x.r.ContentLength, 0),
		Site: x.site.name, Reason: x.reason,
	}
	if x.pool != nil {
		e.Pool = x.pool.Name()
	}
	if u, _, ok := x.r.BasicAuth(); ok {
		e.Username = u
	}
	if x.conn != nil && x.r.RemoteAddr == x.conn.remote {
		// Formatted once per connection.
		e.ClientIP, e.ServerIP = x.conn.clientIP, x.conn.serverIP
	} else {
		if ap, err := netip.ParseAddrPort(x.r.RemoteAddr); err == nil {
			e.ClientIP = ap.Addr().Unmap().String()
		}
		if x.local.IsValid() {
			e.ServerIP = x.local.Addr().Unmap().String()
		}
	}
	if x.local.IsValid() {
		e.ServerPort = int(x.local.Port())
	}
	switch {
	case x.aborted, status == 0:
		e.Win32Status = 64 // ERROR_NETNAME_DELETED: the connection went away, as IIS logs it
	}
	log.Write(&e)
}
