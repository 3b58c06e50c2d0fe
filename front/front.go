package front

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"github.com/poolctl/poolctl/runstate"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/poolctl/poolctl/accesslog"
	"github.com/poolctl/poolctl/apppool"
	"github.com/poolctl/poolctl/forward"
	"github.com/poolctl/poolctl/hostapi"
	"github.com/poolctl/poolctl/store"
	"github.com/poolctl/poolctl/worker"
)

// Pools is where the front finds a pool by name.
type Pools interface {
	Pool(name string) *apppool.Pool
}

// Front is the HTTP front of the host.
type Front struct {
	pools  Pools
	logger *slog.Logger
	routes atomic.Pointer[table]
	reqID  atomic.Uint64
	// LogDir is where site access logs go when a site names no
	// logFile.directory.
	LogDir string
	// Listen opens a listener; tests and socket activation replace it.
	Listen func(network, addr string) (net.Listener, error)

	mu        sync.Mutex
	listeners map[listenKey]*listener

	logs     siteLogs      // access logs by site (accesslogs.go)
	unrouted atomic.Uint64 // requests no site or application matched

	conns     connTable // open client connections and refusals (limits.go)
	refPrefix string    // prefix of error page references (errors.go)
}

type listener struct {
	key     listenKey
	srv     *http.Server
	ln      net.Listener
	certs   []certPair
	closed  chan struct{}
	serving net.Listener // what srv serves: ln with the limits, and TLS
}

// New returns a front that serves no site yet.
func New(pools Pools, logger *slog.Logger) *Front {
	f := &Front{pools: pools, logger: logger, listeners: map[listenKey]*listener{}, refPrefix: newRefPrefix(),
		Listen: func(network, addr string) (net.Listener, error) { return net.Listen(network, addr) }}
	f.routes.Store(&table{ports: map[listenKey]*portRoutes{}})
	return f
}

// Apply makes the front serve cfg: routes are swapped at once, listeners
// for new bindings are opened and those no started site uses any more are
// closed gracefully. It returns the bindings that could not listen; the
// others serve regardless.
func (f *Front) Apply(ctx context.Context, cfg *store.Config) error {
	t := buildTable(cfg, f.logger)
	f.mu.Lock()
	defer f.mu.Unlock()
	stale, lerr := f.applyLogs(cfg, t)
	defer f.closeLogs(stale) // once the new routes are in place
	errs := []error{lerr}
	var opened []*listener
	for key, pr := range t.ports {
		l := f.listeners[key]
		if l != nil && key.tls && !sameCerts(l.certs, pr.certs) {
			f.closeListener(ctx, l)
			l = nil
		}
		if l != nil {
			continue
		}
		l, err := f.open(key, pr)
		if err != nil {
			errs = append(errs, err)
			delete(t.ports, key)
			continue
		}
		f.listeners[key] = l
		opened = append(opened, l)
	}
	f.routes.Store(t)
	// New listeners serve only now, so that their first requests are
	// routed by the table that opened them.
	for _, l := range opened {
		f.serveListener(l)
	}
	for key, l := range f.listeners {
		if _, ok := t.ports[key]; !ok {
			f.closeListener(ctx, l)
		}
	}
	return errors.Join(errs...)
}

func sameCerts(a, b []certPair) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (f *Front) open(key listenKey, pr *portRoutes) (*listener, error) {
	ln, err := f.Listen("tcp", key.addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", key.addr, err)
	}
	l := &listener{key: key, ln: ln, closed: make(chan struct{})}
	// The host's connection limits apply at accept; the idle (keep-alive
	// and request head) timeout is the sites' limits.connectionTimeout,
	// run by connState; request heads also have a fixed 10 s.
	ln = &limitListener{Listener: ln, f: f}
	l.srv = &http.Server{
		Handler:           f.handler(key),
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    1 << 20,
		ConnState:         f.connState(key),
		ConnContext:       connContext,
		ErrorLog:          slog.NewLogLogger(f.logger.Handler(), slog.LevelDebug),
	}
	if key.tls {
		certs, err := loadCerts(pr.certs)
		if err != nil {
			ln.Close()
			return nil, err
		}
		l.certs = pr.certs
		l.srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"},
			GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) { return certs.pick(hello.ServerName), nil }}
		ln = tls.NewListener(ln, l.srv.TLSConfig)
	}
	l.serving = ln
	return l, nil
}

// serveListener starts serving a listener that open made.
func (f *Front) serveListener(l *listener) {
	ln := l.serving
	go func() {
		defer close(l.closed)
		if err := l.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			f.logger.Error("listener stopped", "addr", l.key.addr, "err", err)
		}
	}()
	f.logger.Info("listening", "addr", ln.Addr().String(), "tls", l.key.tls)
}

