package front

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/poolctl/poolctl/runstate"

	"github.com/poolctl/poolctl/accesslog"
	"github.com/poolctl/poolctl/hostapi"
	"github.com/poolctl/poolctl/store"
)

// Front is the HTTP front of the host.
type Front struct {
	pools  Pools
	byKey  poolsByKey // pools, when it finds pools by lower-case name
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

	// Server is the server loop of HTTP/1.x connections (server.go); set
	// before the first Apply.
	Server   ServerKind
	leanWarn sync.Once
}

type listener struct {
	key      listenKey
	srv      httpServer
	ln       net.Listener
	certs    []certPair
	certSet  atomic.Pointer[certSet] // what the TLS handshake picks from
	stopping atomic.Bool             // closeListener closed ln
	closed   chan struct{}
	serving  net.Listener // what srv serves: ln with the limits, and TLS
}

// New returns a front that serves no site yet.
func New(pools Pools, logger *slog.Logger) *Front {
	f := &Front{pools: pools, logger: logger, listeners: map[listenKey]*listener{}, refPrefix: newRefPrefix(),
		Listen: func(network, addr string) (net.Listener, error) { return net.Listen(network, addr) }}
	f.byKey, _ = pools.(poolsByKey)
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
			// New certificates on the listener that serves: closing it
			// and listening again would race its close for the port.
			if err := l.swapCerts(pr.certs); err != nil {
				errs = append(errs, err)
				delete(t.ports, key) // closed below, like a binding that cannot listen
				continue
			}
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
	lean := f.leanServer()
	if !key.tls && lean {
		l.srv = f.newLeanServer(key)
		l.serving = ln
		return l, nil
	}
	srv := &http.Server{
		Handler:           f.handler(key),
		ReadHeaderTimeout: headTimeout,
		MaxHeaderBytes:    maxHeadBytes,
		ConnState:         f.connState(key),
		ConnContext:       connContext,
		ErrorLog:          slog.NewLogLogger(f.logger.Handler(), slog.LevelDebug),
	}
	l.srv = srv
	if key.tls {
		if err := l.swapCerts(pr.certs); err != nil {
			ln.Close()
			return nil, err
		}
		cfg := &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"},
			GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
				return l.certSet.Load().pick(hello.ServerName), nil
			}}
		if lean {
			// HTTP/1.1 over TLS on the lean loop, HTTP/2 on net/http's.
			l.srv = newTLSSplit(cfg, f.newLeanServer(key), srv, f.logger)
			l.serving = ln
			return l, nil
		}
		srv.TLSConfig = cfg
		ln = tls.NewListener(ln, cfg)
	}
	l.serving = ln
	return l, nil
}

// serveListener starts serving a listener that open made.
func (f *Front) serveListener(l *listener) {
	ln := l.serving
	go func() {
		defer close(l.closed)
		if err := l.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) && !(l.stopping.Load() && errors.Is(err, net.ErrClosed)) {
			f.logger.Error("listener stopped", "addr", l.key.addr, "err", err)
		}
	}()
	f.logger.Info("listening", "addr", ln.Addr().String(), "tls", l.key.tls)
}

// closeListener stops accepting on l at once, so that its port is free
// for a listener the next apply opens, and lets its requests finish in the
// background. Called with f.mu held.
func (f *Front) closeListener(ctx context.Context, l *listener) {
	delete(f.listeners, l.key)
	l.stopping.Store(true)
	_ = l.ln.Close() // Serve returns; Shutdown below waits for the connections
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

// Listening lists the listeners that serve, sorted, as ListenKeys names
// them.
func (f *Front) Listening() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, 0, len(f.listeners))
	for key := range f.listeners {
		out = append(out, key.String())
	}
	sort.Strings(out)
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
