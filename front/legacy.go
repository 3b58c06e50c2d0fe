package front

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/poolctl/poolctl/apppool"
	"github.com/poolctl/poolctl/store"
	"github.com/poolctl/poolctl/worker"
)

// Legacy (IIS 5.0) isolation mode in the front: a Low application is
// served inside the host by the built-in static/CGI handler (no queue, no
// worker), Medium and High ones go to the manager's synthetic pools. And,
// in either mode, a request whose pool stopped because the routes moved (a
// switch of isolation mode) is routed again instead of refused.

// legacyRoute is the route of application a of site in Legacy mode.
func legacyRoute(site string, a store.Application, logger *slog.Logger) appRoute {
	r := appRoute{path: strings.ToLower(a.Path), pool: apppool.LegacyPool(site, &a)}
	r.poolKey = strings.ToLower(r.pool)
	if r.pool == "" {
		r.low = lowHandler(site, a, logger.With("site", site, "app", a.Path))
	}
	return r
}

// lowHandler serves a Low application in the host: the built-in worker's
// handler for that one application. CGI scripts it runs run as the host's
// own user, as IIS 5.0's in-process applications ran in inetinfo.exe.
func lowHandler(site string, a store.Application, logger *slog.Logger) http.Handler {
	spec := apppool.LowSpec(site, &a)
	h, err := worker.Handler(spec, logger)
	if err != nil {
		msg := fmt.Sprintf("application %s cannot be served in the host: %v", store.AppName(site, a.Path), err)
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			unavailable(w, http.StatusInternalServerError, "LowAppInvalid", msg)
		})
	}
	return h
}

// serveLow serves a request of a Low application inside the host.
func (f *Front) serveLow(w http.ResponseWriter, r *http.Request, site string, h http.Handler) {
	setSiteHeader(w, r, site)
	h.ServeHTTP(w, r)
}

// reroute serves the request again on the current routing table when its
// pool refused it because it stopped or was removed (err is ErrPoolStopped
// or ErrNoPool) and the table changed since the request was routed: the
// routes moved (an isolation mode switch, an application moved to another
// pool) and the pool that stopped is no longer where the request goes. It
// reroutes a request once, and reports whether it served it. A pool an
// operator stopped, with the routes unchanged, is refused as before.
func (f *Front) reroute(w http.ResponseWriter, r *http.Request, err error) bool {
	if !errors.Is(err, apppool.ErrPoolStopped) && !errors.Is(err, apppool.ErrNoPool) {
		return false
	}
	x, _ := w.(*exchange)
	if x == nil || x.rerouted || r.Context().Err() != nil {
		return false
	}
	t := f.routes.Load()
	if t == x.table {
		return false
	}
	pr := t.ports[x.key]
	if pr == nil {
		return false
	}
	site, app := pr.match(x.local.Addr(), r.Host, r.URL.Path)
	if site == nil || app == nil {
		return false
	}
	x.table, x.rerouted, x.site, x.pool = t, true, site, nil
	if app.low != nil {
		f.serveLow(w, r, site.name, app.low)
		return true
	}
	pool := f.findPool(app)
	if pool == nil {
		return false
	}
	x.pool = pool
	f.logger.Debug("request routed again after the routes moved", "url", r.URL.RequestURI(), "pool", app.pool, "err", err)
	f.serve(w, r, site.name, pool)
	return true
}