// closeListener stops accepting on l and lets its requests finish in the
// background. Called with f.mu held.
func (f *Front) closeListener(ctx context.Context, l *listener) {
	delete(f.listeners, l.key)
	go func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 90*time.Second)
		defer cancel()
		_ = l.srv.Shutdown(sctx)
	}()
}

// Addrs returns the addresses the front listens on, for status and tests.
func (f *Front) Addrs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, l := range f.listeners {
		out = append(out, l.ln.Addr().String())
	}
	return out
}

// Shutdown stops accepting connections and waits for requests in flight to
// finish, until ctx is done.
func (f *Front) Shutdown(ctx context.Context) error {
	f.mu.Lock()
	ls := f.listeners
	f.listeners = map[listenKey]*listener{}
	f.mu.Unlock()
	var wg sync.WaitGroup
	var errs []error
	var emu sync.Mutex
	for _, l := range ls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.srv.Shutdown(ctx); err != nil {
				emu.Lock()
				errs = append(errs, fmt.Errorf("%s: %w", l.key.addr, err))
				emu.Unlock()
			}
		}()
	}
	wg.Wait()
	f.logs.mu.Lock()
	var logs []*accesslog.Log
	for key, sl := range f.logs.open {
		logs = append(logs, sl.log)
		delete(f.logs.open, key)
	}
	f.logs.mu.Unlock()
	f.closeLogs(logs)
	return errors.Join(errs...)
}

// handler serves the requests of one listener.
func (f *Front) handler(key listenKey) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		x := f.newExchange(rw, r, key)
		defer settleBody(x, r)
		defer func() {
			if v := recover(); v != nil {
				x.aborted = true
				f.finish(x)
				panic(v)
			}
			f.finish(x)
		}()
		w := http.ResponseWriter(x)
		// Headers the front sets for its workers are never the client's.
		stripPrivate(r.Header)
		pr := x.table.ports[key]
		if pr == nil {
			x.unrouted = true
			unavailable(w, http.StatusNotFound, "NotFound", "no site is bound to this address")
			return
		}
		site, app := pr.match(x.local.Addr(), r.Host, r.URL.Path)
		x.site = site
		switch {
		case site == nil:
			x.unrouted = true
			unavailable(w, http.StatusNotFound, "NotFound", "no site is bound to this address and host name")
			return
		case app == nil:
			x.unrouted = true
			unavailable(w, http.StatusNotFound, "NotFound", fmt.Sprintf("site %q has no application for this path", site.name))
			return
		}
		if tc, _ := r.Context().Value(connKey{}).(*trackedConn); tc != nil && !f.conns.enterSite(tc, site.key, site.limits.maxConns) {
			f.conns.refuse(RefusedSiteConnections)
			w.Header().Set("Connection", "close")
			w.Header().Set("Retry-After", "1")
			unavailable(w, http.StatusServiceUnavailable, "ConnLimit", fmt.Sprintf("site %q has limits.maxConnections=%d connections open", site.name, site.limits.maxConns))
			return
		}
		f.limitBody(w, r, site.limits)
		if app.low != nil { // Legacy mode: a Low application runs in the host
			f.serveLow(w, r, site.name, app.low)
			return
		}
		pool := f.pools.Pool(app.pool)
		if pool == nil {
			if f.reroute(w, r, apppool.ErrNoPool) {
				return
			}
			unavailable(w, http.StatusServiceUnavailable, "N/A", fmt.Sprintf("application pool %q does not exist", app.pool))
			return
		}
		x.pool = pool
		f.serve(w, r, site.name, pool)
	})
}

