package apppool

import (
	"context"
	"errors"
	"github.com/poolctl/poolctl/runstate"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/poolctl/poolctl/store"
)

// legacyConfig has defaults with every trigger on and a command, pool P
// with a command of its own, pool Q without, and applications of each
// appIsolation.
func legacyConfig(t *testing.T, mode string) *store.Config {
	t.Helper()
	cfg := &store.Config{}
	set := func(ps *store.PoolSettings, path, text string) {
		f := store.PoolSchema.Field(path)
		v, err := f.Parse(text)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		f.Set(ps, v)
	}
	d := &cfg.ApplicationPoolDefaults
	for _, kv := range [][2]string{
		{"recycling.periodicRestart.time", "01:00:00"}, {"recycling.periodicRestart.requests", "100"},
		{"recycling.periodicRestart.memory", "100000"}, {"recycling.periodicRestart.privateMemory", "100000"},
		{"processModel.pingingEnabled", "true"}, {"failure.rapidFailProtection", "true"}, {"cpu.limit", "50000"},
		{"processModel.idleTimeout", "00:20:00"}, {"processModel.maxProcesses", "4"}, {"startMode", "AlwaysRunning"},
		{"autoStart", "false"}, {"processModel.command", "/bin/defaults-worker"},
	} {
		set(d, kv[0], kv[1])
	}
	store.PoolSchema.Field("recycling.periodicRestart.schedule").Set(d, []store.TimeSpan{store.TimeSpan(3 * time.Hour)})
	p := store.AppPool{Name: "P"}
	set(&p.PoolSettings, "processModel.command", "/bin/own-worker --flag")
	set(&p.PoolSettings, "processModel.workingDirectory", "/srv/p")
	q := store.AppPool{Name: "Q"}
	set(&q.PoolSettings, "processModel.command", "")
	set(&q.PoolSettings, "autoStart", "true")
	cfg.ApplicationPools = []store.AppPool{p, q}
	iso := func(v string) *string { return &v }
	cfg.Sites = []store.Site{{Name: "S", ID: 1, Bindings: []store.Binding{{Protocol: "http", BindingInformation: "*:8080:"}},
		Applications: []store.Application{
			{Path: "/", ApplicationPool: "Q", PhysicalPath: "/srv/root"},
			{Path: "/med", ApplicationPool: "P", PhysicalPath: "/srv/med", AppIsolation: iso("Medium")},
			{Path: "/own", ApplicationPool: "P", PhysicalPath: "/srv/own", AppIsolation: iso("High")},
			{Path: "/builtin", ApplicationPool: "Q", PhysicalPath: "/srv/builtin", AppIsolation: iso("High")},
			{Path: "/low", ApplicationPool: "Q", PhysicalPath: "/srv/low", AppIsolation: iso("Low")},
		}}}
	cfg.Host = &store.HostSettings{IsolationMode: &mode}
	return cfg
}

// TestLegacyPlacement: Medium (the default) applications share one pool,
// each High one has its own, Low ones none.
func TestLegacyPlacement(t *testing.T) {
	cfg := legacyConfig(t, "Legacy")
	apps := cfg.Sites[0].Applications
	want := []string{LegacyMediumPool, LegacyMediumPool, "Legacy: High: S/own", "Legacy: High: S/builtin", ""}
	for i := range apps {
		if got := LegacyPool("S", &apps[i]); got != want[i] {
			t.Errorf("LegacyPool(%s) = %q, want %q", apps[i].Path, got, want[i])
		}
	}
	plans := legacyPlans(cfg)
	if len(plans) != 3 {
		t.Fatalf("plans %v, want Medium and two High", plans)
	}
	paths := func(pl *legacyPlan) []string {
		var out []string
		for _, a := range pl.apps {
			out = append(out, a.Path)
		}
		return out
	}
	if got := paths(plans[strings.ToLower(LegacyMediumPool)]); !slices.Equal(got, []string{"/", "/med"}) {
		t.Errorf("Medium serves %v, want / and /med", got)
	}
	if pl := plans["legacy: high: s/own"]; pl == nil || pl.own == nil || pl.own.Name != "P" || !slices.Equal(paths(pl), []string{"/own"}) {
		t.Errorf("High /own: %+v, want /own alone with pool P's command", pl)
	}
	if pl := plans["legacy: high: s/builtin"]; pl == nil || pl.own != nil {
		t.Errorf("High /builtin: %+v, want the built-in worker (Q has no command)", pl)
	}
	if n := legacyNames(legacyConfig(t, "WorkerProcess")); len(n) != 0 {
		t.Errorf("legacyNames in WorkerProcess mode = %v, want none", n)
	}
}

