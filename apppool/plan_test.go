package apppool

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/poolctl/poolctl/store"
)

// planConfig is a store with pools A (maxProcesses 2) and B, a site whose
// "/" runs in A and "/b" in B; edit changes it.
func planConfig(t *testing.T, edit func(*store.Config)) *store.Config {
	t.Helper()
	cfg := &store.Config{ApplicationPools: []store.AppPool{{Name: "A"}, {Name: "B"}}}
	f := store.PoolSchema.Field("processModel.maxProcesses")
	v, err := f.Parse("2")
	if err != nil {
		t.Fatal(err)
	}
	f.Set(&cfg.ApplicationPools[0].PoolSettings, v)
	cfg.Sites = []store.Site{{Name: "S", ID: 1, Bindings: []store.Binding{{Protocol: "http", BindingInformation: "*:8080:"}},
		Applications: []store.Application{
			{Path: "/", ApplicationPool: "A", PhysicalPath: "/srv/a"},
			{Path: "/b", ApplicationPool: "B", PhysicalPath: "/srv/b"},
		}}}
	if edit != nil {
		edit(cfg)
	}
	return cfg
}

// runningOf is what a manager runs after applying pl.
func runningOf(pl Plan) Running {
	return Running{Known: true, Legacy: pl.Legacy, Pools: pl.Pools, Synthetic: pl.Synthetic}
}

func setPool(t *testing.T, p *store.AppPool, path, text string) {
	t.Helper()
	f := store.PoolSchema.Field(path)
	v, err := f.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	f.Set(&p.PoolSettings, v)
}

// TestDiff: plan and diff are pure functions; each change of the store
// gives exactly the actions that apply it.
func TestDiff(t *testing.T) {
	legacy := "Legacy"
	tests := []struct {
		name string
		edit func(*testing.T, *store.Config)
		want []string
	}{
		{"no change", func(*testing.T, *store.Config) {}, nil},
		{"rename is add + remove", func(_ *testing.T, c *store.Config) {
			c.ApplicationPools[0].Name = "A2"
			c.Sites[0].Applications[0].ApplicationPool = "A2"
		}, []string{"add pool A2", "remove pool A"}},
		{"rename in letter case only", func(_ *testing.T, c *store.Config) {
			c.ApplicationPools[0].Name = "a"
			c.Sites[0].Applications[0].ApplicationPool = "a"
		}, []string{"add pool a", "remove pool A"}},
		{"maxProcesses change is a reconfigure", func(t *testing.T, c *store.Config) {
			setPool(t, &c.ApplicationPools[0], "processModel.maxProcesses", "3")
		}, []string{"reconfigure pool A"}},
		{"queueLength change is a reconfigure", func(t *testing.T, c *store.Config) {
			setPool(t, &c.ApplicationPools[1], "queueLength", "10")
		}, []string{"reconfigure pool B"}},
		{"app move changes both pools' spec", func(_ *testing.T, c *store.Config) {
			c.Sites[0].Applications[1].ApplicationPool = "A"
		}, []string{"reconfigure pool A", "reconfigure pool B"}},
		{"pool added", func(_ *testing.T, c *store.Config) {
			c.ApplicationPools = append(c.ApplicationPools, store.AppPool{Name: "C"})
		}, []string{"add pool C"}},
		{"pool removed with its app", func(_ *testing.T, c *store.Config) {
			c.ApplicationPools = c.ApplicationPools[:1]
			c.Sites[0].Applications = c.Sites[0].Applications[:1]
		}, []string{"remove pool B"}},
		{"binding added: no pool action", func(_ *testing.T, c *store.Config) {
			c.Sites[0].Bindings = append(c.Sites[0].Bindings, store.Binding{Protocol: "http", BindingInformation: "*:8081:"})
		}, nil},
		{"Legacy isolation is one more planner", func(_ *testing.T, c *store.Config) {
			c.Host = &store.HostSettings{IsolationMode: &legacy}
		}, []string{"switch isolation to Legacy", "add legacy pool " + LegacyMediumPool}},
	}
	base := PlanPools(planConfig(t, nil))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := PlanPools(planConfig(t, func(c *store.Config) { tt.edit(t, c) }))
			var got []string
			for _, a := range Diff(want, runningOf(base)) {
				got = append(got, a.String())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Diff = %q, want %q", got, tt.want)
			}
			// Applied, the plan needs nothing more.
			if again := Diff(want, runningOf(want)); len(again) != 0 {
				t.Errorf("Diff of a plan with itself = %v, want none", again)
			}
		})
	}
}

// TestPlanPoolsPure: two plans of the same store are equal, and the
// maxProcesses a pool sets is what its settings say.
func TestPlanPoolsPure(t *testing.T) {
	a, b := PlanPools(planConfig(t, nil)), PlanPools(planConfig(t, nil))
	if d := Diff(a, runningOf(b)); len(d) != 0 {
		t.Errorf("two plans of one store differ: %v", d)
	}
	if got := a.Pools["a"].MaxProcesses; got != 2 {
		t.Errorf("A maxProcesses %d, want 2", got)
	}
	if got := strings.Join(a.Names(), ","); got != "A,B" {
		t.Errorf("Names = %q, want A,B", got)
	}
}

// TestManagerRenameKeepsOldUntilRetire: a renamed pool is added before the
// old one goes, and the old one goes only at Retire (once the front routes
// to the new name): a request routed by either table finds its pool.
// (Before, Reconcile dropped the old pool at once: requests still routed
// to it got "application pool does not exist".)
func TestManagerRenameKeepsOldUntilRetire(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m := NewManager(Launcher{LogDir: t.TempDir()}, nil, slog.New(slog.DiscardHandler))
	defer m.Shutdown(ctx)
	off := func(c *store.Config) {
		for i := range c.ApplicationPools {
			setPool(t, &c.ApplicationPools[i], "autoStart", "false") // no worker needed
		}
	}
	if err := m.Reconcile(ctx, planConfig(t, off)); err != nil {
		t.Fatal(err)
	}
	m.Retire(ctx)
	old := m.Pool("A")
	if old == nil {
		t.Fatal("no pool A")
	}
	if err := m.Reconcile(ctx, planConfig(t, func(c *store.Config) {
		off(c)
		c.ApplicationPools[0].Name = "A2"
		c.Sites[0].Applications[0].ApplicationPool = "A2"
	})); err != nil {
		t.Fatal(err)
	}
	if m.Pool("A") != old {
		t.Error("pool A left before Retire: the front still routes to it")
	}
	if m.Pool("A2") == nil {
		t.Error("pool A2 not there before the routes swap")
	}
	m.Retire(ctx)
	if m.Pool("A") != nil {
		t.Error("pool A still there after Retire")
	}
	if got := len(m.Pools()); got != 2 {
		t.Errorf("%d pools after the rename, want 2 (A2, B)", got)
	}
}