func (f *Front) serve(w http.ResponseWriter, r *http.Request, site string, pool *apppool.Pool) {
	start := time.Now()
	id := f.reqID.Add(1)
	if x, ok := w.(*exchange); ok {
		start, id = x.start, x.id
	}
	req := &apppool.Request{ID: id, Method: r.Method, URL: r.URL.RequestURI(), Client: r.RemoteAddr, Site: site, Start: start}
	// Tell the worker which site this is (the built-in worker needs it when
	// several sites share an application path); never trust the client's.
	r.Header.Set(worker.SiteHeader, site)
	for attempt := 0; ; attempt++ {
		wk, err := pool.Acquire(r.Context(), req)
		if err != nil {
			if f.reroute(w, r, err) {
				return // the routes moved while it waited (legacy.go)
			}
			f.refuse(w, r, pool, err)
			return
		}
		ferr := wk.Forward(w, r)
		pool.Release(wk, req)
		if ferr == nil {
			return
		}
		var fe *forward.Error
		errors.As(ferr, &fe)
		if fe != nil && fe.Stage == forward.StageDial && r.Context().Err() != nil {
			// The client went away or gave up before anything reached
			// the worker: its dial was cancelled, which is not the
			// worker refusing connections, so the worker is neither
			// replaced nor blamed. Nothing is answered; the access log
			// records sc-win32-status 64 and no status. (Only at the
			// dial: later, the forwarder's own deadline on the client's
			// body also ends the request's context.)
			f.logger.Debug("client went away before its request reached a worker", "pool", pool.Name(), "pid", wk.PID, "err", ferr)
			return
		}
		if fe != nil && fe.Stage == forward.StageDial && attempt < 2 {
			// Nothing reached the worker: it died or stopped listening a
			// moment ago. Replace it and try another.
			pool.Discard(wk, ferr.Error())
			continue
		}
		if fe != nil && !fe.Sent && retrySafe(r) && pool.Hung(wk) && attempt < 2 {
			// The host killed the worker as hung before it answered: an
			// idempotent request without a body goes to its replacement.
			continue
		}
		if fe != nil && fe.Sent {
			// The response had started: all that is left is to cut it off.
			panic(http.ErrAbortHandler)
		}
		if errors.Is(ferr, forward.ErrRequestBody) {
			// The client's body broke off (or came too slowly): the
			// forwarder has closed the worker's side; close the client's.
			w.Header().Set("Connection", "close")
			if isTimeout(ferr) {
				unavailable(w, http.StatusRequestTimeout, "RequestTimeout", "reading the request body: "+ferr.Error())
			} else {
				unavailable(w, http.StatusBadRequest, "BadRequestBody", "reading the request body: "+ferr.Error())
			}
			return
		}
		f.logger.Warn("worker failed to answer", "pool", pool.Name(), "pid", wk.PID, "err", ferr)
		if r.Body != nil && r.Body != http.NoBody {
			// The rest of the body would only be read to be thrown
			// away: end the client's side too.
			w.Header().Set("Connection", "close")
		}
		unavailable(w, http.StatusBadGateway, "WorkerFailed", "the application's worker process failed while handling the request")
		return
	}
}

// refuse answers a request the pool cannot take: 503 with Retry-After and
// the reason, or a TCP reset when the pool says TcpLevel.
func (f *Front) refuse(w http.ResponseWriter, r *http.Request, pool *apppool.Pool, err error) {
	if r.Context().Err() != nil {
		return // the client left while queued
	}
	reason := "N/A"
	switch {
	case errors.Is(err, apppool.ErrQueueFull):
		reason = "QueueFull"
		pool.Stats().Refused(apppool.RefusedQueueFull)
	case errors.Is(err, apppool.ErrPoolDisabled):
		reason = "AppOffline"
		pool.Stats().Refused(apppool.RefusedRapidFail)
	case errors.Is(err, apppool.ErrPoolStopped):
		reason = "Disabled"
		pool.Stats().Refused(apppool.RefusedStopped)
	case errors.Is(err, apppool.ErrCPULimit):
		reason = "AppShutdown"
		pool.Stats().Refused(apppool.RefusedCPULimit)
	}
	if x, ok := w.(*exchange); ok {
		x.reason = reason // also when the answer is a TCP reset
	}
	if pool.TCPLevel() && r.ProtoMajor == 1 {
		if c, _, herr := http.NewResponseController(w).Hijack(); herr == nil {
			if tc, ok := c.(interface{ SetLinger(int) error }); ok {
				_ = tc.SetLinger(0) // close with RST
			}
			c.Close()
			return
		}
	}
	w.Header().Set("Retry-After", "1")
	unavailable(w, http.StatusServiceUnavailable, reason, err.Error())
}

// SiteStatus reports each configured site's state and listening addresses.
func (f *Front) SiteStatus(cfg *store.Config) []hostapi.SiteStatus {
	t := f.routes.Load()
	var out []hostapi.SiteStatus
	for _, s := range cfg.Sites {
		st := hostapi.SiteStatus{Name: s.Name, State: runstate.SiteStopped}
		for key, pr := range t.ports {
			for _, b := range pr.bindings {
				if strings.EqualFold(b.site.name, s.Name) {
					st.State = runstate.SiteStarted
					st.Listening = append(st.Listening, key.addr)
					break
				}
			}
		}
		out = append(out, st)
	}
	return out
}

// retrySafe reports whether a request may be sent again: an idempotent
// method and no body that could already have been consumed.
func retrySafe(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return r.ContentLength == 0 && (r.Body == nil || r.Body == http.NoBody)
	}
	return false
}
