package host

import (
	"slices"
	"testing"

	"github.com/poolctl/poolctl/store"
)

// hostPlanConfig is a store with pools A and B and one site on :8080 whose
// "/" runs in A and "/b" in B; edit changes it.
func hostPlanConfig(edit func(*store.Config)) *store.Config {
	cfg := &store.Config{ApplicationPools: []store.AppPool{{Name: "A"}, {Name: "B"}}}
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

// runningAs is what a host runs after applying d.
func runningAs(d desired) running {
	r := running{listeners: d.listeners}
	r.pools.Known, r.pools.Legacy, r.pools.Pools, r.pools.Synthetic = true, d.pools.Legacy, d.pools.Pools, d.pools.Synthetic
	return r
}

// TestPlanDiff: plan and diff are pure; each store change gives the
// actions in apply's order: pools first, the one routes swap, then
// listeners that close and pools that go.
func TestPlanDiff(t *testing.T) {
	tests := []struct {
		name string
		edit func(*store.Config)
		want []string
	}{
		{"no change: the routes swap only", func(*store.Config) {}, []string{"swap routes"}},
		{"rename: add, swap, remove", func(c *store.Config) {
			c.ApplicationPools[0].Name = "PyC"
			c.Sites[0].Applications[0].ApplicationPool = "PyC"
		}, []string{"add pool PyC", "swap routes", "remove pool A"}},
		{"app move: both pools' spec and the routes", func(c *store.Config) {
			c.Sites[0].Applications[1].ApplicationPool = "A"
		}, []string{"reconfigure pool A", "reconfigure pool B", "swap routes"}},
		{"binding added", func(c *store.Config) {
			c.Sites[0].Bindings = append(c.Sites[0].Bindings, store.Binding{Protocol: "http", BindingInformation: "127.0.0.1:8081:"})
		}, []string{"open listener http 127.0.0.1:8081", "swap routes"}},
		{"binding moved", func(c *store.Config) {
			c.Sites[0].Bindings[0].BindingInformation = "*:8082:"
		}, []string{"open listener http :8082", "swap routes", "close listener http :8080"}},
		{"site stopped: its listener closes", func(c *store.Config) {
			off := false
			c.Sites[0].ServerAutoStart = &off
		}, []string{"swap routes", "close listener http :8080"}},
	}
	base := plan(hostPlanConfig(nil))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := plan(hostPlanConfig(tt.edit))
			if got := diff(want, runningAs(base)).lines(); !slices.Equal(got, tt.want) {
				t.Errorf("diff = %q, want %q", got, tt.want)
			}
			if got := diff(want, runningAs(want)).lines(); !slices.Equal(got, []string{"swap routes"}) {
				t.Errorf("diff with itself = %q, want the routes swap only", got)
			}
		})
	}
}
