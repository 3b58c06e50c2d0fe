package host

import (
	"context"
	"net/http"

	"github.com/poolctl/poolctl/hostapi"
)

// reconcileRoutes registers the routes of the reconcile pipeline.
func (h *Host) reconcileRoutes(s *hostapi.Server) {
	s.Handle("POST /v1/reconcile", hostapi.Write, func(ctx context.Context, _ *http.Request) (any, error) {
		o := h.pipe.request()
		if err := o.wait(ctx); err != nil {
			return nil, err
		}
		return hostapi.ReconcileResult{Warnings: h.failures.untold(), Applied: o.version, Pending: o.pending}, nil
	})
	s.Handle("GET /v1/status", hostapi.Read, func(context.Context, *http.Request) (any, error) {
		st := h.pipe.status()
		return hostapi.HostStatus{Applied: st.applied, Generation: st.generation, Pending: st.pending,
			Started: st.started, Pools: len(h.manager.Pools())}, nil
	})
}
