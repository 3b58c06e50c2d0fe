package hosttest

// Recycling-trigger tests with real processes: private memory (a leaking
// worker under load, no failed request), virtual memory (and its guard
// against a recycle loop), request count (in a web garden, only the worker
// that reached it), time, schedule, and logEventOnRecycle. Every pool here
// has a name starting with "Tr".

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Event ids the tests expect (events package, IIS's ids).
const (
	trEvTime          = 5074
	trEvRequests      = 5075
	trEvSchedule      = 5076
	trEvMemory        = 5077
	trEvPrivateMemory = 5117
	trEvWorkerStopped = 9004
)

// trAddPool adds a test pool at / whose workers run as the host's user
// (LocalSystem), so that these tests do not depend on per-pool identities.
func (e *hostEnv) trAddPool(name string, settings ...string) {
	e.t.Helper()
	e.t.Cleanup(func() {
		if e.t.Failed() {
			e.t.Logf("host log:\n%s", tailString(e.log(), 8000))
		}
	})
	e.addTestPool(name, "/", append([]string{"/processModel.identityType:LocalSystem"}, settings...)...)
}

// trCount returns how many events of pool have the id (and pid unless 0).
func (e *hostEnv) trCount(pool string, id, pid int) int {
	n := 0
	for _, ev := range e.lcEvents(pool) {
		if ev.ID == id && (pid == 0 || ev.PID == pid) {
			n++
		}
	}
	return n
}

// trPaced returns a loadSpec Path function that sends path at most rate
// times a second over all connections, so that a leaking worker grows at
// a known pace (the load's clients block in it).
func trPaced(path string, rate int, stop <-chan struct{}) func(c, n int) string {
	var mu sync.Mutex
	next := time.Now()
	gap := time.Second / time.Duration(rate)
	return func(c, n int) string {
		mu.Lock()
		if now := time.Now(); next.Before(now) {
			next = now
		}
		at := next
		next = next.Add(gap)
		mu.Unlock()
		select {
		case <-time.After(time.Until(at)): // the pace of the load, not a wait for a condition
		case <-stop:
		}
		return path
	}
}

// TestTriggerPrivateMemoryLeak: a worker that leaks 5 MB per request, with
// recycling.periodicRestart.privateMemory 51200 KB (50 MB) and the host
// sampling every 100 ms, is replaced each time it crosses the limit (event
// 5117 with its pid, five times), while a client that keeps sending on
// four keep-alive connections gets no failed request.
func TestTriggerPrivateMemoryLeak(t *testing.T) {
	e := newHostEnv(t)
	const pool = "TrLeak"
	e.trAddPool(pool, "/recycling.periodicRestart.privateMemory:51200")
	ctlStartHost(e, "--sample-interval", "100ms")
	e.warmUp(pool, 1)
	first := e.workers(pool)

	const conns, rate = 4, 40 // 40 requests, 200 MB, a second
	stop := make(chan struct{})
	t0 := time.Now()
	done := make(chan *loadResult, 1)
	go func() {
		done <- runLoad(loadSpec{Addr: fmt.Sprintf("127.0.0.1:%d", e.port), Path: trPaced("/leak?mb=5", rate, stop),
			Conns: conns, Duration: 30 * time.Second, MaxRequests: 2000, Start: t0}, stop)
	}()
	// Run until five workers were replaced for private memory.
	waitFor(t, 25*time.Second, "five private-memory recycles", func() error {
		if n := e.trCount(pool, trEvPrivateMemory, 0); n < 5 {
			return fmt.Errorf("%d events 5117 so far", n)
		}
		return nil
	})
	close(stop)
	l := <-done
	t.Logf("load: %s", l.Summary())
	if l.Failed() > 0 {
		t.Errorf("%d of %d requests failed (statuses %v): %s", l.Failed(), l.Requests, l.Statuses, strings.Join(l.Failures, "; "))
	}
	if l.Dials != conns {
		t.Errorf("the load opened %d connections for %d clients: %s", l.Dials, conns, strings.Join(l.Redials, "; "))
	}
	seen := map[int]bool{}
	for _, p := range l.PIDs {
		seen[p] = true
	}
	for _, ev := range e.lcEvents(pool) {
		if ev.ID != trEvPrivateMemory {
			continue
		}
		t.Logf("event 5117: pid %d: %s", ev.PID, ev.Reason)
		if !seen[ev.PID] && (len(first) == 0 || ev.PID != first[0]) {
			t.Errorf("event 5117 names pid %d, which answered no request (pids %v)", ev.PID, l.PIDs)
		}
		// The limit is crossed between two samples 100 ms apart, at
		// 200 MB/s: the worker is at most ~20 MB (plus a request or two)
		// over the limit when it is caught.
		kb := trReasonKB(ev.Reason)
		if kb <= 51200 || kb > 51200+60*1024 {
			t.Errorf("event 5117 of pid %d at %d KB: want just over the 51200 KB limit: %s", ev.PID, kb, ev.Reason)
		}
	}
	if len(l.PIDs) < 6 {
		t.Errorf("answers came from %d workers (%v), want at least 6 (five replacements)", len(l.PIDs), l.PIDs)
	}
}

// trReasonKB returns N from "... uses N KB of ...", or 0.
func trReasonKB(reason string) uint64 {
	_, rest, ok := strings.Cut(reason, " uses ")
	if !ok {
		return 0
	}
	num, _, _ := strings.Cut(rest, " ")
	n, _ := strconv.ParseUint(num, 10, 64)
	return n
}

// TestTriggerRequestsWebGarden: in a web garden of two workers with
// maxConcurrentRequests 1 and periodicRestart.requests 20, the worker that
// served 20 requests is replaced (event 5075 with its pid) and the 21st
// request is served by its replacement; the other worker, busy with a long
// request meanwhile, is left alone.
func TestTriggerRequestsWebGarden(t *testing.T) {
	e := newHostEnv(t)
	const pool = "TrRequests"
	e.trAddPool(pool, "/startMode:AlwaysRunning", "/processModel.maxProcesses:2",
		"/processModel.maxConcurrentRequests:1", "/recycling.periodicRestart.requests:20")
	e.startHost()
	var both []int
	waitFor(t, 20*time.Second, "two workers", func() error {
		if both = e.workers(pool); len(both) != 2 {
			return fmt.Errorf("workers %v", both)
		}
		return nil
	})
	// Keep one worker (B) busy; with maxConcurrentRequests 1 every other
	// request goes to the other one (A).
	slow := e.lcAsync("/sleep?ms=6000")
	var busy int
	waitFor(t, 10*time.Second, "the long request on a worker", func() error {
		out := strings.Fields(e.run("list", "request", "/text:wp.name"))
		if len(out) != 1 {
			return fmt.Errorf("requests in flight on %v", out)
		}
		busy, _ = strconv.Atoi(out[0])
		if busy == 0 {
			return fmt.Errorf("the request is not on a worker yet")
		}
		return nil
	})
	other := both[0]
	if other == busy {
		other = both[1]
	}
	for i := 1; i <= 21; i++ {
		pid := e.lcServe("/", pool)
		switch {
		case i <= 20 && pid != other:
			t.Fatalf("request %d served by %d, want %d (the idle worker; the busy one is %d)", i, pid, other, busy)
		case i == 21 && (pid == other || pid == busy):
			t.Fatalf("request 21 served by %d: want a replacement of %d (busy worker %d)", pid, other, busy)
		}
	}
	ev := e.lcWaitEvent(pool, trEvRequests, other, 10*time.Second)
	t.Logf("event 5075: %s", ev.Reason)
	r := e.lcAwait(slow, "the long request", 15*time.Second)
	if r.err != nil || r.code != 200 || r.pid() != busy {
		t.Fatalf("the long request: %v %d %q, want 200 from %d", r.err, r.code, r.body, busy)
	}
	if !alive(busy) || !slicesContains(e.workers(pool), busy) {
		t.Errorf("worker %d, which served 1 request, was replaced too (workers %v)", busy, e.workers(pool))
	}
	if n := e.trCount(pool, trEvRequests, busy); n != 0 {
		t.Errorf("%d events 5075 for worker %d, which did not reach the count", n, busy)
	}
	waitFor(t, 15*time.Second, "the replaced worker gone", func() error {
		if alive(other) {
			return fmt.Errorf("pid %d still runs", other)
		}
		return nil
	})
}

func slicesContains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestTriggerTime: with periodicRestart.time 00:00:03, a worker is
// replaced about 3 s after it started (event 5074 with its pid).
func TestTriggerTime(t *testing.T) {
	e := newHostEnv(t)
	const pool = "TrTime"
	e.trAddPool(pool, "/startMode:AlwaysRunning", "/recycling.periodicRestart.time:00:00:03")
	e.startHost()
	pid := e.lcSingleWorker(pool, 20*time.Second)
	started := e.lcWaitEvent(pool, 9003, pid, 5*time.Second).Time
	ev := e.lcWaitEvent(pool, trEvTime, pid, 10*time.Second)
	age := ev.Time.Sub(started)
	t.Logf("event 5074 %s after the worker was ready: %s", age.Round(time.Millisecond), ev.Reason)
	if age < 2500*time.Millisecond || age > 5*time.Second {
		t.Errorf("worker %d recycled %s after it was ready, want about 3s (within the 1s tick)", pid, age)
	}
	waitFor(t, 10*time.Second, "a new worker", func() error {
		if ws := e.workers(pool); len(ws) != 1 || ws[0] == pid {
			return fmt.Errorf("workers %v", ws)
		}
		return nil
	})
	e.lcServe("/", pool)
}

// TestTriggerSchedule: a schedule time 3 s ahead (local time) recycles the
// worker running then, once (event 5076 with its pid); its replacement,
// started after that time, is not recycled for it.
func TestTriggerSchedule(t *testing.T) {
	e := newHostEnv(t)
	const pool = "TrSchedule"
	e.trAddPool(pool, "/startMode:AlwaysRunning")
	e.startHost()
	pid := e.lcSingleWorker(pool, 20*time.Second)
	at := time.Now().Add(3 * time.Second).Truncate(time.Second)
	when := at.Format("15:04:05")
	e.run("set", "apppool", pool, "/+recycling.periodicRestart.schedule.[value='"+when+"']")
	ev := e.lcWaitEvent(pool, trEvSchedule, pid, 10*time.Second)
	t.Logf("event 5076 at %s for schedule %s: %s", ev.Time.Local().Format("15:04:05.000"), when, ev.Reason)
	if ev.Time.Before(at) || ev.Time.After(at.Add(3*time.Second)) {
		t.Errorf("recycled at %s for the schedule time %s", ev.Time.Local().Format("15:04:05.000"), when)
	}
	var next int
	waitFor(t, 10*time.Second, "a new worker", func() error {
		if ws := e.workers(pool); len(ws) != 1 || ws[0] == pid {
			return fmt.Errorf("workers %v", ws)
		}
		next = e.workers(pool)[0]
		return nil
	})
	// The replacement serves, and a few ticks later still runs: the
	// occurrence was handled once.
	waitFor(t, 10*time.Second, "two seconds past the schedule time", func() error {
		if time.Since(at) < 2*time.Second {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	if got := e.lcServe("/", pool); got != next {
		t.Errorf("served by %d, want the replacement %d", got, next)
	}
	if n := e.trCount(pool, trEvSchedule, 0); n != 1 {
		t.Errorf("%d events 5076, want 1: %+v", n, e.lcEvents(pool))
	}
}

// TestTriggerVirtualMemory: periodicRestart.memory below a fresh worker's
// VmSize. A worker over the limit before it served any request is left
// alone with a warning (its replacement would start just as big); once it
// served a request it is recycled (event 5077 with its pid), and its
// replacement is again left alone, so the pool does not recycle in a loop.
func TestTriggerVirtualMemory(t *testing.T) {
	e := newHostEnv(t)
	const pool = "TrVirtual"
	e.trAddPool(pool, "/startMode:AlwaysRunning", "/recycling.periodicRestart.memory:1024")
	e.startHost()
	pid := e.lcSingleWorker(pool, 20*time.Second)
	warn := func(p int) string { return fmt.Sprintf("worker %d uses ", p) }
	ctlLogWait(e, 10*time.Second, warn(pid))
	if n := e.trCount(pool, trEvMemory, 0); n != 0 {
		t.Fatalf("%d events 5077 before any request", n)
	}
	if got := e.lcServe("/", pool); got != pid {
		t.Fatalf("served by %d, want %d", got, pid)
	}
	ev := e.lcWaitEvent(pool, trEvMemory, pid, 10*time.Second)
	t.Logf("event 5077: %s", ev.Reason)
	var next int
	waitFor(t, 10*time.Second, "a new worker", func() error {
		ws := e.workers(pool)
		for _, w := range ws {
			if w != pid {
				next = w
				return nil
			}
		}
		return fmt.Errorf("workers %v", ws)
	})
	ctlLogWait(e, 10*time.Second, warn(next))
	if !alive(next) || !slicesContains(e.workers(pool), next) {
		t.Errorf("the replacement %d, which served nothing, was recycled: workers %v", next, e.workers(pool))
	}
	if n := e.trCount(pool, trEvMemory, 0); n != 1 {
		t.Errorf("%d events 5077, want 1", n)
	}
}

// TestTriggerLogEventOnRecycle: with the Requests flag cleared from
// recycling.logEventOnRecycle, a worker that reaches its request count is
// still replaced, but no event 5075 is recorded.
func TestTriggerLogEventOnRecycle(t *testing.T) {
	e := newHostEnv(t)
	const pool = "TrNoLog"
	e.trAddPool(pool, "/recycling.periodicRestart.requests:5",
		"/recycling.logEventOnRecycle:Time,Schedule,Memory,OnDemand,ConfigChange,PrivateMemory")
	e.startHost()
	first := e.lcServe("/", pool)
	for i := 2; i <= 5; i++ {
		if got := e.lcServe("/", pool); got != first {
			t.Fatalf("request %d served by %d, want %d", i, got, first)
		}
	}
	if got := e.lcServe("/", pool); got == first {
		t.Fatalf("request 6 served by %d, which had served 5 requests", got)
	}
	e.lcWaitEvent(pool, trEvWorkerStopped, first, 15*time.Second)
	if n := e.trCount(pool, trEvRequests, 0); n != 0 {
		t.Errorf("%d events 5075 recorded with the Requests flag clear", n)
	}
}
