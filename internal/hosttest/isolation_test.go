package hosttest

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/poolctl/poolctl/hostapi"
)

// idScript is a CGI script that names the process that ran it (its parent:
// the worker, or the host for a Low application) and the pool.
const idScript = "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n'\nprintf 'pid=%s pool=%s\\n' \"$PPID\" \"$APP_POOL_ID\"\n"

// isolationSite sets up three applications of the default site: /low and
// /med in pool Classic (the built-in worker: static files and CGI), /high
// in pool HighPool (the test worker), with appIsolation Low, Medium
// (the default) and High.
func isolationSite(t *testing.T, e *hostEnv) {
	t.Helper()
	if err := os.Chmod(e.dir, 0o711); err != nil {
		t.Fatal(err)
	}
	for _, app := range []string{"low", "med"} {
		dir := filepath.Join(e.dir, "content", app)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Dir(dir), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "id.cgi"), []byte(idScript), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("static "+app+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e.run("add", "apppool", "/name:Classic", "/processModel.startupTimeLimit:00:00:20", "/processModel.shutdownTimeLimit:00:00:10")
	e.run("add", "app", "/site.name:Default Web Site", "/path:/low", "/physicalPath:"+filepath.Join(e.dir, "content", "low"), "/applicationPool:Classic")
	e.run("add", "app", "/site.name:Default Web Site", "/path:/med", "/physicalPath:"+filepath.Join(e.dir, "content", "med"), "/applicationPool:Classic")
	e.addTestPool("HighPool", "/high")
	e.run("set", "app", "Default Web Site/low", "/appIsolation:Low")
	e.run("set", "app", "Default Web Site/high", "/appIsolation:High")
}

// answer fetches path and returns the pid and pool its body names.
func (e *hostEnv) answer(path string) (pid int, pool string, err error) {
	resp, err := client.Get(e.url(path))
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, "", err
	}
	body := strings.TrimSpace(string(b))
	if resp.StatusCode != 200 {
		return 0, "", fmt.Errorf("GET %s = %d %q", path, resp.StatusCode, body)
	}
	pid = pidOf(body)
	if _, p, ok := strings.Cut(body, "pool="); ok {
		pool = p
	}
	if pid == 0 {
		return 0, "", fmt.Errorf("GET %s: body %q names no pid", path, body)
	}
	return pid, pool, nil
}

// waitPool waits until path is answered from pool (a prefix of the test
// worker's "pool=P" or the CGI's APP_POOL_ID) and returns the pid.
func (e *hostEnv) waitPool(t *testing.T, path, pool string) int {
	t.Helper()
	var pid int
	waitFor(t, 20*time.Second, path+" served by "+pool, func() error {
		p, got, err := e.answer(path)
		if err != nil {
			return err
		}
		if !strings.HasPrefix(got, pool) {
			return fmt.Errorf("served by pool %q", got)
		}
		pid = p
		return nil
	})
	return pid
}

// probe sends rounds of requests to every path, each of which must be
// answered.
func (e *hostEnv) probe(t *testing.T, paths []string, rounds int) {
	t.Helper()
	for range rounds {
		for _, p := range paths {
			if _, _, err := e.answer(p); err != nil {
				t.Fatalf("probe: %v", err)
			}
		}
	}
}