// TestLegacySettings: synthetic pools have no recycling trigger, pinging,
// rapid-fail protection, CPU limit or idle timeout, one worker on demand;
// Medium runs the built-in worker even when the defaults name a command.
func TestLegacySettings(t *testing.T) {
	cfg := legacyConfig(t, "Legacy")
	plans := legacyPlans(cfg)
	for key, pl := range plans {
		s := legacySettings(cfg, pl)
		r := s.Resolved
		pr := r.Recycling.PeriodicRestart
		if *pr.Time != 0 || *pr.Requests != 0 || *pr.Memory != 0 || *pr.PrivateMemory != 0 || len(*pr.Schedule) != 0 {
			t.Errorf("%s: periodicRestart %v %v %v %v %v, want all off", key, *pr.Time, *pr.Requests, *pr.Memory, *pr.PrivateMemory, *pr.Schedule)
		}
		if *r.ProcessModel.PingingEnabled || *r.Failure.RapidFailProtection || *r.CPU.Limit != 0 {
			t.Errorf("%s: pinging %v rapidFail %v cpu.limit %d, want off", key, *r.ProcessModel.PingingEnabled, *r.Failure.RapidFailProtection, *r.CPU.Limit)
		}
		if s.MaxProcesses != 1 || s.IdleTimeout != 0 || s.AlwaysRunning || !s.AutoStart || s.Name != pl.name {
			t.Errorf("%s: %+v, want one worker on demand, no idle timeout, started", key, s)
		}
		if len(s.Spec.Applications) != len(pl.apps) {
			t.Errorf("%s: spec %v, want %v", key, s.Spec.Applications, pl.apps)
		}
	}
	med := legacySettings(cfg, plans[strings.ToLower(LegacyMediumPool)])
	if len(med.Command) != 0 || med.WorkingDirectory != "" {
		t.Errorf("Medium runs %v in %q, want the built-in worker", med.Command, med.WorkingDirectory)
	}
	own := legacySettings(cfg, plans["legacy: high: s/own"])
	if !slices.Equal(own.Command, []string{"/bin/own-worker", "--flag"}) || own.WorkingDirectory != "/srv/p" {
		t.Errorf("High /own runs %v in %q, want pool P's command and directory", own.Command, own.WorkingDirectory)
	}
	if p := cfg.Pool("P"); p.Recycling != nil || p.ProcessModel.PingingEnabled != nil {
		t.Errorf("the store's pool P was changed: %+v", p.PoolSettings)
	}
}

// TestLegacyNamesCannotCollide: no store pool can be named like a
// synthetic pool, and their log files have distinct safe names.
func TestLegacyNamesCannotCollide(t *testing.T) {
	names := []string{LegacyMediumPool, LegacyHighPool("S", "/"), LegacyHighPool("S", "/a/b"), LegacyHighPool("S a", "/b")}
	logs := map[string]bool{}
	for _, n := range names {
		if err := store.ValidatePoolName(n); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("ValidatePoolName(%q) = %v, want ErrInvalid", n, err)
		}
		if !IsLegacyPool(n) {
			t.Errorf("IsLegacyPool(%q) = false", n)
		}
		l := legacyLogName(n)
		if strings.ContainsAny(l, "/: ") || logs[l] {
			t.Errorf("log name %q of %q: unsafe or taken", l, n)
		}
		logs[l] = true
	}
	if IsLegacyPool("Legacy Medium") {
		t.Error("IsLegacyPool(\"Legacy Medium\") = true for a valid store pool name")
	}
}

// TestManagerIsolationSwitch: in Legacy mode the store's pools are
// inactive (stopped by Retire, their settings and autoStart kept) and the
// synthetic ones run; back in WorkerProcess mode the autoStart pools start
// and the synthetic ones are removed by Retire.
func TestManagerIsolationSwitch(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m := NewManager(Launcher{LogDir: t.TempDir()}, nil, slog.New(slog.DiscardHandler))
	defer m.Shutdown(ctx)
	if err := m.Reconcile(ctx, legacyConfig(t, "WorkerProcess")); err != nil {
		t.Fatal(err)
	}
	m.Retire(ctx)
	state := func(name string) string { return m.Pool(name).Status().State.String() }
	if state("Q") != "Started" || state("P") != "Stopped" || len(m.LegacyPools()) != 0 {
		t.Fatalf("WorkerProcess: Q %s, P %s, legacy %d; want Q started (autoStart), P stopped, no legacy pool", state("Q"), state("P"), len(m.LegacyPools()))
	}

	if err := m.Reconcile(ctx, legacyConfig(t, "Legacy")); err != nil {
		t.Fatal(err)
	}
	if state("Q") != "Started" {
		t.Errorf("Q is %s before Retire, want Started until the routes moved", state("Q"))
	}
	m.Retire(ctx)
	if state("Q") != "Stopped" || !m.Legacy() {
		t.Errorf("Legacy: Q %s, want Stopped", state("Q"))
	}
	for _, st := range m.PoolStatuses() {
		if st.State != runstate.PoolInactive || !strings.Contains(st.Reason, "isolationMode WorkerProcess") {
			t.Errorf("status %+v, want Inactive and how to switch back", st)
		}
	}
	if got := len(m.LegacyPools()); got != 3 {
		t.Errorf("legacy pools %d, want 3", got)
	}
	if p := m.Pool(LegacyMediumPool); p == nil || p.Status().State != runstate.PoolStarted {
		t.Errorf("Medium pool %v, want started", p)
	}
	if len(m.Pools()) != 2 || len(m.AllPools()) != 5 {
		t.Errorf("Pools %d, AllPools %d, want 2 and 5", len(m.Pools()), len(m.AllPools()))
	}

	if err := m.Reconcile(ctx, legacyConfig(t, "WorkerProcess")); err != nil {
		t.Fatal(err)
	}
	if state("Q") != "Started" || state("P") != "Stopped" {
		t.Errorf("back: Q %s, P %s, want Q started as at host start, P stopped", state("Q"), state("P"))
	}
	med := m.Pool(LegacyMediumPool)
	if med == nil {
		t.Fatal("the Medium pool was removed before Retire: the front still routes to it")
	}
	m.Retire(ctx)
	if m.Pool(LegacyMediumPool) != nil || len(m.LegacyPools()) != 0 {
		t.Errorf("legacy pools after Retire: %d", len(m.LegacyPools()))
	}
	if _, err := med.Acquire(ctx, &Request{}); !errors.Is(err, ErrPoolStopped) {
		t.Errorf("Acquire on the retired Medium pool = %v, want ErrPoolStopped (the front routes it again)", err)
	}
}
