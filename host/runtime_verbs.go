package host

import (
	"context"
	"errors"
	"fmt"

	"github.com/poolctl/poolctl/apppool"
	"github.com/poolctl/poolctl/hostapi"
	"github.com/poolctl/poolctl/runstate"
	"github.com/poolctl/poolctl/store"
)

// stopReason is the reason of a pool stopped by `poolctl stop apppool`.
const stopReason = "an administrator stopped the pool"

// setPoolRunning is `start apppool` (run) and `stop apppool` through the
// host: the host, not the caller, persists the pool's autoStart under the
// store lock, so an operator who may not write the store file can start
// and stop pools. Then it applies the store (h.Reconcile returns once an
// apply that includes the write is done) and makes the runtime state
// true: a pool disabled by rapid-fail protection has autoStart set already
// and needs the explicit start.
//
// "Already there" is judged on the runtime state (and on the stored state
// in Legacy isolation mode, where pools do not run): the error wraps
// hostapi.ErrAlreadyInState and nothing is written. A pool missing from
// the store wraps store.ErrNotFound.
func (h *Host) setPoolRunning(ctx context.Context, name string, run bool) (hostapi.PoolStatus, error) {
	want := runstate.PoolStopped
	if run {
		want = runstate.PoolStarted
	}
	var legacy bool
	_, err := h.store.Update(ctx, func(c *store.Config) error {
		p := c.Pool(name)
		if p == nil {
			return store.NotFound("apppool", name)
		}
		name = p.Name
		legacy = c.LegacyIsolation()
		if c.PoolAutoStart(p) == run && (legacy || h.poolState(p.Name) == want) {
			return fmt.Errorf("%w: apppool %q is already %s", hostapi.ErrAlreadyInState, p.Name, pastTense(run))
		}
		c.SetPoolAutoStart(p, run)
		return nil
	})
	if err != nil {
		return hostapi.PoolStatus{}, err
	}
	if err := h.Reconcile(ctx); err != nil {
		return hostapi.PoolStatus{}, fmt.Errorf("the desired state is saved, but the host did not apply it: %w", err)
	}
	if legacy || h.manager.Legacy() {
		// Saved; it takes effect when isolationMode is WorkerProcess again.
		return hostapi.PoolStatus{Name: name, State: apppool.InactiveState, Reason: apppool.InactiveReason}, nil
	}
	p, err := h.manager.Lookup(name)
	if err != nil {
		return hostapi.PoolStatus{}, err
	}
	if run {
		if err := p.Start(ctx); err != nil && !errors.Is(err, hostapi.ErrAlreadyInState) {
			return hostapi.PoolStatus{}, err
		}
		return p.Status(), nil
	}
	// The apply may have begun the stop (autoStart false): Stop then waits
	// for that stop to end, so either way the pool is Stopped when it
	// returns (ErrAlreadyInState: it was Stopped already).
	if err := p.Stop(ctx, stopReason); err != nil && !errors.Is(err, hostapi.ErrAlreadyInState) {
		return hostapi.PoolStatus{}, err
	}
	return p.Status(), nil
}

// poolState is the runtime state of the store's pool name; Stopped when
// the host does not run it (yet).
func (h *Host) poolState(name string) runstate.Pool {
	p, err := h.manager.Lookup(name)
	if err != nil {
		return runstate.PoolStopped
	}
	return p.State()
}

func pastTense(run bool) string {
	if run {
		return "started"
	}
	return "stopped"
}
