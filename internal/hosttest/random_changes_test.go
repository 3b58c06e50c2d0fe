package hosttest

// The acceptance test of issue 10: random live changes, made with the real
// tool, against a host with several pools and sites under a 32-connection
// load of real workers. Reproducible: the seed is logged, and
// POOLCTL_SEED=N runs the same sequence of changes again.

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Shape of the random-changes run.
const (
	rcChanges    = 200              // changes made, whatever the time they take
	rcChangesMax = 15 * time.Minute // guard: the changes must be done by then
	rcConns1     = 24               // connections on the default site
	rcConns2     = 8                // connections on the second site
	rcMaxPools   = 8                // pool adds stop at this many pools
	rcMaxStopped = 1                // stops wait while this many pools are stopped
)

// TestRandomLiveChanges: 200 random live changes (rename, maxProcesses,
// queueLength, application moves, pool add and remove, recycle, stop and
// start), each made with `poolctl`, against a host with six pools (five
// running the test worker, one the built-in worker) on two sites, under 32
// connections of load. At the end: no request failed except those refused
// because the pool of their application was stopped (503 Disabled while a
// stop was in force) or being removed (503 while its pool was being
// deleted), which are counted apart; and the runtime equals the store:
// every pool of the store runs in the state its autoStart asks for, with no
// more workers than maxProcesses, there is no other pool, and each
// application is served by the pool the store names.
func TestRandomLiveChanges(t *testing.T) {
	t.Parallel()
	heavy(t)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("POOLCTL_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("POOLCTL_SEED=%q: %v", s, err)
		}
		seed = n
	}
	t.Logf("seed %d (run again with POOLCTL_SEED=%d go test -run TestRandomLiveChanges ./internal/hosttest/)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	e := newHostEnv(t)
	e.raceCheck()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("host log (tail):\n%s", tailString(e.log(), 12000))
		}
	})
	static := filepath.Join(e.dir, "static")
	if err := os.Mkdir(static, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(static, "index.html"), []byte("static page\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m := &rcModel{pools: map[string]*rcPool{}, apps: map[string]string{}, worker: e.testworker,
		stopped: map[string][]rcInterval{}, removed: map[string][]rcInterval{}}
	addPool := func(name string, alwaysRunning bool) {
		args := []string{"add", "apppool", "/name:" + name, "/processModel.command:" + e.testworker,
			"/processModel.pingPath:/health", "/processModel.startupTimeLimit:00:00:20", "/processModel.shutdownTimeLimit:00:00:10"}
		if alwaysRunning {
			args = append(args, "/startMode:AlwaysRunning")
		}
		e.run(args...)
		m.pools[name] = &rcPool{maxProcs: 1}
	}
	for i, name := range []string{"RcRoot", "RcA", "RcB", "RcTwo", "RcSpare"} {
		addPool(name, i%2 == 0)
	}
	// The built-in worker reads the static files as the host (they are in
	// the test's private directory).
	e.run("add", "apppool", "/name:RcStatic", "/processModel.identityType:LocalSystem",
		"/processModel.startupTimeLimit:00:00:20", "/processModel.shutdownTimeLimit:00:00:10")
	m.pools["RcStatic"] = &rcPool{static: true, maxProcs: 1}
	e.run("set", "app", "Default Web Site/", "/applicationPool:RcRoot")
	e.run("delete", "apppool", "DefaultAppPool")
	e.run("add", "app", "/site.name:Default Web Site", "/path:/a", "/physicalPath:"+e.dir, "/applicationPool:RcA")
	e.run("add", "app", "/site.name:Default Web Site", "/path:/b", "/physicalPath:"+e.dir, "/applicationPool:RcB")
	e.run("add", "app", "/site.name:Default Web Site", "/path:/s", "/physicalPath:"+static, "/applicationPool:RcStatic")
	port2 := freePort(t)
	addr2 := fmt.Sprintf("127.0.0.1:%d", port2)
	m.addr2 = addr2
	e.run("add", "site", "/name:RcSite2", "/bindings:http/"+addr2+":", "/physicalPath:"+e.dir, "/applicationPool:RcTwo")
	m.apps = map[string]string{"1 /": "RcRoot", "1 /a": "RcA", "1 /b": "RcB", "1 /s": "RcStatic", "2 /": "RcTwo"}
	e.startHost()
	for _, u := range []string{e.url("/"), e.url("/a/"), e.url("/b/"), e.url("/s/index.html"), "http://" + addr2 + "/"} {
		if code, body, err := ctlGet(u); err != nil || code != 200 {
			t.Fatalf("GET %s before the load: %d %q %v", u, code, body, err)
		}
	}

	// The load: on the default site, connection c sends to application c%4
	// (one request in 500 to / is a 100 ms one); on the second site, / and
	// now and then a 100 ms request.
	site1 := []string{"/", "/a/", "/b/", "/s/index.html"}
	t0 := time.Now()
	stop := make(chan struct{})
	var loads [2]*loadResult
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		loads[0] = runLoad(loadSpec{Addr: e.addr(), Conns: rcConns1, Duration: rcChangesMax + time.Minute, MaxRequests: 50_000_000,
			RequestTimeout: 60 * time.Second, Start: t0, Path: func(c, n int) string {
				if c%4 == 0 {
					return mixedPath(c, n)
				}
				return site1[c%4]
			}}, stop)
	}()
	go func() {
		defer wg.Done()
		loads[1] = runLoad(loadSpec{Addr: addr2, Conns: rcConns2, Duration: rcChangesMax + time.Minute, MaxRequests: 50_000_000,
			RequestTimeout: 60 * time.Second, Start: t0, Path: mixedPath}, stop)
	}()
	stopLoad := sync.OnceFunc(func() { close(stop); wg.Wait() })
	t.Cleanup(stopLoad)

	changes := e.rcRun(t, rng, m, t0)
	<-time.After(500 * time.Millisecond) // load after the last change
	stopLoad()
	end := time.Since(t0)
	for k, ivs := range m.stopped {
		if n := len(ivs); n > 0 && ivs[n-1].to < 0 {
			ivs[n-1].to = end
			m.stopped[k] = ivs
		}
	}

	kinds := map[string]int{}
	var slowest rcChange
	for _, c := range changes {
		kinds[c.kind]++
		if c.end-c.start > slowest.end-slowest.start {
			slowest = c
		}
	}
	t.Logf("%d changes in %s: %v; slowest %s %v took %s", len(changes), end.Round(time.Millisecond), kinds,
		slowest.kind, slowest.args, (slowest.end - slowest.start).Round(time.Millisecond))
	if len(changes) < rcChanges {
		t.Errorf("only %d of %d changes were made", len(changes), rcChanges)
	}
	rcCheckLoad(t, m, changes, loads)
	e.rcCheckRuntime(t, m)
}

// rcRun makes the random changes and returns them.
func (e *hostEnv) rcRun(t *testing.T, rng *rand.Rand, m *rcModel, t0 time.Time) []rcChange {
	t.Helper()
	deadline := time.Now().Add(rcChangesMax)
	var changes []rcChange
	for len(changes) < rcChanges {
		if time.Now().After(deadline) {
			t.Errorf("only %d changes in %s: the changes hang", len(changes), rcChangesMax)
			break
		}
		c, apply := rcPick(rng, m)
		if c.args == nil {
			continue // that kind of change is not possible now
		}
		c.start = time.Since(t0)
		idx := len(changes)
		// Refusals that begin with the change: a stop, a move to a stopped
		// pool, a delete.
		apply(idx, c.start, true)
		c.out, c.err = e.lcTool(c.args...)
		c.end = time.Since(t0)
		apply(idx, c.end, false)
		changes = append(changes, c)
		if c.err != nil {
			t.Errorf("change %d (%s) poolctl %s: %v\n%s", idx, c.kind, strings.Join(c.args, " "), c.err, c.out)
			break
		}
	}
	return changes
}
