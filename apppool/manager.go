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
	"github.com/poolctl/poolctl/hostapi"
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
}

// NewManager returns a manager with no pools.
func NewManager(l Launcher, rec *events.Recorder, logger *slog.Logger) *Manager {
	return &Manager{launcher: l, events: rec, logger: logger, pools: map[string]*Pool{}, logs: map[string]*workerLog{}}
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

// Reconcile makes the running pools match cfg: new pools are created (and
// started when autoStart), removed ones stopped and dropped, the others
// reconfigured.
func (m *Manager) Reconcile(ctx context.Context, cfg *store.Config) error {
	want := map[string]*store.AppPool{}
	for i := range cfg.ApplicationPools {
		p := &cfg.ApplicationPools[i]
		want[strings.ToLower(p.Name)] = p
	}
	names := make([]string, 0, len(want))
	for _, p := range want {
		names = append(names, p.Name)
	}
	m.launcher.Identities.SetPools(append(names, legacyNames(cfg)...))
	legacy := cfg.LegacyIsolation() // the store's pools are inactive (legacy.go)
	var errs []error
	m.mu.Lock()
	var removed []*Pool
	for key, p := range m.pools {
		if sp, ok := want[key]; !ok || sp.Name != p.name {
			removed = append(removed, p)
			delete(m.pools, key)
		}
	}
	var added, changed []*Pool
	settings := map[*Pool]Settings{}
	for key, sp := range want {
		s := NewSettings(cfg, sp)
		if p, ok := m.pools[key]; ok {
			if legacy {
				s = p.masked(s)
			}
			changed = append(changed, p)
			settings[p] = s
			continue
		}
		logw, err := m.poolLogLocked(sp.Name)
		if err != nil {
			errs = append(errs, err)
			logw = io.Discard
		}
		p := newPool(s, m.launcher, m.events, m.logger, logw)
		m.pools[key] = p
		added = append(added, p)
		settings[p] = s
	}
	m.mu.Unlock()

	var wg sync.WaitGroup
	var errMu sync.Mutex
	for _, p := range removed {
		wg.Add(1)
		go func() { defer wg.Done(); p.close(ctx); m.closeLog(p.name) }()
	}
	for _, p := range changed {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.Reconfigure(ctx, settings[p]); err != nil {
				m.logger.Error("reconfigure pool", "pool", p.name, "err", err)
			}
		}()
	}
	for _, p := range added {
		if legacy || !settings[p].AutoStart {
			p.mu.Lock()
			p.reason = inactiveReason(legacy)
			p.mu.Unlock()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.Start(ctx); err != nil && !errors.Is(err, hostapi.ErrAlreadyInState) {
				errMu.Lock()
				errs = append(errs, err)
				errMu.Unlock()
			}
		}()
	}
	wg.Wait()
	errs = append(errs, m.reconcileIsolation(ctx, cfg))
	return errors.Join(errs...)
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
	if f := m.logs[strings.ToLower(name)]; f != nil && m.pools[strings.ToLower(name)] == nil {
		f.Close()
		delete(m.logs, strings.ToLower(name))
	}
}

// Shutdown stops every pool, letting requests in flight finish within each
// pool's shutdownTimeLimit, and ends their actors.
func (m *Manager) Shutdown(ctx context.Context) {
	m.mu.Lock()
	pools := m.pools
	m.pools = map[string]*Pool{}
	legacy := m.takeLegacyLocked()
	m.mu.Unlock()
	for _, p := range legacy {
		pools[strings.ToLower(p.name)] = p // names cannot collide (legacy.go)
	}
	var wg sync.WaitGroup
	for _, p := range pools {
		wg.Add(1)
		go func() { defer wg.Done(); p.close(ctx) }()
	}
	wg.Wait()
	closeCgroups(m.logger) // jail.go
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
