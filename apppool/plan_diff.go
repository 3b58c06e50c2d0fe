package apppool

import (
	"fmt"
	"reflect"
	"sort"
)

// ActionKind is what one action of a diff does.
type ActionKind int

// The actions of a diff, in the order Manager.Apply carries them out.
const (
	// SwitchIsolation switches between WorkerProcess and Legacy isolation
	// mode (Action.Legacy is the new mode).
	SwitchIsolation ActionKind = iota + 1
	// AddPool creates a pool (and starts it when it should run).
	AddPool
	// ReconfigurePool hands a running pool new settings.
	ReconfigurePool
	// RemovePool closes a pool once the routes no longer lead to it.
	RemovePool
)

func (k ActionKind) String() string {
	switch k {
	case SwitchIsolation:
		return "switch isolation"
	case AddPool:
		return "add"
	case ReconfigurePool:
		return "reconfigure"
	case RemovePool:
		return "remove"
	}
	return fmt.Sprintf("ActionKind(%d)", int(k))
}

// Action is one step that brings what runs to a plan.
type Action struct {
	Kind ActionKind
	// Name is the pool's name: as planned for AddPool and
	// ReconfigurePool, as it runs for RemovePool.
	Name string
	// Synthetic says the pool is one of Legacy mode's.
	Synthetic bool
	// Settings are the pool's new settings (AddPool, ReconfigurePool).
	Settings Settings
	// Legacy is the new isolation mode (SwitchIsolation).
	Legacy bool
}

// String describes the action for logs and tests: "add pool PyC".
func (a Action) String() string {
	switch a.Kind {
	case SwitchIsolation:
		if a.Legacy {
			return "switch isolation to Legacy"
		}
		return "switch isolation to WorkerProcess"
	case 0:
		return "no action"
	}
	kind := "pool"
	if a.Synthetic {
		kind = "legacy pool"
	}
	return a.Kind.String() + " " + kind + " " + a.Name
}

// Diff lists the actions that bring have to want, in the order Apply
// carries them out: the isolation switch, additions, reconfigurations,
// removals (each sorted by name). A rename, even of letter case only, is
// the removal of the old pool and the addition of the new one; a pool
// whose settings did not change gets no action. It is a pure function.
func Diff(want Plan, have Running) []Action {
	var out []Action
	if have.Known && have.Legacy != want.Legacy {
		out = append(out, Action{Kind: SwitchIsolation, Legacy: want.Legacy})
	}
	out = append(out, diffSet(want.Pools, have.Pools, false)...)
	out = append(out, diffSet(want.Synthetic, have.Synthetic, true)...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		if out[i].Synthetic != out[j].Synthetic {
			return !out[i].Synthetic
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// diffSet compares one set of pools (the store's or the synthetic ones).
func diffSet(want, have map[string]Settings, synthetic bool) []Action {
	var out []Action
	for key, s := range want {
		old, ok := have[key]
		switch {
		case !ok:
			out = append(out, Action{Kind: AddPool, Name: s.Name, Synthetic: synthetic, Settings: s})
		case old.Name != s.Name: // renamed in letter case only
			out = append(out, Action{Kind: RemovePool, Name: old.Name, Synthetic: synthetic},
				Action{Kind: AddPool, Name: s.Name, Synthetic: synthetic, Settings: s})
		case !reflect.DeepEqual(old, s):
			out = append(out, Action{Kind: ReconfigurePool, Name: s.Name, Synthetic: synthetic, Settings: s})
		}
	}
	for key, old := range have {
		if _, ok := want[key]; !ok {
			out = append(out, Action{Kind: RemovePool, Name: old.Name, Synthetic: synthetic})
		}
	}
	return out
}
