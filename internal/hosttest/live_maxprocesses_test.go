package hosttest

import (
	"strconv"
	"testing"
	"time"
)

// TestLiveMaxProcessesDownUp: maxProcesses changed on a running pool under
// a 4-connection load (issue 10: 3 → 1 kept 3 workers, 2 → 4 kept 2, even
// after a recycle). The worker count follows each change, as both the
// control API and `list wp` show: 3 → 1 drains two workers, 1 → 2 and
// 2 → 4 start the missing ones; no request fails.
func TestLiveMaxProcessesDownUp(t *testing.T) {
	t.Parallel()
	heavy(t)
	const pool = "LvGarden"
	e := newHostEnv(t)
	e.raceCheck()
	e.addTestPool(pool, "/", "/startMode:AlwaysRunning", "/processModel.maxProcesses:3")
	e.startHost()
	first := e.waitWorkers(pool, 3, 20*time.Second)
	t.Logf("3 workers: %v", first)

	l := e.startLoad(e.addr(), 4, mixedPath)
	l.progress(t, 200, "before the first change")
	for _, n := range []int{1, 2, 4} {
		e.run("set", "apppool", pool, "/processModel.maxProcesses:"+strconv.Itoa(n))
		pids := e.waitWorkers(pool, n, 20*time.Second)
		t.Logf("maxProcesses %d: workers %v", n, pids)
		l.progress(t, 200, "after maxProcesses "+strconv.Itoa(n))
	}
	r := l.finish()
	checkNoFailure(t, e, "load across maxProcesses 3 → 1 → 2 → 4", r)
}
