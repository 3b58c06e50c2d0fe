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
		if tc := x.conn; tc != nil && !f.conns.enterSite(tc, site.key, site.limits.maxConns) {
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
		pool := f.findPool(app)
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

// serve runs the request on pool: one loop that acquires a worker,
// forwards, and on a failure applies the one retry rule (retry.go).
func (f *Front) serve(w http.ResponseWriter, r *http.Request, site string, pool Pool) {
	var req *apppool.Request
	if x, ok := w.(*exchange); ok {
		// The exchange holds the pool's record of the request: no
		// allocation, and its id and start time.
		x.req = apppool.Request{ID: x.id, Method: r.Method, URL: requestURI(r), Client: r.RemoteAddr, Site: site, Start: x.start}
		req = &x.req
	} else {
		req = &apppool.Request{ID: f.reqID.Add(1), Method: r.Method, URL: requestURI(r), Client: r.RemoteAddr, Site: site, Start: time.Now()}
	}
	// Tell the worker which site this is (the built-in worker needs it when
	// several sites share an application path); never trust the client's.
	setSiteHeader(w, r, site)
	tries := 0
	reusedRetried := false // sent again once after a reused connection failed
	for try := 1; ; try++ {
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
		fe := &forward.Error{Stage: forward.StageRead, Outcome: forward.Sent, Err: ferr}
		errors.As(ferr, &fe)
		switch {
		case fe.Committed:
			// The response had started: all that is left is to cut it
			// off (the access log shows sc-win32-status 64).
			f.logger.Debug("response cut off", "pool", pool.Name(), "pid", wk.PID(), "client_gone", r.Context().Err() != nil, "err", ferr)
			panic(http.ErrAbortHandler)
		case errors.Is(ferr, forward.ErrRequestBody):
			// The client's body broke off (or came too slowly): the
			// forwarder has closed the worker's side; close the client's.
			// (Checked before the client's context: a body deadline
			// ends that context too.)
			w.Header().Set("Connection", "close")
			if isTimeout(ferr) {
				unavailable(w, http.StatusRequestTimeout, "RequestTimeout", "reading the request body: "+ferr.Error())
			} else {
				unavailable(w, http.StatusBadRequest, "BadRequestBody", "reading the request body: "+ferr.Error())
			}
			return
		case r.Context().Err() != nil && !fe.BodyCut:
			// The client went away or gave up: whatever the forward
			// reports came from that (a cancelled dial, an aborted read),
			// not from the worker, which is neither replaced nor blamed.
			// (Unless the forwarder cut the client's body itself: that
			// also cancels the context, but the worker failed.)
			// Nothing is answered: the access log records no status and
			// sc-win32-status 64, and the pool's status counters do not
			// count it.
			clientGone(w)
			f.logger.Debug("client went away before its answer", "pool", pool.Name(), "pid", wk.PID(), "outcome", fe.Outcome.String(), "err", ferr)
			return
		}
		if workerRefused(fe) {
			// Nothing reached the worker: it died or stopped listening a
			// moment ago. Replace it.
			pool.Discard(wk, ferr.Error())
		}
		if tries == 0 {
			tries = maxTries(pool)
		}
		takenDown := fe.Outcome == forward.Sent && pool.TakenDown(wk)
		if retryable(fe, r, takenDown, reusedRetried) && try < tries {
			if fe.Outcome == forward.Sent && !takenDown {
				reusedRetried = true
			}
			f.logger.Debug("trying the request again", "pool", pool.Name(), "pid", wk.PID(), "outcome", fe.Outcome.String(), "try", try, "err", ferr)
			continue
		}
		f.logger.Warn("worker failed to answer", "pool", pool.Name(), "pid", wk.PID(), "outcome", fe.Outcome.String(), "tries", try, "err", ferr)
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
func (f *Front) refuse(w http.ResponseWriter, r *http.Request, pool Pool, err error) {
	if r.Context().Err() != nil {
		clientGone(w) // the client left while queued
		return
	}
	reason := "N/A"
	switch {
	case errors.Is(err, apppool.ErrQueueFull):
		reason = "QueueFull"
		pool.Refused(apppool.RefusedQueueFull)
	case errors.Is(err, apppool.ErrPoolDisabled):
		reason = "AppOffline"
		pool.Refused(apppool.RefusedRapidFail)
	case errors.Is(err, apppool.ErrPoolStopped):
		reason = "Disabled"
		pool.Refused(apppool.RefusedStopped)
	case errors.Is(err, apppool.ErrCPULimit):
		reason = "AppShutdown"
		pool.Refused(apppool.RefusedCPULimit)
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

// clientGone marks the exchange as one whose client went away before it
// was answered (the access log's reason).
func clientGone(w http.ResponseWriter) {
	if x, ok := w.(*exchange); ok {
		x.reason = "ClientGone"
	}
}

// setSiteHeader sets the worker's site header of r to site: the site
// route's own one-element slice when the exchange has it (no allocation
// per request; nothing writes to a request's header values in place), a
// new one otherwise.
func setSiteHeader(w http.ResponseWriter, r *http.Request, site string) {
	if x, ok := w.(*exchange); ok && x.site != nil && x.site.name == site && len(x.site.hdr) == 1 {
		r.Header[worker.SiteHeader] = x.site.hdr[:1:1]
		return
	}
	r.Header.Set(worker.SiteHeader, site)
}

// requestURI is r.URL.RequestURI(), taken from the request line as
// received when that is the same text (building it allocates when there
// is a query).
func requestURI(r *http.Request) string {
	u := r.URL
	if u.Opaque != "" || u.ForceQuery || r.RequestURI == "" {
		return u.RequestURI()
	}
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	raw := r.RequestURI
	if u.RawQuery == "" {
		if raw == p {
			return raw
		}
		return p
	}
	if len(raw) == len(p)+1+len(u.RawQuery) && raw[:len(p)] == p && raw[len(p)] == '?' && raw[len(p)+1:] == u.RawQuery {
		return raw
	}
	return u.RequestURI()
}
