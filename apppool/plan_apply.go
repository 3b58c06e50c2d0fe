package apppool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/poolctl/poolctl/events"
	"github.com/poolctl/poolctl/hostapi"
)

// applied is what the plans applied so far asked for, guarded by
// Manager.mu: Diff compares the next plan with it.
type applied struct {
	pools     map[string]Settings // store pools by lower-case name
	synthetic map[string]Settings // Legacy pools by lower-case name
	retire    []*Pool             // removed store pools, closed once routes moved
	starts    []*Pool             // pools to start (StartPending)
}

// takeRetiredLocked empties the removed pools waiting for Retire, except
// those in skip, for Shutdown. Called with m.mu held.
func (a *applied) takeRetiredLocked(skip []*Pool) []*Pool {
	var out []*Pool
	for _, p := range a.retire {
		found := false
		for _, q := range skip {
			found = found || p == q
		}
		if !found {
			out = append(out, p)
		}
	}
	a.retire = nil
	return out
}

// Running returns what the manager runs, for Diff.
func (m *Manager) Running() Running {
	m.mu.RLock()
	defer m.mu.RUnlock()
	r := Running{Known: m.iso.known, Legacy: m.iso.legacy, Pools: map[string]Settings{}, Synthetic: map[string]Settings{}}
	for k, s := range m.plan.pools {
		r.Pools[k] = s
	}
	for k, s := range m.plan.synthetic {
		r.Synthetic[k] = s
	}
	return r
}

// Apply carries out the actions of Diff(pl, m.Running()): it creates the
// new pools, hands changed settings to running pools, and marks removed
// pools for Retire; StartPending then starts the new pools that should
// run, and the host calls Retire once the front routes by the new
// configuration. A pool rename is thus "add the new pool, swap the routes,
// close the old one": no request finds neither. Apply never waits for a
// worker launch, a drain or a recycle (plan_pool.go); its errors are what
// it could not do (a worker log that does not open) while it did the rest.
func (m *Manager) Apply(ctx context.Context, pl Plan, actions []Action) error {
	m.launcher.Identities.SetPools(pl.Names())
	var errs []error
	var starts []*Pool
	reconf := map[*Pool]Settings{}
	switched := false

	m.mu.Lock()
	if m.plan.pools == nil {
		m.plan.pools, m.plan.synthetic = map[string]Settings{}, map[string]Settings{}
	}
	if m.iso.pools == nil {
		m.iso.pools = map[string]*Pool{}
	}
	if !m.iso.known {
		m.iso.known, m.iso.legacy = true, pl.Legacy
	}
	for _, a := range actions {
		key := strings.ToLower(a.Name)
		switch a.Kind {
		case SwitchIsolation:
			switched, m.iso.legacy = true, a.Legacy
		case AddPool:
			p, err := m.addPoolLocked(a)
			if err != nil {
				errs = append(errs, err)
			}
			switch {
			case a.Synthetic:
				m.plan.synthetic[key] = a.Settings
				starts = append(starts, p)
			case !pl.Legacy && a.Settings.AutoStart:
				m.plan.pools[key] = a.Settings
				starts = append(starts, p)
			default:
				m.plan.pools[key] = a.Settings
				p.mu.Lock()
				p.reason = inactiveReason(pl.Legacy)
				p.mu.Unlock()
			}
		case ReconfigurePool:
			if a.Synthetic {
				if p := m.iso.pools[key]; p != nil {
					reconf[p] = a.Settings
					m.plan.synthetic[key] = a.Settings
				}
				continue
			}
			if p := m.pools[key]; p != nil {
				reconf[p] = a.Settings
				m.plan.pools[key] = a.Settings
			}
		case RemovePool:
			m.removePoolLocked(a)
		}
	}
	// A switch of isolation mode hands every store pool its settings:
	// masked while inactive, whole again back in WorkerProcess mode,
	// where the autoStart pools start as at host start.
	if switched {
		for key, p := range m.pools {
			if _, ok := reconf[p]; !ok {
				if s, ok := m.plan.pools[key]; ok && s.Name == p.name {
					reconf[p] = s
				}
			}
			switch {
			case pl.Legacy:
			case reconf[p].AutoStart && !containsPool(starts, p):
				starts = append(starts, p)
			case !reconf[p].AutoStart:
				p.mu.Lock()
				p.reason = inactiveReason(false)
				p.mu.Unlock()
			}
		}
	}
	if pl.Legacy {
		for p, s := range reconf {
			if !IsLegacyPool(p.name) {
				reconf[p] = p.masked(s)
			}
		}
	}
	m.mu.Unlock()

	if switched {
		mode := map[bool]string{false: "WorkerProcess", true: "Legacy"}
		m.events.Record(events.Event{ID: events.IsolationModeChanged,
			Reason: fmt.Sprintf("isolation mode switched from %s to %s; requests in flight finish where they are", mode[!pl.Legacy], mode[pl.Legacy])})
	}
	for p, s := range reconf {
		managerReconfigure(p, s)
	}
	m.mu.Lock()
	for _, p := range starts {
		if !containsPool(m.plan.starts, p) {
			m.plan.starts = append(m.plan.starts, p)
		}
	}
	m.mu.Unlock()
	return errors.Join(errs...)
}

