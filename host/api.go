package host

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/poolctl/poolctl/apppool"
	"github.com/poolctl/poolctl/events"
	"github.com/poolctl/poolctl/hostapi"
)

// routes registers the control API.
func (h *Host) routes(s *hostapi.Server) {
	h.reconcileRoutes(s) // reconcile_api.go
	h.eventRoutes(s)     // events_api.go
	s.Handle("GET /v1/apppools", hostapi.Read, func(_ context.Context, r *http.Request) (any, error) {
		f := readFilter(r, hostapi.QueryName)
		return f.answer(h.poolStatuses(f)), nil // Inactive in Legacy mode
	})
	// start and stop persist autoStart themselves (runtime_verbs.go), so
	// operators need no write access to the store.
	s.Handle("POST /v1/apppools/{name}/start", hostapi.Write, func(ctx context.Context, r *http.Request) (any, error) {
		return h.setPoolRunning(ctx, r.PathValue("name"), true)
	})
	s.Handle("POST /v1/apppools/{name}/stop", hostapi.Write, func(ctx context.Context, r *http.Request) (any, error) {
		return h.setPoolRunning(ctx, r.PathValue("name"), false)
	})
	s.Handle("POST /v1/apppools/{name}/recycle", hostapi.Write, func(ctx context.Context, r *http.Request) (any, error) {
		p, err := h.manager.Lookup(r.PathValue("name"))
		if err != nil {
			return nil, err
		}
		if h.manager.Legacy() {
			return nil, apppool.ErrInactive // the tool names the verb and the pool
		}
		res, err := p.Recycle(ctx, events.RecycleOnDemand, "an administrator asked for a recycle")
		if err != nil {
			return nil, err
		}
		return hostapi.RecycleResult{Pool: p.Name(), OldWorkers: res.Old, NewWorkers: res.New}, nil
	})
	s.Handle("GET /v1/workers", hostapi.Read, func(_ context.Context, r *http.Request) (any, error) {
		f := readFilter(r, hostapi.QueryPool)
		out := []hostapi.WorkerStatus{}
		for _, p := range f.pools(h.manager.AllPools()) { // with Legacy mode's workers
			out = append(out, f.status(p).Workers...)
		}
		sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
		return out, nil
	})
	s.Handle("GET /v1/requests", hostapi.Read, func(_ context.Context, r *http.Request) (any, error) {
		now := time.Now()
		out := []hostapi.RequestStatus{}
		for _, p := range readFilter(r, hostapi.QueryPool).pools(h.manager.AllPools()) { // with Legacy mode's workers
			out = append(out, p.Requests(now)...)
		}
		sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
		return out, nil
	})
	s.Handle("GET /v1/sites", hostapi.Read, func(context.Context, *http.Request) (any, error) {
		cfg := h.config()
		if cfg == nil {
			return nil, fmt.Errorf("%w: the host has no configuration yet", hostapi.ErrUnavailable)
		}
		return h.front.SiteStatus(cfg), nil
	})
}