// TestLegacyIsolationPlacement: in Legacy mode the Low application answers
// from the host itself, Medium and High from two distinct legacy workers
// shown by list wp, the store's pools have no worker and list apppool says
// they are inactive; back in WorkerProcess mode the pools serve again.
func TestLegacyIsolationPlacement(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	isolationSite(t, e)
	e.startHost()
	if code, body, _ := e.get("/med/"); code != 200 || body != "static med\n" {
		t.Fatalf("GET /med/ in WorkerProcess mode = %d %q", code, body)
	}
	classic := e.waitPool(t, "/low/id.cgi", "Classic")

	e.run("set", "config", "/section:host", "/isolationMode:Legacy")
	low := e.waitPool(t, "/low/id.cgi", "")
	if low != e.host.Process.Pid {
		t.Errorf("Low application answered from pid %d, want the host's %d", low, e.host.Process.Pid)
	}
	med := e.waitPool(t, "/med/id.cgi", "Legacy: Medium")
	high := e.waitPool(t, "/high", "Legacy: High: Default Web Site/high")
	if med == high || med == low || high == low || med == classic {
		t.Errorf("pids: Low %d, Medium %d, High %d, Classic before %d: want Medium and High distinct workers", low, med, high, classic)
	}
	if code, body, _ := e.get("/low/"); code != 200 || body != "static low\n" {
		t.Errorf("GET /low/ in Legacy mode = %d %q", code, body)
	}
	if got := e.workers("Legacy: Medium"); len(got) != 1 || got[0] != med {
		t.Errorf("list wp Legacy: Medium = %v, want [%d]", got, med)
	}
	if got := e.workers("Legacy: High: Default Web Site/high"); len(got) != 1 || got[0] != high {
		t.Errorf("list wp Legacy: High = %v, want [%d]", got, high)
	}
	waitFor(t, 15*time.Second, "store pools' workers gone", func() error {
		if ws := append(e.workers("Classic"), e.workers("HighPool")...); len(ws) != 0 {
			return fmt.Errorf("workers %v", ws)
		}
		if alive(classic) {
			return fmt.Errorf("Classic's worker %d still runs", classic)
		}
		return nil
	})
	if out := e.run("list", "apppool", "Classic", "/text:state"); strings.TrimSpace(out) != "Inactive" {
		t.Errorf("list apppool Classic /text:state in Legacy mode = %q, want Inactive", out)
	}
	out, errOut, code := e.poolctl("list", "apppool")
	if code != 0 || !strings.Contains(out, "Inactive") || !strings.Contains(out+errOut, "isolationMode:WorkerProcess") {
		t.Errorf("list apppool in Legacy mode: exit %d\n%s%s", code, out, errOut)
	}
	if _, errOut, code := e.poolctl("recycle", "apppool", "Classic"); code != 1 || !strings.Contains(errOut, "inactive") {
		t.Errorf("recycle apppool in Legacy mode: exit %d %s, want 1 and why", code, errOut)
	}

	e.run("set", "config", "/section:host", "/isolationMode:WorkerProcess")
	e.waitPool(t, "/med/id.cgi", "Classic")
	e.waitPool(t, "/high", "HighPool")
	waitFor(t, 15*time.Second, "legacy workers gone", func() error {
		if alive(med) || alive(high) {
			return fmt.Errorf("legacy workers %d %d still run", med, high)
		}
		return nil
	})
	if out := e.run("list", "apppool", "Classic", "/text:state"); strings.TrimSpace(out) != "Started" {
		t.Errorf("list apppool Classic /text:state back in WorkerProcess mode = %q, want Started", out)
	}
	var switches []string
	for _, ev := range e.listEvents() {
		if ev.ID == 9006 {
			switches = append(switches, ev.Reason)
		}
	}
	if len(switches) != 2 || !strings.Contains(switches[0], "to Legacy") || !strings.Contains(switches[1], "to WorkerProcess") {
		t.Errorf("events 9006: %q, want the switch to Legacy and back", switches)
	}
}

// TestIsolationSwitchUnderLoad: isolation mode switches both ways under
// load with no failed request: 16 connections against a Low, a Medium and
// a High application while the host goes to Legacy mode and back.
func TestIsolationSwitchUnderLoad(t *testing.T) {
	t.Parallel()
	heavy(t)
	e := newHostEnv(t)
	isolationSite(t, e)
	e.startHost()
	paths := []string{"/low/id.cgi", "/med/id.cgi", "/high"}
	for _, p := range paths {
		e.waitPool(t, p, "")
	}
	stop := make(chan struct{})
	done := make(chan *loadResult, 1)
	go func() {
		done <- runLoad(loadSpec{Addr: fmt.Sprintf("127.0.0.1:%d", e.port), Conns: 16, Duration: loadHardLimit,
			MaxRequests: 200000, Path: func(c, n int) string { return paths[(c+n)%len(paths)] }}, stop)
	}()
	t0 := time.Now()
	e.probe(t, paths, 5) // under load before the switch
	var switches []string
	legacyPIDs := map[int]bool{e.host.Process.Pid: true}
	for range 2 {
		e.run("set", "config", "/section:host", "/isolationMode:Legacy")
		switches = append(switches, "Legacy at "+fmtMS(time.Since(t0)))
		legacyPIDs[e.waitPool(t, "/med/id.cgi", "Legacy: Medium")] = true
		legacyPIDs[e.waitPool(t, "/high", "Legacy: High: ")] = true
		e.probe(t, paths, 5) // under load in Legacy mode
		e.run("set", "config", "/section:host", "/isolationMode:WorkerProcess")
		switches = append(switches, "WorkerProcess at "+fmtMS(time.Since(t0)))
		e.waitPool(t, "/med/id.cgi", "Classic")
		e.waitPool(t, "/high", "HighPool")
		e.probe(t, paths, 5) // under load back in WorkerProcess mode
	}
	close(stop)
	res := <-done
	t.Logf("switches: %s; %s", strings.Join(switches, ", "), res.Summary())
	if res.Failed() != 0 || res.Requests == 0 {
		t.Fatalf("%d of %d requests failed: %v\n%s", res.Failed(), res.Requests, res.Failures, tailString(e.log(), 3000))
	}
	seen := 0
	for _, pid := range res.PIDs {
		if legacyPIDs[pid] {
			seen++
		}
	}
	if seen < 3 {
		t.Errorf("the load reached %d of the Legacy mode's processes %v (pids seen %v): it did not run across the switches", seen, legacyPIDs, res.PIDs)
	}
	// The load runs until the switches are done: its hard limit is only a
	// guard against a hang.
	if res.Elapsed >= loadHardLimit {
		t.Errorf("the load ran into its %s limit: the switches hung", loadHardLimit)
	}
}

