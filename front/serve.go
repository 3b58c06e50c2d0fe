package front

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/poolctl/poolctl/apppool"
	"github.com/poolctl/poolctl/forward"
	"github.com/poolctl/poolctl/worker"
)

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

// retrySafe reports whether a request may be sent again: an idempotent
// method and no body that could already have been consumed.
func retrySafe(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return r.ContentLength == 0 && (r.Body == nil || r.Body == http.NoBody)
	}
	return false
}
