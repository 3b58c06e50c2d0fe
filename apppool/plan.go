package apppool

import (
	"sort"
	"strings"

	"github.com/poolctl/poolctl/store"
)

// The host's reconcile pipeline is plan → diff → apply: PlanPools turns a
// loaded store into the pools it asks for, Diff compares that with what the
// manager runs (Manager.Running) and lists the actions, and Manager.Apply
// carries them out without waiting for a launch, a drain or a recycle.
// Legacy isolation mode is one more planner (legacyPlans in legacy.go).

// Plan is the pools a configuration asks for.
type Plan struct {
	// Legacy is the host's isolation mode: true for Legacy (IIS 5.0),
	// where the store's pools are inactive and Synthetic ones run.
	Legacy bool
	// Pools are the store's pools by lower-case name.
	Pools map[string]Settings
	// Synthetic are Legacy mode's pools by lower-case name (none in
	// WorkerProcess mode).
	Synthetic map[string]Settings
}

// PlanPools resolves the pools cfg asks for. It is a pure function of cfg.
func PlanPools(cfg *store.Config) Plan {
	pl := Plan{Legacy: cfg.LegacyIsolation(), Pools: map[string]Settings{}, Synthetic: map[string]Settings{}}
	for i := range cfg.ApplicationPools {
		p := &cfg.ApplicationPools[i]
		pl.Pools[strings.ToLower(p.Name)] = NewSettings(cfg, p)
	}
	if pl.Legacy {
		for key, lp := range legacyPlans(cfg) {
			pl.Synthetic[key] = legacySettings(cfg, lp)
		}
	}
	return pl
}

// Names lists every pool of the plan, the synthetic ones with them, sorted:
// the pools that need an identity.
func (pl Plan) Names() []string {
	out := make([]string, 0, len(pl.Pools)+len(pl.Synthetic))
	for _, s := range pl.Pools {
		out = append(out, s.Name)
	}
	for _, s := range pl.Synthetic {
		out = append(out, s.Name)
	}
	sort.Strings(out)
	return out
}

// Running is what the manager runs, as Diff compares it with a Plan: the
// settings each pool was last given by a plan.
type Running struct {
	// Known says a plan was applied; before the first one, the isolation
	// mode is not compared.
	Known  bool
	Legacy bool
	// Pools are the store's pools by lower-case name.
	Pools map[string]Settings
	// Synthetic are Legacy mode's pools by lower-case name.
	Synthetic map[string]Settings
}
