package hosttest

// The model of TestRandomLiveChanges: the pools and applications the store
// should hold, the random choice of the next change, and the intervals of
// the load's time line that explain refusals.

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// rcPool is the model of one pool.
type rcPool struct {
	static   bool // runs the built-in worker (serves /s), else the test worker
	stopped  bool // autoStart false (stopped with the tool)
	maxProcs int
}

// rcApp is one application the load sends requests to.
type rcApp struct {
	key  string // "site path", the key of its intervals
	site string
	path string
}

// The applications under load: the default site's /, /a, /b and /s (the
// static one, served by the built-in worker), and the second site's /.
var rcApps = []rcApp{
	{"1 /", "Default Web Site", "/"},
	{"1 /a", "Default Web Site", "/a"},
	{"1 /b", "Default Web Site", "/b"},
	{"1 /s", "Default Web Site", "/s"},
	{"2 /", "RcSite2", "/"},
}

// rcInterval is a stretch of the load's time line during which an
// application's pool was stopped, or being removed.
type rcInterval struct {
	from, to time.Duration
	change   int
}

// rcModel is what the store should hold, kept by the test as it makes
// its changes, and the intervals that explain refusals.
type rcModel struct {
	pools   map[string]*rcPool
	apps    map[string]string // app key → pool name
	next    int               // suffix of the next new pool name
	worker  string            // the test worker's path
	addr2   string            // the second site's address
	stopped map[string][]rcInterval
	removed map[string][]rcInterval
}

