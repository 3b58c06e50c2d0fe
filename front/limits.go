package front

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/poolctl/poolctl/store"
)

// Reasons a connection was refused or cut, the label values of
// poolctl_connections_refused_total.
const (
	RefusedMaxConnections  = "max_connections"            // the host's maxConnections
	RefusedPerClient       = "max_connections_per_client" // the host's maxConnectionsPerClient
	RefusedSiteConnections = "site_max_connections"       // a site's limits.maxConnections
	RefusedIdleTimeout     = "connection_timeout"         // idle or request head past limits.connectionTimeout
	RefusedBodyTimeout     = "body_timeout"               // a body read waited past limits.connectionTimeout
	RefusedMinRate         = "min_bytes_per_second"       // a body slower than limits.minBytesPerSecond
)

// RefusalReasons lists every reason, in a fixed order.
var RefusalReasons = []string{RefusedMaxConnections, RefusedPerClient, RefusedSiteConnections,
	RefusedIdleTimeout, RefusedBodyTimeout, RefusedMinRate}

// fdReserve is the part of the descriptor limit kept for workers, their
// pipes, logs and the control socket when maxConnections is automatic.
const fdReserve = 1024

// minAutoConnections is the least an automatic maxConnections allows.
const minAutoConnections = 64

// hostLimits are the host section's connection limits in effect.
type hostLimits struct {
	maxConns     int // 0: unlimited
	perClient    int // 0: unlimited
	errorMode    string
	autoMaxConns bool
}

// readHostLimits resolves the host section of cfg.
func readHostLimits(cfg *store.Config) hostLimits {
	hl := hostLimits{
		maxConns:  int(min(cfg.HostSetting("maxConnections").(uint64), 1<<31)),
		perClient: int(min(cfg.HostSetting("maxConnectionsPerClient").(uint64), 1<<31)),
		errorMode: cfg.HostSetting("errorMode").(string),
	}
	if hl.maxConns == 0 {
		hl.maxConns, hl.autoMaxConns = autoMaxConnections(), true
	}
	return hl
}

// autoMaxConnections derives the host-wide connection cap from the
// descriptor limit: each proxied connection may hold two descriptors (the
// client's and one to a worker), after fdReserve kept for the rest.
func autoMaxConnections() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur > 1<<31 {
		return 0 // unknown or effectively unlimited
	}
	return max(int(rl.Cur)-fdReserve, 2*minAutoConnections) / 2
}

// siteLimits are one site's limits section, resolved.
type siteLimits struct {
	timeout  time.Duration // limits.connectionTimeout
	minRate  uint64        // limits.minBytesPerSecond; 0: off
	maxConns int           // limits.maxConnections
}

// readSiteLimits resolves the limits of s against the schema defaults.
func readSiteLimits(s *store.Site) siteLimits {
	get := func(path string) any {
		f := store.SiteSchema.Field(path)
		if v, ok := f.Get(s); ok {
			return v
		}
		return f.DefaultValue()
	}
	return siteLimits{
		timeout:  get("limits.connectionTimeout").(store.TimeSpan).Duration(),
		minRate:  get("limits.minBytesPerSecond").(uint64),
		maxConns: int(min(get("limits.maxConnections").(uint64), 1<<31)),
	}
}

// connTable counts open client connections host-wide, per client address
// and per site, and the refusals.
type connTable struct {
	mu      sync.Mutex
	total   int
	perIP   map[netip.Addr]int
	sites   map[string]int // by lower-case site name
	refused [6]atomic.Uint64
}

// refuse counts a refusal.
func (ct *connTable) refuse(reason string) {
	for i, r := range RefusalReasons {
		if r == reason {
			ct.refused[i].Add(1)
			return
		}
	}
}

// admit counts a new connection from ip, or returns the reason it is
// refused.
func (ct *connTable) admit(ip netip.Addr, hl hostLimits) string {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	if hl.maxConns > 0 && ct.total >= hl.maxConns {
		return RefusedMaxConnections
	}
	if hl.perClient > 0 && ct.perIP[ip] >= hl.perClient {
		return RefusedPerClient
	}
	if ct.perIP == nil {
		ct.perIP = map[netip.Addr]int{}
	}
	ct.total++
	ct.perIP[ip]++
	return ""
}

// release uncounts a closed connection.
func (ct *connTable) release(c *trackedConn) {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	ct.total--
	if ct.perIP[c.ip]--; ct.perIP[c.ip] <= 0 {
		delete(ct.perIP, c.ip)
	}
	c.mu.Lock()
	site := c.site
	c.site = ""
	c.mu.Unlock()
	ct.leaveSite(site)
}

// leaveSite uncounts a connection of site. Called with ct.mu held.
func (ct *connTable) leaveSite(site string) {
	if site == "" {
		return
	}
	if ct.sites[site]--; ct.sites[site] <= 0 {
		delete(ct.sites, site)
	}
}

