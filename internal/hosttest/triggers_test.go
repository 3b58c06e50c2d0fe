package hosttest

// Recycling-trigger tests with real processes: private memory (a leaking
// worker under load, no failed request), virtual memory (and its guard
// against a recycle loop), request count (in a web garden, only the worker
// that reached it), time, schedule, and logEventOnRecycle. Every pool here
// has a name starting with "Tr".

import (
	"fmt"
	"os"
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
	t.Parallel()
	heavy(t)
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
			Conns: conns, Duration: loadHardLimit, MaxRequests: 2000, Start: t0}, stop)
	}()
	// Run until five workers were replaced for private memory and a
	// replacement of the fifth has answered a request.
	waitFor(t, 25*time.Second, "five private-memory recycles, and a replacement answering", func() error {
		replaced := map[int]bool{}
		for _, ev := range e.lcEvents(pool) {
			if ev.ID == trEvPrivateMemory {
				replaced[ev.PID] = true
			}
		}
		if len(replaced) < 5 {
			return fmt.Errorf("%d events 5117 so far", len(replaced))
		}
		for _, w := range e.workers(pool) {
			if replaced[w] {
				continue
			}
			out, _, code := e.poolctl("list", "wp", strconv.Itoa(w), "/text:requests")
			if n, err := strconv.Atoi(strings.TrimSpace(out)); code == 0 && err == nil && n > 0 {
				return nil
			}
		}
		return fmt.Errorf("no worker after the recycles has answered yet")
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
		// 200 MB/s: on an idle machine the worker is at most ~20 MB (plus
		// a request or two) over the limit when it is caught; a busy one
		// may sample late, so only "over the limit" is checked.
		kb := trReasonKB(ev.Reason)
		if kb <= 51200 {
			t.Errorf("event 5117 of pid %d at %d KB: want over the 51200 KB limit: %s", ev.PID, kb, ev.Reason)
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
	t.Parallel()
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
	// Keep one worker (B) busy with a request it is held on (SIGSTOP)
	// until the test is done; with maxConcurrentRequests 1 every other
	// request goes to the other one (A).
	releases := map[int]func(){both[0]: e.hold(both[0]), both[1]: e.hold(both[1])}
	slow := e.lcAsync("/sleep?ms=10")
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
	releases[other]()
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
	releases[busy]()
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
	t.Parallel()
	e := newHostEnv(t)
	const pool = "TrTime"
	e.trAddPool(pool, "/startMode:AlwaysRunning", "/recycling.periodicRestart.time:00:00:03")
	e.startHost()
	pid := e.lcSingleWorker(pool, 20*time.Second)
	// The time counts from the process's start; on a busy machine the
	// worker may need a good part of it to get ready.
	started, err := procStartTime(pid)
	if err != nil {
		t.Fatal(err)
	}
	ready := e.lcWaitEvent(pool, 9003, pid, 5*time.Second).Time
	ev := e.lcWaitEvent(pool, trEvTime, pid, 10*time.Second)
	age := ev.Time.Sub(started)
	t.Logf("event 5074 %s after the worker started, %s after it was ready: %s", age.Round(time.Millisecond), ev.Time.Sub(ready).Round(time.Millisecond), ev.Reason)
	if age < 2500*time.Millisecond {
		t.Errorf("worker %d recycled %s after it started, want not before about 3s (within the 1s tick)", pid, age)
	}
	waitFor(t, 10*time.Second, "a new worker", func() error {
		if ws := e.workers(pool); len(ws) != 1 || ws[0] == pid {
			return fmt.Errorf("workers %v", ws)
		}
		return nil
	})
	e.lcServe("/", pool)
}

// procStartTime returns when a process started, from its start time in
// /proc/<pid>/stat (clock ticks since boot, 100 a second) and
// /proc/uptime, to about 10 ms.
func procStartTime(pid int) (time.Time, error) {
	now := time.Now()
	up, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return time.Time{}, err
	}
	f := strings.Fields(string(up))
	if len(f) == 0 {
		return time.Time{}, fmt.Errorf("/proc/uptime: %q", up)
	}
	uptime, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("/proc/uptime: %w", err)
	}
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return time.Time{}, err
	}
	s := string(st)
	i := strings.LastIndexByte(s, ')')
	fields := strings.Fields(s[i+1:]) // fields[0] is stat field 3 (state)
	if i < 0 || len(fields) < 20 {
		return time.Time{}, fmt.Errorf("/proc/%d/stat: %q", pid, s)
	}
	ticks, err := strconv.ParseUint(fields[19], 10, 64) // field 22: starttime
	if err != nil {
		return time.Time{}, fmt.Errorf("/proc/%d/stat starttime: %w", pid, err)
	}
	age := time.Duration((uptime - float64(ticks)/100) * float64(time.Second))
	return now.Add(-age), nil
}

// TestTriggerSchedule: a schedule time 3 s ahead (local time) recycles the
// worker running then, once (event 5076 with its pid); its replacement,
// started after that time, is not recycled for it.
func TestTriggerSchedule(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	const pool = "TrSchedule"
	e.trAddPool(pool, "/startMode:AlwaysRunning")
	e.startHost()
	pid := e.lcSingleWorker(pool, 20*time.Second)
	// A time a few seconds ahead; should setting it take so long on a busy
	// machine that the time is (nearly) past when the host has it, it is
	// replaced by one further ahead.
	var at time.Time
	var when string
	for lead := 3 * time.Second; ; lead *= 2 {
		if when != "" {
			e.run("set", "apppool", pool, "/-recycling.periodicRestart.schedule.[value='"+when+"']")
		}
		at = time.Now().Add(lead).Truncate(time.Second)
		when = at.Format("15:04:05")
		e.run("set", "apppool", pool, "/+recycling.periodicRestart.schedule.[value='"+when+"']")
		if time.Until(at) > time.Second || lead > 20*time.Second {
			break
		}
		if n := e.trCount(pool, trEvSchedule, 0); n != 0 {
			break // it fired after all
		}
		t.Logf("schedule time %s set too late to be sure the host had it in time: once more, further ahead", when)
	}
	ev := e.lcWaitEvent(pool, trEvSchedule, pid, 10*time.Second)
	t.Logf("event 5076 at %s for schedule %s: %s", ev.Time.Local().Format("15:04:05.000"), when, ev.Reason)
	if ev.Time.Before(at) {
		t.Errorf("recycled at %s, before the schedule time %s", ev.Time.Local().Format("15:04:05.000"), when)
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
	t.Parallel()
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
	t.Parallel()
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
