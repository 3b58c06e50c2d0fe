package host

import (
	"slices"

	"github.com/poolctl/poolctl/apppool"
	"github.com/poolctl/poolctl/front"
	"github.com/poolctl/poolctl/store"
)

// desired is what a configuration asks the host to run: plan's result.
type desired struct {
	cfg       *store.Config // the routes are built from it (front.Apply)
	version   string        // the store version it was loaded from
	pools     apppool.Plan  // pools with resolved settings, Legacy mode's too
	listeners []string      // front.ListenKeys
}

// plan turns a loaded store into the runtime it asks for. It is a pure
// function of cfg.
func plan(cfg *store.Config) desired {
	return desired{cfg: cfg, version: cfg.StoreVersion(), pools: apppool.PlanPools(cfg), listeners: front.ListenKeys(cfg)}
}

// running is what the host runs, as diff compares it with a desired one.
type running struct {
	pools     apppool.Running
	listeners []string
}

// actions are what diff found to do, in the order apply does it: create
// and reconfigure pools, open listeners, swap the routing table (always:
// one atomic swap), close listeners (gracefully: their requests in flight
// finish), close removed pools (in the background).
type actions struct {
	pools  []apppool.Action
	open   []string
	close  []string
	routes bool
}

// diff lists the actions that bring have to want. It is a pure function.
func diff(want desired, have running) actions {
	a := actions{pools: apppool.Diff(want.pools, have.pools), routes: true}
	for _, l := range want.listeners {
		if !slices.Contains(have.listeners, l) {
			a.open = append(a.open, l)
		}
	}
	for _, l := range have.listeners {
		if !slices.Contains(want.listeners, l) {
			a.close = append(a.close, l)
		}
	}
	return a
}

// lines describes the actions in apply's order, for the log and tests:
// "add pool PyC", "open listener http :8080", "swap routes",
// "close listener …", "remove pool Py".
func (a actions) lines() []string {
	var out, removes []string
	for _, pa := range a.pools {
		if pa.Kind == apppool.RemovePool {
			removes = append(removes, pa.String())
			continue
		}
		out = append(out, pa.String())
	}
	for _, l := range a.open {
		out = append(out, "open listener "+l)
	}
	if a.routes {
		out = append(out, "swap routes")
	}
	for _, l := range a.close {
		out = append(out, "close listener "+l)
	}
	return append(out, removes...)
}