// enterSite counts c as a connection of site (lower case), unless the site
// already has max; a connection moving from another site leaves that one.
// It reports whether c may go on.
func (ct *connTable) enterSite(c *trackedConn, site string, max int) bool {
	c.mu.Lock()
	same := c.closed || c.site == site
	c.mu.Unlock()
	if same {
		return true // the usual case: no table lock per request
	}
	ct.mu.Lock()
	defer ct.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return true
	}
	if c.site == site {
		return true
	}
	if ct.sites[site] >= max {
		return false
	}
	ct.leaveSite(c.site)
	if ct.sites == nil {
		ct.sites = map[string]int{}
	}
	ct.sites[site]++
	c.site = site
	return true
}

// ConnectionsRefused returns the connections refused or cut, by reason
// (see RefusalReasons).
func (f *Front) ConnectionsRefused() map[string]uint64 {
	out := make(map[string]uint64, len(RefusalReasons))
	for i, r := range RefusalReasons {
		out[r] = f.conns.refused[i].Load()
	}
	return out
}

// limitListener applies the host's connection limits at accept: a
// connection over a limit is closed at once (with a reset) and counted.
type limitListener struct {
	net.Listener
	f *Front
}

// Accept returns the next connection within the limits.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := addrPortOf(c.RemoteAddr()).Addr().Unmap()
		if reason := l.f.conns.admit(ip, l.f.routes.Load().host); reason != "" {
			l.f.conns.refuse(reason)
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			_ = c.Close()
			continue
		}
		return newTrackedConn(c, l.f, ip), nil
	}
}

// newTrackedConn tracks the admitted connection c from ip. Its addresses
// are parsed and formatted here, once, for the requests it carries.
func newTrackedConn(c net.Conn, f *Front, ip netip.Addr) *trackedConn {
	tc := &trackedConn{Conn: c, f: f, ip: ip, local: addrPortOf(c.LocalAddr())}
	if ra := c.RemoteAddr(); ra != nil {
		tc.remote = ra.String()
	}
	if ip.IsValid() {
		tc.clientIP = ip.String()
	}
	if tc.local.IsValid() {
		tc.serverIP = tc.local.Addr().String()
	}
	return tc
}

// trackedConn is an admitted client connection: it is uncounted when it
// closes, and carries the site it counts against and its idle timer.
type trackedConn struct {
	net.Conn
	f    *Front
	ip   netip.Addr
	once sync.Once

	// Set when it is accepted, read-only after: its local address, its
	// RemoteAddr as net/http gives it to requests, and the client's and
	// the local IP as the access log writes them.
	local              netip.AddrPort
	remote             string
	clientIP, serverIP string

	mu     sync.Mutex
	site   string      // the site it counts against (lower case)
	idle   *time.Timer // the idle clock's timer: fires at due (see armIdle)
	closed bool

	// The idle clock, kept without a lock or a timer change per request
	// (armIdle, disarmIdle, idleExpired); times are monoNow values.
	busy      atomic.Bool  // a request head is complete: not idle
	idleSince atomic.Int64 // when it last became new or idle
	idleFor   atomic.Int64 // how long it may stay so (nanoseconds)
	due       atomic.Int64 // when the timer fires next
	rearms    atomic.Uint64
}

// monoEpoch is the origin of monoNow.
var monoEpoch = time.Now()

// monoNow is the monotonic clock in nanoseconds since monoEpoch.
func monoNow() int64 { return int64(time.Since(monoEpoch)) }

// Close closes the connection and uncounts it once.
func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.mu.Lock()
		c.closed = true
		if c.idle != nil {
			c.idle.Stop()
		}
		c.mu.Unlock()
		c.f.conns.release(c)
	})
	return c.Conn.Close()
}

// NetConn returns the connection it tracks (for the lean server's hangup
// watcher, which needs its descriptor).
func (c *trackedConn) NetConn() net.Conn { return c.Conn }

// SetLinger sets SO_LINGER on a TCP connection (for a refusal by reset).
func (c *trackedConn) SetLinger(sec int) error {
	if tc, ok := c.Conn.(*net.TCPConn); ok {
		return tc.SetLinger(sec)
	}
	return nil
}

