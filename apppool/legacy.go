package apppool

import (
	"fmt"
	"github.com/poolctl/poolctl/runstate"
	"hash/fnv"
	"io"
	"sort"
	"strings"

	"github.com/poolctl/poolctl/hostapi"
	"github.com/poolctl/poolctl/store"
	"github.com/poolctl/poolctl/worker"
)

// Legacy (IIS 5.0) isolation mode: with the host's isolationMode Legacy the
// pools of the store are inactive (kept, with their settings, but stopped)
// and each application runs by its appIsolation: Low inside the host (the
// front serves it), Medium in one shared worker of the built-in handler,
// High in a worker of its own. The Medium and High workers belong to
// synthetic pools that only the manager knows; their names contain ':',
// which store.ValidatePoolName forbids, so no store pool can have them.

// appIsolation values.
const (
	IsolationLow    = "Low"
	IsolationMedium = "Medium"
	IsolationHigh   = "High"
)

// LegacyMediumPool is the synthetic pool of the shared Medium worker.
const LegacyMediumPool = "Legacy: Medium"

// legacyHighPrefix starts the name of every High application's pool.
const legacyHighPrefix = "Legacy: High: "

// InactiveState is the state the host reports for the store's pools in
// Legacy isolation mode.
const InactiveState = runstate.PoolInactive

// InactiveReason says why the store's pools do not run in Legacy mode and
// how to bring them back.
const InactiveReason = "pools are inactive: the host runs in Legacy (IIS 5.0) isolation mode; " +
	"the host's isolationMode WorkerProcess brings them back with their settings"

// ErrInactive refuses an action on a store pool in Legacy isolation mode;
// it wraps hostapi.ErrConflict.
var ErrInactive = fmt.Errorf("%w: %s", hostapi.ErrConflict, InactiveReason)

// LegacyHighPool is the synthetic pool of a High application.
func LegacyHighPool(site, path string) string {
	return legacyHighPrefix + store.AppName(site, path)
}

// IsLegacyPool reports whether name is a synthetic Legacy pool's.
func IsLegacyPool(name string) bool {
	return name == LegacyMediumPool || strings.HasPrefix(name, legacyHighPrefix)
}

// AppIsolation is the effective appIsolation of a (Medium unless set).
func AppIsolation(a *store.Application) string {
	f := store.AppSchema.Field("appIsolation")
	if v, ok := f.Get(a); ok {
		return v.(string)
	}
	return f.DefaultValue().(string)
}

// LegacyPool is the synthetic pool that serves application a of site in
// Legacy mode, "" for a Low application (served inside the host).
func LegacyPool(site string, a *store.Application) string {
	switch AppIsolation(a) {
	case IsolationLow:
		return ""
	case IsolationHigh:
		return LegacyHighPool(site, a.Path)
	}
	return LegacyMediumPool
}

// LowSpec is the built-in handler's spec for a Low application of site,
// which the front serves inside the host.
func LowSpec(site string, a *store.Application) worker.Spec {
	return specOf([]worker.App{workerApp(site, *a)})
}

// legacyOverrides turn off, for a synthetic pool, what IIS 5.0 isolation
// did not have: recycling triggers, pinging, rapid-fail protection, the
// CPU limit and the idle timeout; one worker, started by the first request.
var legacyOverrides = []struct{ path, value string }{
	{"autoStart", "true"},
	{"startMode", "OnDemand"},
	{"processModel.maxProcesses", "1"},
	{"processModel.idleTimeout", "00:00:00"},
	{"processModel.pingingEnabled", "false"},
	{"recycling.periodicRestart.time", "00:00:00"},
	{"recycling.periodicRestart.requests", "0"},
	{"recycling.periodicRestart.memory", "0"},
	{"recycling.periodicRestart.privateMemory", "0"},
	{"failure.rapidFailProtection", "false"},
	{"cpu.limit", "0"},
}

// legacyPlan is one synthetic pool: its applications and where its
// settings come from.
type legacyPlan struct {
	name string
	apps []worker.App
	// own is the application's own pool whose processModel.command a High
	// application runs; nil runs the built-in worker.
	own *store.AppPool
}

// legacyPlans lists the synthetic pools cfg needs in Legacy mode, by
// lower-case name.
func legacyPlans(cfg *store.Config) map[string]*legacyPlan {
	out := map[string]*legacyPlan{}
	for _, site := range cfg.Sites {
		for i := range site.Applications {
			a := &site.Applications[i]
			name := LegacyPool(site.Name, a)
			if name == "" {
				continue
			}
			pl := out[strings.ToLower(name)]
			if pl == nil {
				pl = &legacyPlan{name: name}
				out[strings.ToLower(name)] = pl
			}
			pl.apps = append(pl.apps, workerApp(site.Name, *a))
			if name != LegacyMediumPool {
				if p := cfg.Pool(a.ApplicationPool); p != nil {
					if cmd, _ := cfg.Effective(p, store.PoolSchema.Field("processModel.command")); len(cmd.([]string)) > 0 {
						pl.own = p
					}
				}
			}
		}
	}
	return out
}