// got is the outcome of one request made in the background.
type got struct {
	code int
	body string
	err  error
}

// getAsync fetches path in the background.
func (e *hostEnv) getAsync(path string) <-chan got {
	ch := make(chan got, 1)
	go func() {
		resp, err := client.Get(e.url(path))
		if err != nil {
			ch <- got{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		ch <- got{code: resp.StatusCode, body: string(b), err: err}
	}()
	return ch
}

// waitRequests waits until the host holds n requests for pool, queued
// ones among them.
func (e *hostEnv) waitRequests(t *testing.T, pool string, n, queued int) {
	t.Helper()
	waitFor(t, 10*time.Second, fmt.Sprintf("%d requests (%d queued) in %s", n, queued, pool), func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		rs, err := hostapi.NewClient(e.socket).Requests(ctx)
		if err != nil {
			return err
		}
		var all, q int
		for _, r := range rs {
			if r.Pool == pool {
				all++
				if r.WorkerPID == 0 {
					q++
				}
			}
		}
		if all != n || q != queued {
			return fmt.Errorf("%d requests, %d queued: %+v", all, q, rs)
		}
		return nil
	})
}

// TestIsolationSwitchReroutesQueued: a request queued in a pool when a
// switch of isolation mode stops that pool is served where the routes now
// lead, not refused, while the request in flight finishes on the old
// worker; both ways.
func TestIsolationSwitchReroutesQueued(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	e.addTestPool("Slow", "/", "/processModel.maxConcurrentRequests:1")
	e.run("set", "app", "Default Web Site/", "/appIsolation:High")
	e.startHost()
	legacy := "Legacy: High: Default Web Site/"
	for _, c := range []struct{ from, to, mode string }{
		{"Slow", legacy, "Legacy"},
		{legacy, "Slow", "WorkerProcess"},
	} {
		old := e.waitPool(t, "/", c.from)
		// The old worker is held (SIGSTOP) until the queued request has
		// its answer, so the request in flight on it stays in flight
		// however slow the machine is.
		release := e.hold(old)
		inFlight := e.getAsync("/sleep?ms=100")
		e.waitRequests(t, c.from, 1, 0)
		queued := e.getAsync("/?queued")
		e.waitRequests(t, c.from, 2, 1)
		var out string
		switched := make(chan error, 1)
		go func() {
			var err error
			out, err = e.lcTool("set", "config", "/section:host", "/isolationMode:"+c.mode)
			switched <- err
		}()
		q := <-queued
		release()
		f := <-inFlight
		if err := <-switched; err != nil {
			t.Fatalf("switch to %s: %v %s", c.mode, err, out)
		}
		if q.err != nil || q.code != 200 || !strings.Contains(q.body, "pool="+c.to) {
			t.Errorf("to %s: the queued request got %d %q %v, want 200 from %s", c.mode, q.code, q.body, q.err, c.to)
		}
		if f.err != nil || f.code != 200 || pidOf(f.body) != old {
			t.Errorf("to %s: the request in flight got %d %q %v, want 200 from worker %d", c.mode, f.code, f.body, f.err, old)
		}
	}
}