// armIdle starts an idle period (the connection is new, or has answered
// a request): the connection is closed if no complete request head
// arrives within d. The timer is not touched per request: it fires no
// later than the end of the idle period (at due), and idleExpired then
// closes the connection or sets it again for what is left. Only the first
// period, and one that ends before the timer would fire (d shrank), set
// the timer here.
func (c *trackedConn) armIdle(d time.Duration) {
	if d <= 0 {
		c.disarmIdle() // no limit for this period
		return
	}
	now := monoNow()
	c.idleFor.Store(int64(d))
	c.idleSince.Store(now)
	c.busy.Store(false)
	if c.idle != nil && c.due.Load() <= now+int64(d) {
		return // the usual case: the timer fires in time
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if c.idle == nil {
		c.idle = time.AfterFunc(d, c.idleExpired)
	} else {
		c.idle.Reset(d)
		c.rearms.Add(1)
	}
	c.due.Store(now + int64(d))
}

// disarmIdle ends the idle period: a request is being served.
func (c *trackedConn) disarmIdle() { c.busy.Store(true) }

// idleExpired runs when the idle timer fires: it closes a connection
// that has been idle for its whole period, and otherwise sets the timer
// for the end of the period (or, while a request is served, one period
// from now).
func (c *trackedConn) idleExpired() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	now := monoNow()
	d := c.idleFor.Load()
	next := now + d
	if !c.busy.Load() {
		end := c.idleSince.Load() + d
		if end <= now {
			c.mu.Unlock()
			c.f.conns.refuse(RefusedIdleTimeout)
			_ = c.Close()
			return
		}
		next = end
	}
	c.due.Store(next)
	c.idle.Reset(time.Duration(next - now))
	c.rearms.Add(1)
	c.mu.Unlock()
}

// tracked finds the trackedConn under c (through TLS).
func tracked(c net.Conn) *trackedConn {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	t, _ := c.(*trackedConn)
	return t
}

// connKey is the context key of a request's *trackedConn.
type connKey struct{}

// connContext puts the request's tracked connection in its context.
func connContext(ctx context.Context, c net.Conn) context.Context {
	if t := tracked(c); t != nil {
		return context.WithValue(ctx, connKey{}, t)
	}
	return ctx
}

// connState runs the idle timer of a listener's connections: from the
// moment a connection is new or idle until a request head is complete, it
// may wait the longest limits.connectionTimeout of the sites on key.
func (f *Front) connState(key listenKey) func(net.Conn, http.ConnState) {
	return func(c net.Conn, s http.ConnState) {
		t := tracked(c)
		if t == nil {
			return
		}
		switch s {
		case http.StateNew, http.StateIdle:
			d := 2 * time.Minute
			if pr := f.routes.Load().ports[key]; pr != nil {
				d = pr.idleTimeout
			}
			t.armIdle(d)
		default:
			t.disarmIdle()
		}
	}
}

// timedBody enforces a site's body read limits: every read must make
// progress within connectionTimeout, and when minBytesPerSecond is set the
// whole body must arrive within connectionTimeout plus the time its bytes
// take at that rate (so a client trickling a byte every few seconds is cut
// once connectionTimeout has passed). A read past either gets a read
// deadline error, which the forwarder reports as ErrRequestBody.
type timedBody struct {
	body    interface{ Read([]byte) (int, error) }
	closer  func() error
	rc      *http.ResponseController
	ct      *connTable
	lim     siteLimits
	start   time.Time
	n       int64
	eof     bool
	counted bool
}

// deadline returns the deadline of the next read, and the refusal reason
// if a read runs past it.
func (b *timedBody) deadline() (time.Time, string) {
	dl := time.Now().Add(b.lim.timeout)
	reason := RefusedBodyTimeout
	if b.lim.minRate > 0 {
		need := time.Duration(float64(b.n+1) / float64(b.lim.minRate) * float64(time.Second))
		if overall := b.start.Add(b.lim.timeout + need); overall.Before(dl) {
			dl, reason = overall, RefusedMinRate
		}
	}
	return dl, reason
}

// Read reads under the deadline the rule above gives.
func (b *timedBody) Read(p []byte) (int, error) {
	dl, reason := b.deadline()
	_ = b.rc.SetReadDeadline(dl)
	n, err := b.body.Read(p)
	b.n += int64(n)
	if err == io.EOF {
		b.eof = true
	}
	if err != nil && !b.counted && isTimeout(err) && !time.Now().Before(dl) {
		b.counted = true
		b.ct.refuse(reason)
	}
	return n, err
}

// settleBody bounds what net/http reads of a body left unfinished when
// the handler returns (it discards up to 256 KiB to keep the connection):
// nothing when the response closes the connection, else those reads get
// the deadline the next read of the body would have had.
func settleBody(w http.ResponseWriter, r *http.Request) {
	b, ok := r.Body.(*timedBody)
	if !ok || b.eof {
		return
	}
	dl, _ := b.deadline()
	if strings.EqualFold(w.Header().Get("Connection"), "close") {
		dl = time.Unix(1, 0)
	}
	_ = b.rc.SetReadDeadline(dl)
}

// Close closes the underlying body.
func (b *timedBody) Close() error { return b.closer() }

// limitBody puts r's body under the site's read limits.
func (f *Front) limitBody(w http.ResponseWriter, r *http.Request, lim siteLimits) {
	if r.Body == nil || r.Body == http.NoBody || lim.timeout <= 0 {
		return
	}
	r.Body = &timedBody{body: r.Body, closer: r.Body.Close, rc: http.NewResponseController(w), ct: &f.conns,
		lim: lim, start: time.Now()}
}

// isTimeout reports whether err is a timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// siteKey is the key of a site in the connection table.
func siteKey(name string) string { return strings.ToLower(name) }