// legacySettings resolves a synthetic pool's settings: the application's
// own pool for a High application that runs its pool's command,
// applicationPoolDefaults otherwise, with legacyOverrides applied. The
// Medium worker always runs the built-in handler: one custom command cannot
// serve the applications of several pools.
func legacySettings(cfg *store.Config, pl *legacyPlan) Settings {
	src := &store.AppPool{Name: pl.name}
	if pl.own != nil {
		src = pl.own
	}
	ap := store.AppPool{Name: pl.name, PoolSettings: cfg.Resolved(src)}
	for _, o := range legacyOverrides {
		f := store.PoolSchema.Field(o.path)
		v, err := f.Parse(o.value)
		if err != nil {
			panic(fmt.Sprintf("apppool: legacy override %s: %v", o.path, err))
		}
		f.Set(&ap.PoolSettings, v)
	}
	store.PoolSchema.Field("recycling.periodicRestart.schedule").Set(&ap.PoolSettings, []store.TimeSpan{})
	s := NewSettings(cfg, &ap)
	s.Spec = specOf(pl.apps)
	if pl.own == nil {
		s.Command, s.WorkingDirectory = nil, ""
	}
	s.startHash = s.digest()
	return s
}

// isolation is the manager's Legacy-mode state, guarded by Manager.mu.
type isolation struct {
	known  bool             // a configuration was applied
	legacy bool             // the mode applied last
	pools  map[string]*Pool // synthetic pools by lower-case name
	retire []*Pool          // synthetic pools to close once routes moved
}

// Legacy reports whether the manager runs in Legacy isolation mode.
func (m *Manager) Legacy() bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.iso.legacy
}

// legacyNames lists the synthetic pools cfg needs (none in WorkerProcess
// mode), for identity assignment.
func legacyNames(cfg *store.Config) []string {
	if !cfg.LegacyIsolation() {
		return nil
	}
	var out []string
	for _, pl := range legacyPlans(cfg) {
		out = append(out, pl.name)
	}
	return out
}

// masked returns the settings a store pool runs with while inactive: its
// runtime autoStart is kept, so that Reconfigure neither starts nor stops
// it; Retire stops it once the routes have moved.
func (p *Pool) masked(s Settings) Settings {
	s.AutoStart = p.Settings().AutoStart
	s.AlwaysRunning = false
	return s
}

// inactiveReason is why a store pool added in Legacy mode, or with
// autoStart false, is not started.
func inactiveReason(legacy bool) string {
	if legacy {
		return InactiveReason
	}
	return "autoStart is false (poolctl start apppool starts it)"
}

// legacyLogLocked opens a synthetic pool's worker log, under a file name
// made safe from its pool name. Called with m.mu held.
func (m *Manager) legacyLogLocked(name string) (io.Writer, error) {
	l, err := openLog(m.launcher.LogDir, legacyLogName(name), m.launcher.WorkerLog, m.logger)
	if err != nil {
		return nil, err
	}
	key := strings.ToLower(name)
	if old := m.logs[key]; old != nil {
		old.Close()
	}
	m.logs[key] = l
	return l, nil
}

// legacyLogName is the log file name (without .log) of a synthetic pool:
// "legacy-medium", or "legacy-high-" with the application's name made of
// letters, digits, '-' and '_', and a hash that keeps distinct names apart.
func legacyLogName(name string) string {
	if name == LegacyMediumPool {
		return "legacy-medium"
	}
	app := strings.TrimPrefix(name, legacyHighPrefix)
	safe := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '_'
	}, app)
	h := fnv.New32a()
	_, _ = h.Write([]byte(strings.ToLower(app)))
	return fmt.Sprintf("legacy-high-%s-%08x", safe, h.Sum32())
}

// LegacyPools returns the synthetic pools, sorted by name.
func (m *Manager) LegacyPools() []*Pool {
	m.mu.RLock()
	out := make([]*Pool, 0, len(m.iso.pools))
	for _, p := range m.iso.pools {
		out = append(out, p)
	}
	m.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// AllPools returns the store's pools and the synthetic ones, for the lists
// of workers and requests.
func (m *Manager) AllPools() []*Pool {
	return append(m.Pools(), m.LegacyPools()...)
}

// PoolStatuses is the runtime state of the store's pools; in Legacy mode
// each says Inactive and why.
func (m *Manager) PoolStatuses() []hostapi.PoolStatus {
	legacy := m.Legacy()
	var out []hostapi.PoolStatus
	for _, p := range m.Pools() {
		st := p.Status()
		if legacy {
			st.State, st.Reason = InactiveState, InactiveReason
		}
		out = append(out, st)
	}
	return out
}

// takeLegacyLocked empties the synthetic pools (those waiting for Retire
// among them), for Shutdown. Called with m.mu held.
func (m *Manager) takeLegacyLocked() []*Pool {
	var out []*Pool
	for _, p := range m.iso.pools {
		out = append(out, p)
	}
	m.iso.pools, m.iso.retire = map[string]*Pool{}, nil
	return out
}

// legacyPoolLocked returns the synthetic pool with the name, or nil. Called with
// m.mu held.
func (m *Manager) legacyPoolLocked(name string) *Pool {
	return m.iso.pools[strings.ToLower(name)]
}
