package apppool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"

	"github.com/poolctl/poolctl/events"
	"github.com/poolctl/poolctl/store"
)

// Manager runs every pool of the store and reconciles them with it.
type Manager struct {
	launcher Launcher
	events   *events.Recorder
	logger   *slog.Logger

	mu    sync.RWMutex
	pools map[string]*Pool // by lower-case name
	logs  map[string]*workerLog
	iso   isolation // Legacy isolation mode (legacy.go)
	plan  applied   // what the plans applied asked for (plan_apply.go)

	closing sync.WaitGroup // pools being closed in the background (plan_apply.go)

	rest *restWatch // when the host comes to rest (rest.go)
}

// NewManager returns a manager with no pools.
func NewManager(l Launcher, rec *events.Recorder, logger *slog.Logger) *Manager {
	return &Manager{launcher: l, events: rec, logger: logger, pools: map[string]*Pool{}, logs: map[string]*workerLog{},
		rest: newRestWatch(RestQuiet, l.OnRest, l.OnBusy)}
}

// Pool returns the running pool with the name, or nil.
func (m *Manager) Pool(name string) *Pool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if p := m.pools[strings.ToLower(name)]; p != nil {
		return p
	}
	return m.legacyPoolLocked(name)
}

// Pools returns every pool, sorted by name.
func (m *Manager) Pools() []*Pool {
	m.mu.RLock()
	out := make([]*Pool, 0, len(m.pools))
	for _, p := range m.pools {
		out = append(out, p)
	}
	m.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].name) < strings.ToLower(out[j].name) })
	return out
}

// Reconcile makes the running pools match cfg in one step: it plans,
// diffs and applies (plan.go, plan_diff.go, plan_apply.go). Removed pools
// and, in Legacy mode, the store's pools keep running until Retire, so that
// the front can route to the new targets first. The host's pipeline calls
// PlanPools, Diff and Apply itself.
func (m *Manager) Reconcile(ctx context.Context, cfg *store.Config) error {
	pl := PlanPools(cfg)
	err := m.Apply(ctx, pl, Diff(pl, m.Running()))
	return errors.Join(err, m.StartPending(ctx))
}

// poolLogLocked opens the pool's worker log. Called with m.mu held.
func (m *Manager) poolLogLocked(name string) (io.Writer, error) {
	l, err := openLog(m.launcher.LogDir, name, m.launcher.WorkerLog, m.logger)
	if err != nil {
		return nil, err
	}
	if old := m.logs[strings.ToLower(name)]; old != nil {
		old.Close()
	}
	m.logs[strings.ToLower(name)] = l
	return l, nil
}

// ReopenLogs reopens every pool's worker log, for after logrotate renamed
// the files: later output goes to new files at the usual paths while the
// workers keep running.
func (m *Manager) ReopenLogs() error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var errs []error
	for _, l := range m.logs {
		if err := l.Reopen(); err != nil {
			errs = append(errs, fmt.Errorf("pool %s: %w", l.pool, err))
		}
	}
	return errors.Join(errs...)
}

func (m *Manager) closeLog(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if f := m.logs[strings.ToLower(name)]; f != nil && m.pools[strings.ToLower(name)] == nil && m.iso.pools[strings.ToLower(name)] == nil {
		f.Close()
		delete(m.logs, strings.ToLower(name))
	}
}

// Shutdown stops every pool, letting requests in flight finish within each
// pool's shutdownTimeLimit, and ends their actors.
func (m *Manager) Shutdown(ctx context.Context) {
	m.mu.Lock()
	var pools []*Pool
	for _, p := range m.pools {
		pools = append(pools, p)
	}
	m.pools = map[string]*Pool{}
	pools = append(pools, m.takeLegacyLocked()...)
	pools = append(pools, m.plan.takeRetiredLocked(pools)...)
	m.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range pools {
		wg.Add(1)
		go func() { defer wg.Done(); managerClose(ctx, p) }()
	}
	wg.Wait()
	m.waitClosing(ctx)
	closeCgroups(m.logger) // jail.go
	m.rest.stop()
	m.mu.Lock()
	for k, f := range m.logs {
		f.Close()
		delete(m.logs, k)
	}
	m.mu.Unlock()
}

// Lookup returns the pool or an error that maps to "not found".
func (m *Manager) Lookup(name string) (*Pool, error) {
	if p := m.Pool(name); p != nil {
		return p, nil
	}
	return nil, fmt.Errorf("apppool %q: %w", name, store.ErrNotFound)
}
