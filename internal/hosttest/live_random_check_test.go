package hosttest

// The checks of TestRandomLiveChanges: the load's outcome by cause, and the
// runtime against the store.

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/poolctl/poolctl/runstate"
	"github.com/poolctl/poolctl/store"
)

// rcCheckLoad counts the requests of the load by outcome and fails the
// test for any failure that is not a refusal a stopped or removed pool
// must make. Refusals are counted by cause; failures by status, reason
// and the kinds of change that ran around them, with one example each.
func rcCheckLoad(t *testing.T, m *rcModel, changes []rcChange, loads [2]*loadResult) {
	t.Helper()
	var requests, ok, failed int
	refused := map[string]int{}
	groups := map[string]int{}
	examples := map[string]string{}
	for i, l := range loads {
		t.Logf("site %d load: %s", i+1, l.Summary())
		for _, s := range l.Samples {
			requests++
			key := rcAppOf(i+1, s.path)
			staticOK := strings.HasPrefix(s.path, "/s/") && s.status == 200 && strings.HasPrefix(s.err, "2xx body names no worker")
			if s.status >= 200 && s.status <= 299 && (s.err == "" || staticOK) {
				ok++
				continue
			}
			reason, _, _ := strings.Cut(s.err, " ")
			from, to := s.start, s.start+s.latency
			if s.status == 503 && reason == "Disabled" {
				if _, yes := overlaps(m.stopped[key], from, to); yes {
					refused["stopped pool, 503 Disabled"]++
					continue
				}
			}
			if s.status == 503 && (reason == "Disabled" || reason == "N/A") {
				if _, yes := overlaps(m.removed[key], from, to); yes {
					refused["removed pool, 503 "+reason]++
					continue
				}
			}
			failed++
			cat := fmt.Sprintf("%d %s", s.status, reason)
			if s.status == 0 {
				cat = "transport error"
			}
			kinds, around := rcAround(changes, from, to)
			g := cat + " during " + kinds
			groups[g]++
			if _, seen := examples[g]; !seen {
				examples[g] = fmt.Sprintf("%s at %s (%s, app %s): status %d %s; changes around it: %s",
					s.path, fmtMS(s.start), fmtMS(s.latency), key, s.status, s.err, around)
			}
		}
	}
	t.Logf("requests %d: %d ok, %d refused by a stopped or removed pool %v, %d failed", requests, ok, requests-ok-failed, refused, failed)
	if failed > 0 {
		var lines []string
		for _, g := range slices.Sorted(maps.Keys(groups)) {
			lines = append(lines, fmt.Sprintf("%d × %s, e.g. %s", groups[g], g, examples[g]))
		}
		t.Errorf("%d requests failed that no stop or removal explains:\n  %s", failed, strings.Join(lines, "\n  "))
	}
	if requests < 1000 {
		t.Errorf("only %d requests: the load did not run", requests)
	}
}

// rcAround describes the changes that ran within 200 ms of [from, to]: the
// sorted set of their kinds, and each of them.
func rcAround(changes []rcChange, from, to time.Duration) (kinds, list string) {
	var out []string
	ks := map[string]bool{}
	for i, c := range changes {
		if c.end >= from-200*time.Millisecond && c.start <= to+200*time.Millisecond {
			ks[c.kind] = true
			out = append(out, fmt.Sprintf("#%d %s %s [%s..%s]", i, c.kind, strings.Join(c.args[2:min(len(c.args), 4)], " "), fmtMS(c.start), fmtMS(c.end)))
		}
	}
	if len(out) == 0 {
		return "no change", "none"
	}
	return strings.Join(slices.Sorted(maps.Keys(ks)), "+"), strings.Join(out, "; ")
}

// rcCheckRuntime checks that the host runs what the store says, and that
// the store holds what the test's model says.
func (e *hostEnv) rcCheckRuntime(t *testing.T, m *rcModel) {
	t.Helper()
	cfg, err := store.Open(e.store).Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]store.PoolSettings{}
	for i := range cfg.ApplicationPools {
		p := &cfg.ApplicationPools[i]
		want[p.Name] = cfg.Resolved(p)
	}
	if got, model := slices.Sorted(maps.Keys(want)), slices.Sorted(maps.Keys(m.pools)); !slices.Equal(got, model) {
		t.Errorf("store pools %v, the test's model %v", got, model)
	}
	for _, s := range cfg.Sites {
		for _, a := range s.Applications {
			for _, ra := range rcApps {
				if ra.site == s.Name && ra.path == a.Path && m.apps[ra.key] != a.ApplicationPool {
					t.Errorf("store: %s%s in %s, the test's model %s", s.Name, a.Path, a.ApplicationPool, m.apps[ra.key])
				}
			}
		}
	}
	waitFor(t, 20*time.Second, "the runtime equals the store", func() error {
		ps, err := e.apiPools()
		if err != nil {
			return err
		}
		var diffs []string
		for name, s := range want {
			p, ok := ps[name]
			if !ok {
				diffs = append(diffs, "no pool "+name)
				continue
			}
			wantState := runstate.PoolStopped
			if *s.AutoStart {
				wantState = runstate.PoolStarted
			}
			if p.State != wantState {
				diffs = append(diffs, fmt.Sprintf("%s %s, want %s (autoStart %v)", name, p.State, wantState, *s.AutoStart))
			}
			if n := int(*s.ProcessModel.MaxProcesses); len(p.Workers) > n {
				_, desc := workerStates(p)
				diffs = append(diffs, fmt.Sprintf("%s has %d workers (%s), maxProcesses %d", name, len(p.Workers), desc, n))
			}
			if m.pools[name] != nil && m.pools[name].stopped == *s.AutoStart {
				diffs = append(diffs, fmt.Sprintf("%s: store autoStart %v, the test stopped it: %v", name, *s.AutoStart, m.pools[name].stopped))
			}
		}
		for name, p := range ps {
			if _, ok := want[name]; !ok {
				diffs = append(diffs, fmt.Sprintf("extra pool %s (%s) not in the store", name, p.State))
			}
		}
		if len(diffs) > 0 {
			return fmt.Errorf("%s", strings.Join(diffs, "; "))
		}
		return nil
	})
	// Each application of the test worker whose pool runs is served by it.
	for _, a := range rcApps {
		pool := m.apps[a.key]
		if m.pools[pool].static || m.pools[pool].stopped {
			continue
		}
		u := e.url(strings.TrimSuffix(a.path, "/") + "/")
		if a.site == "RcSite2" {
			u = "http://" + m.addr2 + "/"
		}
		ctlServedBy(e, 20*time.Second, u, pool)
	}
}
