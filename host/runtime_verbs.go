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
// and stop pools. Then it makes the runtime state true: a pool disabled by
// rapid-fail protection has autoStart set already and needs the explicit
// start.
//
// The write runs between two applies (pipeline.exclusive), so no apply of
// the store as it was before the write comes after it. A pool the host
// runs then gets its settings from the written store at once, as an apply
// would hand them over (the autoStart change starts or stops it), and the
// verb does not wait for an apply of the whole store, which costs every
// pool (plan, diff, routes): the host's watch of the store applies it in
// the background, as it does after any write. A pool the host does not
// run yet (added since the last apply), and every pool in Legacy
// isolation mode, wait for an apply that includes the write
// (h.Reconcile), as a verb on them needs it.
//
// "Already there" is judged on the runtime state (and on the stored state
// in Legacy isolation mode, where pools do not run): the error wraps
// hostapi.ErrAlreadyInState and nothing is written. A pool missing from
// the store wraps store.ErrNotFound.
func (h *Host) setPoolRunning(ctx context.Context, name string, run bool) (hostapi.PoolStatus, error) {
	var pool *apppool.Pool // set: the host runs it and has its new settings
	var legacy bool
	var err error
	if xerr := h.pipe.exclusive(ctx, func() {
		name, pool, legacy, err = h.writeAutoStart(ctx, name, run)
	}); xerr != nil {
		return hostapi.PoolStatus{}, xerr
	}
	if err != nil {
		return hostapi.PoolStatus{}, err
	}
	if pool != nil {
		// The rest of the store applies when the host's watch of the store
		// sees the write (watch.go, farm_run.go), as for any other write:
		// debounced, so a burst of verbs costs one apply.
		return setRunning(ctx, pool, run)
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
	return setRunning(ctx, p, run)
}

// writeAutoStart persists the pool's autoStart and, when the host runs
// the pool in WorkerProcess mode, hands the pool its settings from the
// written store (Pool.Reconfigure: they replace any an earlier apply
// handed over and the loop has not taken yet, which the background apply
// would hand over again) and returns it. canonical is the pool's name as
// the store spells it. Called between applies.
func (h *Host) writeAutoStart(ctx context.Context, name string, run bool) (canonical string, pool *apppool.Pool, legacy bool, err error) {
	want := runstate.PoolStopped
	if run {
		want = runstate.PoolStarted
	}
	var cfg *store.Config
	var pc *store.AppPool
	_, err = h.store.Update(ctx, func(c *store.Config) error {
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
		cfg, pc = c, p
		return nil
	})
	if err != nil || legacy || h.manager.Legacy() {
		return name, nil, legacy, err
	}
	p, lerr := h.manager.Lookup(pc.Name)
	if lerr != nil || p.Name() != pc.Name {
		return name, nil, false, nil // not run yet, or run under another letter case until the apply
	}
	p.Reconfigure(apppool.NewSettings(cfg, pc))
	return name, p, false, nil
}

// setRunning starts or stops p and returns its status. A stop an apply
// began already (autoStart false) is waited for, so either way the pool
// is Stopped when it returns; a pool already there is no error here (the
// caller judged "already" before writing).
func setRunning(ctx context.Context, p *apppool.Pool, run bool) (hostapi.PoolStatus, error) {
	if run {
		if err := p.Start(ctx); err != nil && !errors.Is(err, hostapi.ErrAlreadyInState) {
			return hostapi.PoolStatus{}, err
		}
		return p.Status(), nil
	}
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
