package host

import (
	"context"
	"errors"
	"fmt"

	"github.com/poolctl/poolctl/store"
)

// prepare creates the pools of the store start loaded, none started, so
// that the control API lists them from its first answer. The first apply
// (serve) starts them. What it could not do is reported by that apply.
func (h *Host) prepare(ctx context.Context, cfg *store.Config) {
	want := plan(cfg)
	if err := h.manager.Apply(ctx, want.pools, diff(want, h.running()).pools); err != nil {
		h.prepErr = err
	}
}

// running is what the host runs now.
func (h *Host) running() running {
	return running{pools: h.manager.Running(), listeners: h.front.Listening()}
}

// applyOnce is one turn of the pipeline: load the store (the first turn
// takes what start loaded), plan, diff, apply. A store that fails to load
// leaves the running configuration untouched and is the only error: what
// the apply could not do (a binding, a pool) is logged and kept in
// h.failures while the rest applies, so a caller does not take a partial
// apply for a refused one.
func (h *Host) applyOnce(ctx context.Context) (string, error) {
	cfg := h.first
	h.first = nil
	if cfg == nil {
		var err error
		if cfg, err = h.loadStore(ctx); err != nil { // farm_start.go
			h.logger.Error("store did not load; the running configuration stays", "err", err)
			return "", fmt.Errorf("the store did not load, the host keeps its running configuration: %w", err)
		}
	}
	want := plan(cfg)
	h.apply(ctx, want, diff(want, h.running()))
	h.afterApply()
	return want.version, nil
}

// apply carries out the actions, in their order: pools are created and
// reconfigured (and new ones started: Start returns once the pool takes
// requests, its workers launch in the background), the front opens new
// listeners and swaps its routing table at once, closes the listeners no
// started site uses (their requests in flight finish), and removed pools
// close in the background (their requests in flight finish; their queued
// requests are refused by the closing pool and routed again by the front on
// the new table). Nothing here waits for a launch, a drain or a recycle.
func (h *Host) apply(ctx context.Context, want desired, acts actions) {
	h.reconcileMu.Lock()
	defer h.reconcileMu.Unlock()
	h.logger.Debug("reconcile", "version", want.version, "actions", acts.lines())
	perr := errors.Join(h.prepErr, h.manager.Apply(ctx, want.pools, acts.pools), h.manager.StartPending(ctx))
	h.prepErr = nil
	ferr := h.front.Apply(ctx, want.cfg)
	h.manager.RetireInBackground(context.WithoutCancel(ctx))
	h.applyMetrics(want.cfg)
	h.reportUnused()
	h.cfgMu.Lock()
	h.cfg = want.cfg
	h.cfgMu.Unlock()
	h.failures.set(perr, ferr)
	if err := errors.Join(perr, ferr); err != nil {
		h.logger.Error("reconcile", "err", err)
	}
}

// Reconcile asks the pipeline for an apply and waits for the first one
// that started loading the store after the call, so it includes every
// store write made before it; or until ctx ends (the apply goes on). A
// store that fails to load is the only error (applyOnce).
func (h *Host) Reconcile(ctx context.Context) error {
	return h.pipe.request().wait(ctx)
}