// StartPending starts, in parallel, the pools the plans applied so far
// asked to start, and returns those that did not start. Start returns once
// the pool takes requests (its workers launch in the background, per the
// supervisor's contract).
func (m *Manager) StartPending(ctx context.Context) error {
	m.mu.Lock()
	ps := m.plan.starts
	m.plan.starts = nil
	m.mu.Unlock()
	return m.startPools(ctx, ps)
}

// addPoolLocked creates the pool of an AddPool action. A pool that has the
// same name in another letter case is replaced and waits for Retire.
// Called with m.mu held.
func (m *Manager) addPoolLocked(a Action) (*Pool, error) {
	key := strings.ToLower(a.Name)
	var logw io.Writer
	var err error
	if a.Synthetic {
		logw, err = m.legacyLogLocked(a.Name)
	} else {
		logw, err = m.poolLogLocked(a.Name)
	}
	if err != nil {
		logw = io.Discard
	}
	p := newPool(a.Settings, m.launcher, m.events, m.logger, logw)
	p.rest = m.rest
	if a.Synthetic {
		if old := m.iso.pools[key]; old != nil {
			m.iso.retire = append(m.iso.retire, old)
		}
		m.iso.pools[key] = p
	} else {
		if old := m.pools[key]; old != nil {
			m.plan.retire = append(m.plan.retire, old)
		}
		m.pools[key] = p
	}
	return p, err
}

// removePoolLocked marks the pool of a RemovePool action for Retire; the
// front routes to it until then. Called with m.mu held.
func (m *Manager) removePoolLocked(a Action) {
	key := strings.ToLower(a.Name)
	pools, planned, retire := m.pools, m.plan.pools, &m.plan.retire
	if a.Synthetic {
		pools, planned, retire = m.iso.pools, m.plan.synthetic, &m.iso.retire
	}
	if s, ok := planned[key]; ok && s.Name == a.Name {
		delete(planned, key)
	}
	// A pool replaced by one renamed in letter case only is on the
	// retire list already.
	if p := pools[key]; p != nil && p.name == a.Name {
		*retire = append(*retire, p)
	}
}

func containsPool(ps []*Pool, p *Pool) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

// startPools starts pools, in parallel, and returns what did not start.
func (m *Manager) startPools(ctx context.Context, ps []*Pool) error {
	var errs []error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Go(func() {
			if err := managerStart(ctx, p); err != nil && !errors.Is(err, hostapi.ErrAlreadyInState) {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Retire finishes a reconcile once the front routes by the new
// configuration: removed pools (the store's and Legacy mode's) leave the
// manager and are closed and, in Legacy mode, the store's pools are
// stopped. Both let the requests they hold finish within their
// shutdownTimeLimit; requests still queued in them are refused with
// ErrPoolStopped, which the front answers by routing them again on the new
// routes. Retire waits for all that; RetireInBackground does not.
func (m *Manager) Retire(ctx context.Context) {
	m.retire(ctx)()
}

// RetireInBackground is Retire without the wait: the removed pools leave
// the manager at once and close in the background (Shutdown waits for
// them).
func (m *Manager) RetireInBackground(ctx context.Context) {
	finish := m.retire(ctx)
	m.closing.Go(finish)
}

// retire takes the pools to retire out of the manager and returns what
// closes and stops them.
func (m *Manager) retire(ctx context.Context) func() {
	m.mu.Lock()
	old := append(m.iso.retire, m.plan.retire...)
	m.iso.retire, m.plan.retire = nil, nil
	for _, p := range old {
		key := strings.ToLower(p.name)
		if m.iso.pools[key] == p {
			delete(m.iso.pools, key)
		}
		if m.pools[key] == p {
			delete(m.pools, key)
		}
	}
	var stored []*Pool
	if m.iso.legacy {
		for _, p := range m.pools {
			stored = append(stored, p)
		}
	}
	m.mu.Unlock()
	return func() {
		var wg sync.WaitGroup
		for _, p := range old {
			wg.Go(func() { managerClose(ctx, p); m.closeLog(p.name) })
		}
		for _, p := range stored {
			if p.State() == Stopped {
				p.mu.Lock()
				p.reason = InactiveReason
				p.mu.Unlock()
				continue
			}
			wg.Go(func() {
				if err := p.Stop(ctx, InactiveReason); err != nil && !errors.Is(err, hostapi.ErrAlreadyInState) {
					m.logger.Error("stop pool for Legacy isolation mode", "pool", p.name, "err", err)
				}
			})
		}
		wg.Wait()
	}
}

// waitClosing waits for the pools closing in the background, until ctx
// ends.
func (m *Manager) waitClosing(ctx context.Context) {
	done := make(chan struct{})
	go func() { m.closing.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}
