package host

import (
	"context"
	"time"

	"github.com/poolctl/poolctl/metrics"
	"github.com/poolctl/poolctl/store"
)

// metricsState is the host's metrics endpoint: open while an address is
// configured, moved when the address changes.
type metricsState struct {
	reg *metrics.Registry
	srv *metrics.Server
	err string // the last failure, so it is logged once
}

// applyMetrics opens, moves or closes the metrics endpoint to match the
// --metrics flag, or else the store's host.metricsAddress. A failure is
// logged and the rest of the host keeps running. Called with
// h.reconcileMu held.
func (h *Host) applyMetrics(cfg *store.Config) {
	addr := h.opts.Metrics
	if addr == "" {
		addr = cfg.HostSetting("metricsAddress").(string)
	}
	m := &h.metrics
	if addr == "" {
		h.closeMetrics()
		return
	}
	want, err := metrics.NormalizeAddress(addr)
	if err != nil {
		h.metricsFailed(err)
		return
	}
	if m.srv != nil && m.srv.Addr() == want {
		return
	}
	h.closeMetrics()
	if m.reg == nil {
		m.reg = metrics.NewRegistry(h.manager, h.front)
		m.reg.MustRegister(metrics.LogWriteCollector{}) // failed log writes (metrics/logs.go)
		m.reg.MustRegister(h.connected)                 // poolctl_store_connected (metrics/store.go)
	}
	srv, err := metrics.Listen(want, m.reg, h.logger)
	if err != nil {
		h.metricsFailed(err)
		return
	}
	m.srv, m.err = srv, ""
}

func (h *Host) metricsFailed(err error) {
	if h.metrics.err != err.Error() {
		h.logger.Error("metrics endpoint not served", "err", err)
		h.metrics.err = err.Error()
	}
}

// closeMetrics stops the metrics endpoint, if it runs.
func (h *Host) closeMetrics() {
	if h.metrics.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.metrics.srv.Close(ctx); err != nil {
		h.logger.Warn("close metrics endpoint", "err", err)
	}
	h.metrics.srv = nil
}