// appsOf returns the keys of the applications in pool, sorted.
func (m *rcModel) appsOf(pool string) []string {
	var out []string
	for k, p := range m.apps {
		if p == pool {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// poolNames returns the pool names, sorted, that keep says yes to.
func (m *rcModel) poolNames(keep func(*rcPool) bool) []string {
	var out []string
	for _, n := range slices.Sorted(maps.Keys(m.pools)) {
		if keep == nil || keep(m.pools[n]) {
			out = append(out, n)
		}
	}
	return out
}

// newName returns a pool name not used before in the run.
func (m *rcModel) newName() string {
	m.next++
	return fmt.Sprintf("RcP%d", m.next)
}

// rcChange is one change made with the tool.
type rcChange struct {
	kind       string
	args       []string
	start, end time.Duration
	out        string
	err        error
}

// rcPick chooses a change that is possible on the model. apply updates the
// model: it is called with begin at the start of the tool run and again
// with !begin at its end, with the time on the load's line.
func rcPick(rng *rand.Rand, m *rcModel) (rcChange, func(idx int, at time.Duration, begin bool)) {
	none := func(int, time.Duration, bool) {}
	all := m.poolNames(nil)
	tw := m.poolNames(func(p *rcPool) bool { return !p.static })
	running := m.poolNames(func(p *rcPool) bool { return !p.stopped })
	stoppedPools := m.poolNames(func(p *rcPool) bool { return p.stopped })
	pick := func(names []string) string { return names[rng.IntN(len(names))] }
	// markStopped opens or closes the stopped intervals of pool's apps.
	markStopped := func(pool string, idx int, at time.Duration, stopped bool) {
		for _, k := range m.appsOf(pool) {
			ivs := m.stopped[k]
			open := len(ivs) > 0 && ivs[len(ivs)-1].to < 0
			switch {
			case stopped && !open:
				m.stopped[k] = append(ivs, rcInterval{from: at, to: -1, change: idx})
			case !stopped && open:
				ivs[len(ivs)-1].to = at
			}
		}
	}
	switch r := rng.IntN(100); {
	case r < 15: // rename
		old := pick(all)
		name := m.newName()
		return rcChange{kind: "rename", args: []string{"set", "apppool", old, "/name:" + name}},
			func(idx int, at time.Duration, begin bool) {
				if begin {
					return
				}
				m.pools[name] = m.pools[old]
				delete(m.pools, old)
				for k, p := range m.apps {
					if p == old {
						m.apps[k] = name
					}
				}
			}
	case r < 30: // maxProcesses
		p := pick(all)
		n := 1 + rng.IntN(3)
		return rcChange{kind: "maxProcesses", args: []string{"set", "apppool", p, "/processModel.maxProcesses:" + strconv.Itoa(n)}},
			func(_ int, _ time.Duration, begin bool) {
				if !begin {
					m.pools[p].maxProcs = n
				}
			}
	case r < 40: // queueLength: always more than the connections
		p := pick(all)
		n := 64 + rng.IntN(5000)
		return rcChange{kind: "queueLength", args: []string{"set", "apppool", p, "/queueLength:" + strconv.Itoa(n)}}, none
	case r < 55: // move an application of the test worker to another such pool
		var keys []string
		for _, a := range rcApps {
			if !m.pools[m.apps[a.key]].static {
				keys = append(keys, a.key)
			}
		}
		k := pick(keys)
		var to []string
		for _, p := range tw {
			if p != m.apps[k] {
				to = append(to, p)
			}
		}
		if len(to) == 0 {
			return rcChange{}, none
		}
		dest := pick(to)
		app := rcAppByKey(k)
		return rcChange{kind: "move", args: []string{"set", "app", app.site + app.path, "/applicationPool:" + dest}},
			func(idx int, at time.Duration, begin bool) {
				if begin {
					if m.pools[dest].stopped {
						ivs := m.stopped[k]
						if len(ivs) == 0 || ivs[len(ivs)-1].to >= 0 {
							m.stopped[k] = append(ivs, rcInterval{from: at, to: -1, change: idx})
						}
					}
					return
				}
				wasStopped := m.pools[m.apps[k]].stopped
				m.apps[k] = dest
				if wasStopped && !m.pools[dest].stopped {
					ivs := m.stopped[k]
					ivs[len(ivs)-1].to = at
				}
			}
	case r < 63: // add a pool, maybe moving an application into it
		if len(all) >= rcMaxPools {
			return rcChange{}, none
		}
		name := m.newName()
		args := []string{"add", "apppool", "/name:" + name, "/processModel.command:" + m.worker,
			"/processModel.pingPath:/health", "/processModel.startupTimeLimit:00:00:20", "/processModel.shutdownTimeLimit:00:00:10"}
		if rng.IntN(2) == 0 {
			args = append(args, "/startMode:AlwaysRunning")
		}
		return rcChange{kind: "add", args: args}, func(_ int, _ time.Duration, begin bool) {
			if !begin {
				m.pools[name] = &rcPool{maxProcs: 1}
			}
		}
	case r < 71: // remove a pool of the test worker, reassigning its applications
		if len(tw) < 3 {
			return rcChange{}, none
		}
		p := pick(tw)
		var others []string
		for _, o := range tw {
			if o != p {
				others = append(others, o)
			}
		}
		dest := pick(others)
		args := []string{"delete", "apppool", p}
		apps := m.appsOf(p)
		if len(apps) > 0 {
			args = append(args, "/reassignTo:"+dest)
		}
		return rcChange{kind: "remove", args: args}, func(idx int, at time.Duration, begin bool) {
			// Stopped intervals follow the applications to their new
			// pool: they open when the change begins and close when it
			// has been applied.
			wasStopped, destStopped := m.pools[p].stopped, m.pools[dest].stopped
			if begin {
				for _, k := range apps {
					m.removed[k] = append(m.removed[k], rcInterval{from: at, to: -1, change: idx})
					if !wasStopped && destStopped {
						m.stopped[k] = append(m.stopped[k], rcInterval{from: at, to: -1, change: idx})
					}
				}
				return
			}
			for _, k := range apps {
				ivs := m.removed[k]
				ivs[len(ivs)-1].to = at
				if wasStopped && !destStopped {
					ivs := m.stopped[k]
					ivs[len(ivs)-1].to = at
				}
				m.apps[k] = dest
			}
			delete(m.pools, p)
		}
	case r < 86: // recycle
		if len(running) == 0 {
			return rcChange{}, none
		}
		p := pick(running)
		return rcChange{kind: "recycle", args: []string{"recycle", "apppool", p}}, none
	default: // stop or start
		if len(stoppedPools) > 0 && (len(stoppedPools) >= rcMaxStopped || rng.IntN(2) == 0) {
			p := pick(stoppedPools)
			return rcChange{kind: "start", args: []string{"start", "apppool", p}}, func(idx int, at time.Duration, begin bool) {
				if !begin {
					m.pools[p].stopped = false
					markStopped(p, idx, at, false)
				}
			}
		}
		if len(running) == 0 {
			return rcChange{}, none
		}
		p := pick(running)
		return rcChange{kind: "stop", args: []string{"stop", "apppool", p}}, func(idx int, at time.Duration, begin bool) {
			if begin {
				markStopped(p, idx, at, true)
				return
			}
			m.pools[p].stopped = true
		}
	}
}

// rcAppByKey returns the application with the key.
func rcAppByKey(k string) rcApp {
	for _, a := range rcApps {
		if a.key == k {
			return a
		}
	}
	panic("no application " + k)
}

// rcAppOf returns the key of the application a request of the load went to.
func rcAppOf(site int, path string) string {
	if site == 1 {
		for _, p := range []string{"/a/", "/b/", "/s/"} {
			if strings.HasPrefix(path, p) {
				return "1 " + strings.TrimSuffix(p, "/")
			}
		}
		return "1 /"
	}
	return "2 /"
}

// overlaps reports whether [from, to] meets one of ivs.
func overlaps(ivs []rcInterval, from, to time.Duration) (rcInterval, bool) {
	for _, iv := range ivs {
		if from <= iv.to && to >= iv.from {
			return iv, true
		}
	}
	return rcInterval{}, false
}
