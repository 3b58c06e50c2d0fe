package hosttest

// Health tests with real processes: a hung worker (SIGSTOP) found by the
// pool's health checks and replaced (or orphaned), rapid-fail protection
// tripping at exactly its count, and crashes spread beyond its window that
// do not trip it. Every pool here has a name starting with "Hc".

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hcScript writes an executable shell script that writes its arguments,
// one line, to out (atomically, so a reader never sees half of it).
func hcScript(t *testing.T, dir, name, out string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	body := fmt.Sprintf("#!/bin/sh\necho \"$@\" > %q.tmp && mv %q.tmp %q\n", out, out, out)
	if err := os.WriteFile(path, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// hcPool adds a test pool whose workers run as the host (LocalSystem), so
// that these tests do not depend on the identity the test binaries'
// directory lets a per-pool uid use.
func (e *hostEnv) hcPool(name string, settings ...string) {
	e.t.Helper()
	e.t.Cleanup(func() {
		if e.t.Failed() {
			e.t.Logf("host log:\n%s", tailString(e.log(), 8000))
		}
	})
	e.addTestPool(name, "/", append([]string{"/processModel.identityType:LocalSystem"}, settings...)...)
}

// hcCount counts the events of pool with the id.
func hcCount(evs []lcEvent, id int) int {
	n := 0
	for _, ev := range evs {
		if ev.ID == id {
			n++
		}
	}
	return n
}

// hcText runs `list apppool pool /text:prop` and returns its output.
func (e *hostEnv) hcText(pool, prop string) string {
	return strings.TrimSpace(e.run("list", "apppool", pool, "/text:"+prop))
}

// hcHang hangs pool's only worker with SIGSTOP while a load runs and waits
// for its replacement; it returns the hung pid, the replacement's pid, and
// the load.
func (e *hostEnv) hcHang(pool string, orphan bool) (hung, repl int, l *loadResult, stopped time.Time) {
	t := e.t
	t.Helper()
	hung = e.lcServe("/", pool)
	t0 := time.Now()
	stop := make(chan struct{})
	done := make(chan *loadResult, 1)
	// Requests in flight on a killed worker fail when it dies; those on
	// an orphan stay with it until the test ends the hang (SIGCONT) once
	// the replacement has served. (A client that gave up on them instead
	// would meet the bug TestHealthOrphanClientGoneKeepsReplacement shows.)
	go func() {
		done <- runLoad(loadSpec{Addr: fmt.Sprintf("127.0.0.1:%d", e.port), Path: func(c, n int) string { return "/" },
			Conns: 4, Duration: loadHardLimit, MaxRequests: 1_000_000, RequestTimeout: 20 * time.Second, Start: t0}, stop)
	}()
	// Let the load reach the worker before it hangs.
	waitFor(t, 5*time.Second, "load served by the worker", func() error {
		if s := strings.TrimSpace(e.run("list", "wp", strconv.Itoa(hung), "/text:requests")); s == "" || s == "0" || s == "1" {
			return fmt.Errorf("requests %q", s)
		}
		return nil
	})
	if err := syscall.Kill(hung, syscall.SIGSTOP); err != nil {
		close(stop)
		t.Fatal(err)
	}
	waitStopped(t, hung)
	stopped = time.Now()
	if orphan {
		t.Cleanup(func() { _ = syscall.Kill(hung, syscall.SIGKILL) })
	}
	waitFor(t, 10*time.Second, "hung worker replaced", func() error {
		pids := e.workers(pool)
		if len(pids) != 1 || pids[0] == hung {
			return fmt.Errorf("workers %v (hung %d)", pids, hung)
		}
		repl = pids[0]
		return nil
	})
	// The replacement is serving when the host records it ready (9003),
	// after the hang; on an idle machine within pingInterval +
	// pingResponseTime + 1 s of it (logged: speed is bench/'s business).
	ready := e.lcWaitEvent(pool, 9003, repl, 2*time.Second)
	took := ready.Time.Sub(stopped)
	if took < 0 {
		t.Errorf("the replacement %d was ready %s before the hang", repl, -took)
	}
	if orphan {
		// End the hang: the orphan answers the requests it holds (the
		// load's four connections may all be waiting on it), and stays
		// out of dispatch (checked by hcCheckLoad).
		if err := syscall.Kill(hung, syscall.SIGCONT); err != nil {
			t.Errorf("SIGCONT the orphan %d: %v", hung, err)
		}
	}
	// Keep the load on the replacement for a while.
	waitFor(t, 10*time.Second, "load served by the replacement", func() error {
		if s := strings.TrimSpace(e.run("list", "wp", strconv.Itoa(repl), "/text:requests")); len(s) < 3 {
			return fmt.Errorf("requests %q", s)
		}
		return nil
	})
	close(stop)
	l = <-done
	t.Logf("hung worker %d replaced by %d, ready %s after the hang (about 3 s on an idle machine); load: %s", hung, repl, took.Round(time.Millisecond), l.Summary())
	return hung, repl, l, stopped
}

// hcCheckLoad checks the load around a hang: at most maxFailed requests
// sent before the hung worker left dispatch (event 5010) may fail (they
// were in flight on it, at most one per connection); every request sent
// after it got a 2xx from the replacement.
func hcCheckLoad(t *testing.T, l *loadResult, t0, outAt time.Time, hung, repl, maxFailed int) {
	t.Helper()
	out := outAt.Sub(t0)
	failedBefore, after := 0, 0
	for _, s := range l.Samples {
		ok := s.status >= 200 && s.status <= 299 && s.err == ""
		if s.start < out {
			if !ok {
				failedBefore++
			}
			continue
		}
		after++
		if !ok {
			t.Errorf("a request sent at %s, after the hung worker left dispatch at %s, failed: status %d %s", fmtMS(s.start), fmtMS(out), s.status, s.err)
		} else if s.pid == hung {
			t.Errorf("a request sent at %s, after the hung worker left dispatch at %s, was answered by it", fmtMS(s.start), fmtMS(out))
		}
	}
	byRepl := 0
	for _, s := range l.Samples {
		if s.pid == repl {
			byRepl++
		}
	}
	t.Logf("%d requests in flight on the hung worker failed (at most %d allowed); %d requests sent after it left dispatch all succeeded; %d answered by the replacement", failedBefore, maxFailed, after, byRepl)
	if failedBefore > maxFailed {
		t.Errorf("%d requests failed, more than the %d allowed: %v", failedBefore, maxFailed, l.Failures)
	}
	// Progress: the load went on with the replacement (the test ran it
	// until the host counted 100 requests on it). When the host records
	// 5010 relative to the replacement's first answers is its business.
	if byRepl < 50 || !slices.Contains(l.PIDs, repl) {
		t.Errorf("only %d requests answered by the replacement (pids seen %v, replacement %d)", byRepl, l.PIDs, repl)
	}
}

// TestHealthHungWorkerReplaced: a worker stopped with SIGSTOP fails its
// health check (pingInterval 1 s, pingResponseTime 1 s) and is replaced
// (within 3 s on an idle machine), event 5010, the hung process killed; a client that keeps
// sending loses no request: the GETs that were in flight on the hung worker
// are sent again to its replacement once the host has killed it.
func TestHealthHungWorkerReplaced(t *testing.T) {
	t.Parallel()
	heavy(t)
	const pool = "HcHung"
	e := newHostEnv(t)
	e.hcPool(pool, "/processModel.pingInterval:00:00:01", "/processModel.pingResponseTime:00:00:01")
	e.startHost()
	t0 := time.Now()
	hung, repl, l, _ := e.hcHang(pool, false)
	ev := e.lcWaitEvent(pool, 5010, hung, 2*time.Second)
	waitFor(t, 5*time.Second, "hung worker killed", func() error {
		if alive(hung) {
			return fmt.Errorf("pid %d still alive (state %s)", hung, procState(hung))
		}
		return nil
	})
	hcCheckLoad(t, l, t0, ev.Time, hung, repl, 0)
	evs := e.lcEvents(pool)
	if n := hcCount(evs, 5009); n != 0 {
		t.Errorf("%d crash events (5009) for a worker killed as hung, want 0: %+v", n, evs)
	}
	if st := e.hcText(pool, "state"); st != "Started" {
		t.Errorf("state %q after one hung worker, want Started", st)
	}
	t.Logf("event 5010: %s", ev.Reason)
}

// TestHealthHungWorkerOrphaned: with failure.orphanWorkerProcess the hung
// worker is replaced the same way but left running, out of dispatch and of
// `list wp`, and orphanActionExe runs with its pid; it dies only with the
// host (the parent-death signal).
func TestHealthHungWorkerOrphaned(t *testing.T) {
	t.Parallel()
	heavy(t)
	const pool = "HcOrphan"
	e := newHostEnv(t)
	marker := filepath.Join(e.dir, "orphan.out")
	script := hcScript(t, e.dir, "orphan.sh", marker)
	e.hcPool(pool, "/processModel.pingInterval:00:00:01", "/processModel.pingResponseTime:00:00:01",
		"/failure.orphanWorkerProcess:true", "/failure.orphanActionExe:"+script, "/failure.orphanActionParams:pid %1% of "+pool)
	e.startHost()
	t0 := time.Now()
	hung, repl, l, _ := e.hcHang(pool, true)
	ev := e.lcWaitEvent(pool, 5010, hung, 2*time.Second)
	hcCheckLoad(t, l, t0, ev.Time, hung, repl, 4)
	var got string
	waitFor(t, 5*time.Second, "orphan action ran", func() error {
		b, err := os.ReadFile(marker)
		got = strings.TrimSpace(string(b))
		return err
	})
	if want := fmt.Sprintf("pid %d of %s", hung, pool); got != want {
		t.Errorf("orphanActionExe got %q, want %q", got, want)
	}
	if !alive(hung) {
		t.Fatalf("orphaned worker %d: alive %v state %q, want it left running", hung, alive(hung), procState(hung))
	}
	if pids := e.workers(pool); slices.Contains(pids, hung) {
		t.Errorf("list wp still shows the orphan %d: %v", hung, pids)
	}
	// The orphan is not stopped with the pool: a stop and start leave it.
	e.run("stop", "apppool", pool)
	e.run("start", "apppool", pool)
	if !alive(hung) {
		t.Errorf("the orphan %d was killed when its pool stopped", hung)
	}
	e.stopHost()
	waitFor(t, 5*time.Second, "orphan gone with the host", func() error {
		if alive(hung) {
			return fmt.Errorf("pid %d alive", hung)
		}
		return nil
	})
}

// TestHealthOrphanClientGoneKeepsReplacement: a client that gives up on a
// request held by an orphaned hung worker, after the worker's replacement
// is ready, costs nothing but that request: the replacement stays (the
// front must not take the cancelled retry of the request for a worker
// that refuses connections) and serves the next request.
//
// It failed before front.serve checked the client's context: the retry's
// dial, cancelled with the request, was taken for a refusal ("worker
// refused a connection; replacing it ... operation was canceled").
func TestHealthOrphanClientGoneKeepsReplacement(t *testing.T) {
	t.Parallel()
	const pool = "HcOrphanGone"
	e := newHostEnv(t)
	e.hcPool(pool, "/processModel.pingInterval:00:00:01", "/processModel.pingResponseTime:00:00:01", "/failure.orphanWorkerProcess:true")
	e.startHost()
	hung := e.lcServe("/", pool)
	t.Cleanup(func() { _ = syscall.Kill(hung, syscall.SIGKILL) })
	// A request in flight on the worker, then the worker hangs.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.url("/sleep?ms=60000"), nil)
	if err != nil {
		t.Fatal(err)
	}
	gone := make(chan error, 1)
	go func() {
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		gone <- err
	}()
	waitFor(t, 5*time.Second, "the request on the worker", func() error {
		if out := strings.TrimSpace(e.run("list", "request", "/apppool.name:"+pool, "/text:wp.name")); out != strconv.Itoa(hung) {
			return fmt.Errorf("list request shows %q", out)
		}
		return nil
	})
	if err := syscall.Kill(hung, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	e.lcWaitEvent(pool, 5010, hung, 5*time.Second)
	repl := 0
	waitFor(t, 10*time.Second, "the replacement ready", func() error {
		pids := e.workers(pool)
		if len(pids) != 1 || pids[0] == hung {
			return fmt.Errorf("workers %v (hung %d)", pids, hung)
		}
		repl = pids[0]
		return nil
	})
	e.lcWaitEvent(pool, 9003, repl, 5*time.Second)

	cancel() // the client gives up on the request the orphan holds
	<-gone
	waitFor(t, 5*time.Second, "the abandoned request gone", func() error {
		if out := strings.TrimSpace(e.run("list", "request", "/apppool.name:"+pool)); out != "" {
			return fmt.Errorf("list request shows %q", out)
		}
		return nil
	})
	if got := e.lcServe("/", pool); got != repl {
		t.Errorf("the next request was served by %d, want the replacement %d (workers %v)", got, repl, e.workers(pool))
	}
	if n := len(e.lcEvents(pool)); lcFindEvent(e.lcEvents(pool), 9004, repl) >= 0 || strings.Contains(e.log(), "refused a connection") {
		t.Errorf("the replacement %d was stopped after a client gave up on a request of the orphan (%d events):\n%s", repl, n, tailString(e.log(), 3000))
	}
}

// TestHealthRapidFail: a worker that exits at start trips rapid-fail
// protection at exactly rapidFailProtectionMaxCrashes (3): the first
// request waits while the starts are retried (the failures come from the
// exits, not a start-up time-out) and gets 503 AppOffline once the pool is
// disabled; the pool is Stopped with the reason, 503 AppOffline, event
// 5002 once, autoShutdownExe ran; fixing the worker and `start apppool`
// brings it back.
func TestHealthRapidFail(t *testing.T) {
	t.Parallel()
	const pool = "HcRapid"
	e := newHostEnv(t)
	marker := filepath.Join(e.dir, "shutdown.out")
	script := hcScript(t, e.dir, "shutdown.sh", marker)
	e.hcPool(pool, "/+environmentVariables.[name='TW_EXIT_AT_START',value='3']",
		"/failure.rapidFailProtectionMaxCrashes:3", "/failure.autoShutdownExe:"+script, "/failure.autoShutdownParams:'%1%' tripped")
	e.startHost()
	start := time.Now()
	code, body, hdr := e.get("/")
	took := time.Since(start)
	if code != 503 || hdr.Get("X-Poolctl-Reason") != "AppOffline" {
		t.Fatalf("first request: %d %q reason %q, want 503 AppOffline (it waits through the failed starts)\n%s", code, body, hdr.Get("X-Poolctl-Reason"), e.log())
	}
	t.Logf("first request: 503 %s after %s", hdr.Get("X-Poolctl-Reason"), took.Round(time.Millisecond))
	waitFor(t, 5*time.Second, "pool disabled", func() error {
		if st := e.hcText(pool, "state"); st != "Stopped" {
			return fmt.Errorf("state %q", st)
		}
		return nil
	})
	reason := e.hcText(pool, "reason")
	if !strings.Contains(reason, "rapid-fail") || !strings.Contains(reason, "3 worker failures") {
		t.Errorf("reason %q, want rapid-fail with the count", reason)
	}
	t.Logf("reason: %s", reason)
	for i := range 5 {
		start := time.Now()
		code, _, hdr := e.get("/")
		took := time.Since(start)
		if code != 503 || hdr.Get("X-Poolctl-Reason") != "AppOffline" {
			t.Errorf("request %d to the disabled pool: %d reason %q after %s, want 503 AppOffline", i, code, hdr.Get("X-Poolctl-Reason"), took)
		}
	}
	var got string
	waitFor(t, 5*time.Second, "autoShutdownExe ran", func() error {
		b, err := os.ReadFile(marker)
		got = strings.TrimSpace(string(b))
		return err
	})
	if got != pool+" tripped" {
		t.Errorf("autoShutdownExe got %q, want %q", got, pool+" tripped")
	}
	evs := e.lcEvents(pool)
	if n := hcCount(evs, 5009); n != 3 {
		t.Errorf("%d failure events (5009), want exactly 3: %+v", n, evs)
	}
	if n := hcCount(evs, 5002); n != 1 {
		t.Errorf("%d rapid-fail events (5002), want 1: %+v", n, evs)
	}
	// Not tripped before the limit: all 3 failures precede event 5002.
	if i := lcFindEvent(evs, 5002, 0); i >= 0 && hcCount(evs[:i], 5009) != 3 {
		t.Errorf("rapid-fail protection (5002) tripped after %d failures (5009), want 3: %+v", hcCount(evs[:i], 5009), evs)
	}
	// Each failure came from the worker's exit, not from waiting out
	// startupTimeLimit (which would be event 5012).
	if n := hcCount(evs, 5012); n != 0 {
		t.Errorf("%d start-up time-outs (5012) for a worker that exits at start, want 0: %+v", n, evs)
	}

	e.run("set", "apppool", pool, "/-environmentVariables.[name='TW_EXIT_AT_START']")
	e.run("start", "apppool", pool)
	if st := e.hcText(pool, "state"); st != "Started" {
		t.Fatalf("state %q after start, want Started", st)
	}
	e.lcServe("/", pool)
	if n := hcCount(e.lcEvents(pool), 5002); n != 1 {
		t.Errorf("%d rapid-fail events after the restart, want 1", n)
	}
}

// TestHealthRapidFailWindow: crashes 3 s apart with
// rapidFailProtectionInterval 2 s and rapidFailProtectionMaxCrashes 2 never
// trip rapid-fail protection: each crashed worker is simply replaced. The
// crashes are POST /die (the worker exits while answering).
func TestHealthRapidFailWindow(t *testing.T) {
	t.Parallel()
	const pool = "HcWindow"
	e := newHostEnv(t)
	e.hcPool(pool, "/failure.rapidFailProtectionInterval:00:00:02", "/failure.rapidFailProtectionMaxCrashes:2")
	e.startHost()
	var last time.Time
	for i := 1; i <= 3; i++ {
		if i > 1 {
			// Wait until the previous crash is 3 s old, counted from
			// when the host recorded it (the host's clock, however late
			// a busy machine let it see the exit).
			evs := e.lcEvents(pool)
			for _, ev := range evs {
				if ev.ID == 5009 && ev.Time.After(last) {
					last = ev.Time
				}
			}
			waitFor(t, 5*time.Second, "3 s since the last crash", func() error {
				if d := time.Since(last); d < 3*time.Second {
					return fmt.Errorf("only %s", d)
				}
				return nil
			})
		}
		e.lcServe("/", pool)
		// POST, which the front never resends to another worker (a GET
		// cut short on a reused connection may be resent, and crash
		// that worker too).
		resp, err := client.Post(e.url("/die"), "text/plain", strings.NewReader("x"))
		last = time.Now()
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				t.Fatalf("POST /die: %d, want a 5xx", resp.StatusCode)
			}
		}
		waitFor(t, 3*time.Second, fmt.Sprintf("crash %d recorded", i), func() error {
			if n := hcCount(e.lcEvents(pool), 5009); n != i {
				return fmt.Errorf("%d crash events", n)
			}
			return nil
		})
		if st := e.hcText(pool, "state"); st != "Started" {
			t.Fatalf("state %q after crash %d (3 s apart, window 2 s), want Started\nreason: %s", st, i, e.hcText(pool, "reason"))
		}
	}
	e.lcServe("/", pool)
	evs := e.lcEvents(pool)
	if n := hcCount(evs, 5009); n != 3 {
		t.Errorf("%d crash events, want 3: %+v", n, evs)
	}
	if n := hcCount(evs, 5002); n != 0 {
		t.Errorf("rapid-fail tripped by crashes spread beyond its window: %+v", evs)
	}
}

// TestHealthRapidFailConcurrent: with 16 clients sending at once to a pool
// whose worker exits at start, every request is answered (the waiting
// requests get 503 AppOffline once the pool is disabled), and rapid-fail protection still
// stops at exactly 3 failures: no worker is launched once the count is
// reached.
func TestHealthRapidFailConcurrent(t *testing.T) {
	t.Parallel()
	const pool = "HcRapidMany"
	e := newHostEnv(t)
	e.hcPool(pool, "/+environmentVariables.[name='TW_EXIT_AT_START',value='3']", "/failure.rapidFailProtectionMaxCrashes:3")
	e.startHost()
	const clients, perClient = 16, 40
	type outcome struct {
		offline int
		slow    []string
		bad     []string
	}
	results := make(chan outcome, clients)
	c := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	for range clients {
		go func() {
			var o outcome
			for range perClient {
				r := lcFetch(c, e.url("/"))
				if r.took > 3*time.Second {
					o.slow = append(o.slow, fmt.Sprintf("%d after %s", r.code, r.took.Round(time.Millisecond)))
				}
				if r.err != nil || r.code != 503 {
					o.bad = append(o.bad, fmt.Sprintf("%d %v", r.code, r.err))
					break
				}
				if r.hdr.Get("X-Poolctl-Reason") == "AppOffline" {
					o.offline++
					if o.offline == 3 {
						break
					}
				}
			}
			results <- o
		}()
	}
	for range clients {
		select {
		case o := <-results:
			if len(o.bad) > 0 || o.offline < 3 {
				t.Errorf("client: %d AppOffline answers; not 503: %v", o.offline, o.bad)
			}
			if len(o.slow) > 0 {
				t.Logf("client: answers slower than 3 s (a busy machine): %v", o.slow)
			}
		case <-time.After(60 * time.Second):
			t.Fatalf("clients did not finish within 60 s")
		}
	}
	evs := e.lcEvents(pool)
	if n := hcCount(evs, 5009); n != 3 {
		t.Errorf("%d failure events (5009) under concurrent requests, want exactly 3: %+v", n, evs)
	}
	if n := hcCount(evs, 5002); n != 1 {
		t.Errorf("%d rapid-fail events (5002), want 1", n)
	}
	if n := hcCount(evs, 5012); n != 0 {
		t.Errorf("%d start-up time-outs (5012) for a worker that exits at start, want 0: answers waited for startupTimeLimit", n)
	}
	if st := e.hcText(pool, "state"); st != "Stopped" {
		t.Errorf("state %q, want Stopped", st)
	}
}
