package host

import (
	"context"
	"net/http"

	"github.com/poolctl/poolctl/hostapi"
)

// reconcileRoutes registers the routes of the reconcile pipeline.
func (h *Host) reconcileRoutes(s *hostapi.Server) {
	s.Handle("POST /v1/reconcile", hostapi.Write, func(ctx context.Context, _ *http.Request) (any, error) {
		if err := h.Reconcile(ctx); err != nil {
			return nil, err
		}
		return hostapi.ReconcileResult{Warnings: h.failures.untold()}, nil
	})
}
