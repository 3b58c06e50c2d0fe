package hosttest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/poolctl/poolctl/runstate"
)

// flakyWorker writes a worker command that records each launch (one line,
// the time in nanoseconds, in the returned log) and exits with code 3 at
// once the first failures times, then runs the test worker. failures < 0
// means every time.
func (e *hostEnv) flakyWorker(name string, failures int) (command, launches string) {
	e.t.Helper()
	dir := filepath.Join(e.dir, name)
	if err := os.Mkdir(dir, 0o700); err != nil {
		e.t.Fatal(err)
	}
	launches = filepath.Join(dir, "launches")
	command = filepath.Join(dir, "worker.sh")
	body := fmt.Sprintf(`#!/bin/sh
date +%%s%%N >> %[1]q
n=$(wc -l < %[1]q)
if [ %[2]d -lt 0 ] || [ "$n" -le %[2]d ]; then
	echo "flaky worker: launch $n exits at start" >&2
	exit 3
fi
exec %[3]q
`, launches, failures, e.testworker)
	if err := os.WriteFile(command, []byte(body), 0o700); err != nil {
		e.t.Fatal(err)
	}
	return command, launches
}

// launchTimes reads the launches a flakyWorker recorded.
func launchTimes(t *testing.T, path string) []time.Time {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []time.Time
	for _, f := range strings.Fields(string(b)) {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			continue // a line being written
		}
		out = append(out, time.Unix(0, n))
	}
	return out
}

// TestLiveStartupDeathReplaced: an AlwaysRunning pool whose worker dies at
// start-up three times and then works (issue 10: pools whose worker
// failed stayed Started with no worker indefinitely). With no request to
// ask for one, the pool gets replacements with backoff (never a tight
// loop: launches at least 50 ms apart), stays Started, is not stopped by
// rapid-fail protection (3 failures, limit 5), and ends up serving.
func TestLiveStartupDeathReplaced(t *testing.T) {
	t.Parallel()
	const pool = "LvFlaky"
	e := newHostEnv(t)
	e.raceCheck()
	cmd, launches := e.flakyWorker("flaky", 3)
	e.addCommandPool(pool, "/flaky", cmd, "/startMode:AlwaysRunning", "/failure.rapidFailProtectionMaxCrashes:5")
	e.startHost()
	pids := e.waitWorkers(pool, 1, 20*time.Second)
	p := e.waitPoolState(pool, runstate.PoolStarted, 5*time.Second)
	if p.Disabled {
		t.Errorf("pool disabled: %+v", p)
	}
	ts := launchTimes(t, launches)
	if len(ts) != 4 {
		t.Errorf("%d launches, want 3 failed ones and the one that runs (%v)", len(ts), pids)
	}
	for i := 1; i < len(ts); i++ {
		gap := ts[i].Sub(ts[i-1])
		t.Logf("launch %d: %s after the previous one", i+1, gap.Round(time.Millisecond))
		// A lower bound only (the backoff starts at 100 ms): a loaded
		// machine makes the gaps longer, never shorter.
		if gap < 50*time.Millisecond {
			t.Errorf("launch %d only %s after launch %d: no backoff", i+1, gap, i)
		}
	}
	if code, body, _ := e.get("/flaky/"); code != 200 || pidOf(body) != pids[0] {
		t.Errorf("GET /flaky/ = %d %q, want 200 from %d", code, body, pids[0])
	}
	if n := hcCount(e.lcEvents(pool), 5002); n != 0 {
		t.Errorf("rapid-fail protection tripped (%d events 5002) at 3 failures of 5", n)
	}
}

// TestLiveStartupAlwaysDiesRapidFail: an AlwaysRunning pool whose worker
// always dies at start-up, with nobody sending it requests, is stopped by
// rapid-fail protection at exactly rapidFailProtectionMaxCrashes (3)
// launches (event 5002 once), instead of staying Started with no worker;
// once stopped, a request gets 503 AppOffline and launches nothing.
func TestLiveStartupAlwaysDiesRapidFail(t *testing.T) {
	t.Parallel()
	const pool = "LvDoomed"
	e := newHostEnv(t)
	e.raceCheck()
	cmd, launches := e.flakyWorker("doomed", -1)
	e.addCommandPool(pool, "/doomed", cmd, "/startMode:AlwaysRunning", "/failure.rapidFailProtectionMaxCrashes:3")
	e.startHost()
	p := e.waitPoolState(pool, runstate.PoolStopped, 20*time.Second)
	if !p.Disabled || !strings.Contains(p.Reason, "rapid-fail") {
		t.Errorf("stopped pool %+v, want disabled by rapid-fail protection", p)
	}
	if n := len(launchTimes(t, launches)); n != 3 {
		t.Errorf("%d launches, want exactly 3 (rapidFailProtectionMaxCrashes)", n)
	}
	code, _, hdr := e.get("/doomed/")
	if code != 503 || hdr.Get("X-Poolctl-Reason") != "AppOffline" {
		t.Errorf("GET /doomed/ = %d %q, want 503 AppOffline", code, hdr.Get("X-Poolctl-Reason"))
	}
	if n := len(launchTimes(t, launches)); n != 3 {
		t.Errorf("%d launches after a request to the disabled pool, want still 3", n)
	}
	if n := hcCount(e.lcEvents(pool), 5002); n != 1 {
		t.Errorf("%d rapid-fail events (5002), want 1: %+v", n, e.lcEvents(pool))
	}
}
