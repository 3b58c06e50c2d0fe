package hosttest

// Lifecycle tests of the host with real processes: on-demand and
// always-running start, idle stop and suspend, web-garden dispatch, queue
// overflow, start-up failures, non-overlapping and config-change recycles,
// `list request`, TcpLevel refusals and graceful host shutdown. Every pool
// here has a name starting with "Lc" so that its worker processes can be
// told apart in /proc from those of other tests.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lcEvent is one line of the host's events.jsonl.
type lcEvent struct {
	Time   time.Time `json:"time"`
	ID     int       `json:"id"`
	Pool   string    `json:"pool"`
	PID    int       `json:"pid"`
	Worker string    `json:"worker"`
	Reason string    `json:"reason"`
}

// lcEvents returns the events recorded so far for pool, in file order. A
// line still being written is skipped.
func (e *hostEnv) lcEvents(pool string) []lcEvent {
	b, err := os.ReadFile(filepath.Join(e.state, "events.jsonl"))
	if err != nil {
		return nil
	}
	var out []lcEvent
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var ev lcEvent
		if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.Pool == pool {
			out = append(out, ev)
		}
	}
	return out
}

// lcFindEvent returns the index of the first event of pool with the id (and
// the pid, unless pid is 0), or -1.
func lcFindEvent(evs []lcEvent, id, pid int) int {
	for i, ev := range evs {
		if ev.ID == id && (pid == 0 || ev.PID == pid) {
			return i
		}
	}
	return -1
}

// lcWaitEvent waits for an event of pool with the id (and pid unless 0).
func (e *hostEnv) lcWaitEvent(pool string, id, pid int, d time.Duration) lcEvent {
	e.t.Helper()
	var found lcEvent
	waitFor(e.t, d, fmt.Sprintf("event %d (pid %d) of %s", id, pid, pool), func() error {
		evs := e.lcEvents(pool)
		if i := lcFindEvent(evs, id, pid); i >= 0 {
			found = evs[i]
			return nil
		}
		return fmt.Errorf("events so far: %+v\n%s", evs, e.log())
	})
	return found
}

// lcProcs returns the pids of live processes started for pool (their
// environment holds POOLCTL_APPPOOL=pool) whose parent is ppid, or with any
// parent when ppid is 0.
func lcProcs(pool string, ppid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	want := []byte("POOLCTL_APPPOOL=" + pool)
	var out []int
	for _, ent := range ents {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil || pid == os.Getpid() || !alive(pid) {
			continue
		}
		if ppid != 0 && lcParent(pid) != ppid {
			continue
		}
		env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if err != nil {
			continue
		}
		if slices.ContainsFunc(bytes.Split(env, []byte{0}), func(kv []byte) bool { return bytes.Equal(kv, want) }) {
			out = append(out, pid)
		}
	}
	return out
}

// lcParent returns the parent pid of pid from /proc, or 0.
func lcParent(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.Atoi(f[1])
	return n
}

// lcEnviron reports whether pid's environment holds kv.
func lcEnviron(pid int, kv string) bool {
	env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		return false
	}
	return slices.Contains(strings.Split(string(env), "\x00"), kv)
}

// lcResult is the outcome of one HTTP request made off the test goroutine.
type lcResult struct {
	code int
	body string
	hdr  http.Header
	err  error
	took time.Duration // until the response headers (or the error)
	at   time.Time     // when the response headers (or the error) came
}

// pid returns the worker pid a testworker answer names, or 0.
func (r lcResult) pid() int { return lcBodyPID(r.body) }

// lcBodyPID parses "pid=N ..." from a testworker answer.
func lcBodyPID(body string) int {
	for _, f := range strings.Fields(body) {
		if v, ok := strings.CutPrefix(f, "pid="); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return 0
}

// lcFetch GETs url with c; it is safe to call from any goroutine.
func lcFetch(c *http.Client, url string) lcResult {
	start := time.Now()
	resp, err := c.Get(url)
	r := lcResult{err: err, took: time.Since(start), at: time.Now()}
	if err != nil {
		return r
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	r.code, r.body, r.hdr, r.err = resp.StatusCode, string(b), resp.Header, err
	return r
}

// lcAsync GETs path on the default site in the background.
func (e *hostEnv) lcAsync(path string) <-chan lcResult {
	return e.lcAsyncHost(path, "")
}

// lcAsyncHost GETs path with a Host header (a site bound to that host
// name) in the background; "" keeps the default.
func (e *hostEnv) lcAsyncHost(path, host string) <-chan lcResult {
	ch := make(chan lcResult, 1)
	go func() {
		req, err := http.NewRequest("GET", e.url(path), nil)
		if err != nil {
			ch <- lcResult{err: err}
			return
		}
		if host != "" {
			req.Host = host
		}
		start := time.Now()
		resp, err := client.Do(req)
		r := lcResult{err: err, took: time.Since(start), at: time.Now()}
		if err == nil {
			b, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			r.code, r.body, r.hdr, r.err = resp.StatusCode, string(b), resp.Header, rerr
		}
		ch <- r
	}()
	return ch
}

// lcAwait waits for a background request, failing the test after d (see
// guard).
func (e *hostEnv) lcAwait(ch <-chan lcResult, what string, d time.Duration) lcResult {
	e.t.Helper()
	d = guard(d)
	select {
	case r := <-ch:
		return r
	case <-time.After(d):
		e.t.Fatalf("%s: no answer within %s\n%s", what, d, e.log())
		return lcResult{}
	}
}

// lcTool runs the tool against this host; it is safe to call from any
// goroutine.
func (e *hostEnv) lcTool(args ...string) (string, error) {
	full := append([]string{"--config", e.store, "--socket", e.socket, "--timeout", "60s"}, args...)
	out, err := exec.Command(e.bin, full...).CombinedOutput()
	return string(out), err
}

// lcSingleWorker waits until pool has exactly one worker and returns it.
func (e *hostEnv) lcSingleWorker(pool string, d time.Duration) int {
	e.t.Helper()
	var pids []int
	waitFor(e.t, d, "one worker of "+pool, func() error {
		if pids = e.workers(pool); len(pids) != 1 {
			return fmt.Errorf("workers %v", pids)
		}
		return nil
	})
	return pids[0]
}

// lcServe GETs / and fails unless a worker of pool answers 200; it returns
// that worker's pid.
func (e *hostEnv) lcServe(path, pool string) int {
	e.t.Helper()
	code, body, _ := e.get(path)
	if code != 200 || !strings.Contains(body, "pool="+pool) || lcBodyPID(body) == 0 {
		e.t.Fatalf("GET %s = %d %q, want 200 from a worker of %s\n%s", path, code, body, pool, e.log())
	}
	return lcBodyPID(body)
}

// TestLifecycleOnDemandStart: an OnDemand pool has no worker until the
// first request, which waits in the pool's queue while the worker starts
// and then gets 200.
func TestLifecycleOnDemandStart(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	e.addTestPool("LcOnDemand", "/")
	e.addTestPool("LcSlowStart", "/slow", "/+environmentVariables.[name='TW_READY_DELAY',value='1s']")
	e.startHost()
	for _, pool := range []string{"LcOnDemand", "LcSlowStart"} {
		if pids := e.workers(pool); len(pids) != 0 {
			t.Fatalf("%s has workers %v before any request, want none (OnDemand)", pool, pids)
		}
		if pids := lcProcs(pool, e.host.Process.Pid); len(pids) != 0 {
			t.Fatalf("%s has processes %v before any request, want none (OnDemand)", pool, pids)
		}
	}

	// Cold start: time to the first byte of the first answer.
	var firstByte time.Time
	req, err := http.NewRequest("GET", e.url("/"), nil)
	if err != nil {
		t.Fatal(err)
	}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		GotFirstResponseByte: func() { firstByte = time.Now() },
	}))
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("first GET /: %v\n%s", err, e.log())
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "pool=LcOnDemand") {
		t.Fatalf("first GET / = %d %q, want 200 from LcOnDemand\n%s", resp.StatusCode, body, e.log())
	}
	t.Logf("cold start (request sent to first byte, worker launched on demand): %s", firstByte.Sub(start))
	if pids := e.workers("LcOnDemand"); len(pids) != 1 || pids[0] != lcBodyPID(string(body)) {
		t.Fatalf("workers after the first request: %v, want the one that answered (%s)", pids, body)
	}

	// A worker that takes 1 s to listen: the first request is seen queued
	// (no worker pid) while it starts, then served. The starting worker
	// is held (SIGSTOP) while the test looks, so that a busy machine
	// cannot let it get ready in between.
	slow := e.lcAsync("/slow/")
	var starting []int
	waitFor(t, 5*time.Second, "the LcSlowStart worker starting", func() error {
		if starting = lcProcs("LcSlowStart", e.host.Process.Pid); len(starting) == 0 {
			return errors.New("no process yet")
		}
		return nil
	})
	release := e.hold(starting...)
	waitFor(t, 5*time.Second, "the first request of LcSlowStart queued", func() error {
		out := e.run("list", "request", "/apppool.name:LcSlowStart", "/text:wp.name")
		if strings.TrimSpace(out) != "queued" {
			return fmt.Errorf("list request shows %q, want one queued request", out)
		}
		return nil
	})
	if pids := e.workers("LcSlowStart"); len(pids) != 0 {
		t.Errorf("a worker that is not ready yet is listed: %v", pids)
	}
	release()
	r := e.lcAwait(slow, "first request of LcSlowStart", 15*time.Second)
	if r.err != nil || r.code != 200 || !strings.Contains(r.body, "pool=LcSlowStart") {
		t.Fatalf("queued first request = %d %q %v, want 200 from LcSlowStart\n%s", r.code, r.body, r.err, e.log())
	}
	if r.took < 900*time.Millisecond {
		t.Errorf("the first request took %s although the worker needs 1 s to listen: it cannot have waited for it", r.took)
	}
	t.Logf("cold start with a 1 s start-up delay: %s", r.took)
}

// TestLifecycleAlwaysRunning: with startMode AlwaysRunning the workers run
// as soon as the host has started, before any request.
func TestLifecycleAlwaysRunning(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	e.addTestPool("LcAlways", "/", "/startMode:AlwaysRunning", "/processModel.maxProcesses:2")
	e.startHost()
	var pids []int
	waitFor(t, 10*time.Second, "two workers without a request", func() error {
		if pids = e.workers("LcAlways"); len(pids) != 2 {
			return fmt.Errorf("workers %v", pids)
		}
		return nil
	})
	for _, pid := range pids {
		if !alive(pid) {
			t.Errorf("listed worker %d is not alive", pid)
		}
	}
	if out := e.run("list", "request"); strings.TrimSpace(out) != "" {
		t.Errorf("requests seen although none was sent: %q", out)
	}
	if got := lcProcs("LcAlways", e.host.Process.Pid); len(got) != 2 {
		t.Errorf("host children of LcAlways: %v, want 2", got)
	}
	for _, r := range strings.Fields(e.run("list", "wp", "/apppool.name:LcAlways", "/text:requests")) {
		if r != "0" {
			t.Errorf("a worker served %s requests, want 0: it must have started without one", r)
		}
	}
	if evs := e.lcEvents("LcAlways"); lcFindEvent(evs, 9003, pids[0]) < 0 || lcFindEvent(evs, 9003, pids[1]) < 0 {
		t.Errorf("no worker-started events for %v: %+v", pids, evs)
	}
}

// TestLifecycleIdleTerminate: a worker idle for idleTimeout is stopped
// (event 5186), not before, and the next request starts a new one.
func TestLifecycleIdleTerminate(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	e.addTestPool("LcIdle", "/", "/processModel.idleTimeout:00:00:02")
	e.startHost()
	// Taken before the request: the worker's last activity is not earlier
	// than this, however late the test sees the answer.
	last := time.Now()
	pid := e.lcServe("/", "LcIdle")
	waitFor(t, 8*time.Second, "idle worker stopped", func() error {
		if alive(pid) {
			return fmt.Errorf("worker %d still alive", pid)
		}
		if pids := e.workers("LcIdle"); len(pids) != 0 {
			return fmt.Errorf("list wp still shows %v", pids)
		}
		return nil
	})
	if d := time.Since(last); d < 2*time.Second {
		t.Errorf("the worker was stopped %s after its last request was sent, before idleTimeout (2s)", d)
	}
	ev := e.lcWaitEvent("LcIdle", 5186, pid, 2*time.Second)
	t.Logf("idle stop: %s", ev.Reason)
	if got := lcProcs("LcIdle", e.host.Process.Pid); len(got) != 0 {
		t.Errorf("processes of LcIdle left after the idle stop: %v", got)
	}
	next := e.lcServe("/", "LcIdle")
	if next == pid {
		t.Fatalf("the request after the idle stop was served by pid %d, the stopped worker", pid)
	}
}

// TestLifecycleIdleSuspend: with idleTimeoutAction Suspend the idle worker
// is SIGSTOPped (state Suspended) and the next request resumes the same
// process.
func TestLifecycleIdleSuspend(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	e.addTestPool("LcSuspend", "/", "/processModel.idleTimeout:00:00:02", "/processModel.idleTimeoutAction:Suspend")
	e.startHost()
	last := time.Now() // before the request, as in TestLifecycleIdleTerminate
	pid := e.lcServe("/", "LcSuspend")
	waitFor(t, 8*time.Second, "idle worker suspended", func() error {
		if st := procState(pid); st != "T" {
			return fmt.Errorf("worker %d is in state %q, want T", pid, st)
		}
		return nil
	})
	if d := time.Since(last); d < 2*time.Second {
		t.Errorf("the worker was suspended %s after its last request was sent, before idleTimeout (2s)", d)
	}
	if out := strings.TrimSpace(e.run("list", "wp", strconv.Itoa(pid), "/text:state")); out != "Suspended" {
		t.Errorf("list wp %d state = %q, want Suspended", pid, out)
	}
	e.lcWaitEvent("LcSuspend", 9005, pid, 2*time.Second)
	// A short client timeout: a worker left stopped would hold the request.
	r := lcFetch(&http.Client{Timeout: 10 * time.Second}, e.url("/"))
	if r.err != nil || r.code != 200 || r.pid() != pid {
		t.Fatalf("the request after the suspend: %d %q %v, want 200 from the suspended worker %d resumed\n%s", r.code, r.body, r.err, pid, e.log())
	}
	t.Logf("request to a suspended worker answered in %s", r.took)
	if st := procState(pid); st == "T" || st == "" {
		t.Errorf("worker %d state %q after serving, want running (not T)", pid, st)
	}
	if out := strings.TrimSpace(e.run("list", "wp", strconv.Itoa(pid), "/text:state")); out != "Ready" {
		t.Errorf("list wp %d state = %q after the request, want Ready", pid, out)
	}
}

// TestLifecycleWebGarden: in a web garden of two workers each taking one
// request, concurrent requests go to different workers, a third waits in
// the queue, and a run of them is shared. Without a per-worker limit,
// least-busy dispatch still sends two concurrent requests to two workers.
func TestLifecycleWebGarden(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	e.addTestPool("LcGarden", "/", "/processModel.maxProcesses:2", "/processModel.maxConcurrentRequests:1")
	// LcSpread serves a site of its own (by host name), so that the worker
	// sees /sleep at the root.
	e.run("add", "apppool", "/name:LcSpread", "/processModel.command:"+e.testworker, "/processModel.pingPath:/health", "/processModel.maxProcesses:2")
	e.run("add", "site", "/name:LcSpread", fmt.Sprintf("/bindings:http/127.0.0.1:%d:spread.example", e.port), "/physicalPath:"+e.dir, "/applicationPool:LcSpread")
	e.startHost()
	workers := map[string][]int{}
	for _, p := range []struct{ pool, host string }{{"LcGarden", ""}, {"LcSpread", "spread.example"}} {
		if r := e.lcAwait(e.lcAsyncHost("/", p.host), "first request to "+p.pool, 15*time.Second); r.code != 200 || !strings.Contains(r.body, "pool="+p.pool) {
			t.Fatalf("GET / (Host %q) = %d %q %v, want 200 from %s\n%s", p.host, r.code, r.body, r.err, p.pool, e.log())
		}
		waitFor(t, 10*time.Second, "two workers of "+p.pool, func() error {
			pids := e.workers(p.pool)
			if len(pids) != 2 {
				return fmt.Errorf("workers %v", pids)
			}
			workers[p.pool] = pids
			return nil
		})
	}

	// Three concurrent requests, one per worker at most: two in flight on
	// two workers, the third queued. The workers are held (SIGSTOP) until
	// the test has seen that.
	release := e.hold(workers["LcGarden"]...)
	var three []<-chan lcResult
	for range 3 {
		three = append(three, e.lcAsync("/"))
	}
	var seen []string // the last non-empty listing, for the failure message
	waitFor(t, 5*time.Second, "two requests in flight on two workers and one queued", func() error {
		f := strings.Fields(e.run("list", "request", "/apppool.name:LcGarden", "/text:wp.name"))
		slices.Sort(f)
		if len(f) > 0 {
			seen = f
		}
		if len(f) != 3 || f[2] != "queued" || f[0] == f[1] || f[1] == "queued" {
			return fmt.Errorf("list request shows workers %v (last seen %v)", f, seen)
		}
		return nil
	})
	release()
	pids := map[int]bool{}
	for i, ch := range three {
		r := e.lcAwait(ch, fmt.Sprintf("concurrent request %d", i), 10*time.Second)
		if r.err != nil || r.code != 200 {
			t.Fatalf("concurrent request %d: %d %q %v, want 200\n%s", i, r.code, r.body, r.err, e.log())
		}
		pids[r.pid()] = true
	}
	if len(pids) != 2 {
		t.Fatalf("three concurrent requests were served by %v, want both workers", pids)
	}

	// A run of 10 concurrent requests: 2 in flight, 8 queued; every one is
	// served and both workers share them.
	const n = 10
	var chs []<-chan lcResult
	start := time.Now()
	for range n {
		chs = append(chs, e.lcAsync("/sleep?ms=150"))
	}
	count := map[int]int{}
	for i, ch := range chs {
		r := e.lcAwait(ch, fmt.Sprintf("request %d of the run", i), 20*time.Second)
		if r.err != nil || r.code != 200 {
			t.Fatalf("request %d of the run: %d %q %v\n%s", i, r.code, r.body, r.err, e.log())
		}
		count[r.pid()]++
	}
	t.Logf("run of %d concurrent requests in %s: per worker %v", n, time.Since(start), count)
	if len(count) != 2 {
		t.Fatalf("the run was served by %v, want both workers", count)
	}
	for pid, c := range count {
		if c < 3 {
			t.Errorf("worker %d served %d of %d concurrent requests, want them shared", pid, c, n)
		}
	}

	// No per-worker limit: either worker could take both requests, and
	// least-busy dispatch gives them one each. The workers are held until
	// both requests are in flight at once.
	release = e.hold(workers["LcSpread"]...)
	a, b := e.lcAsyncHost("/", "spread.example"), e.lcAsyncHost("/", "spread.example")
	waitFor(t, 5*time.Second, "two requests in flight on LcSpread", func() error {
		if f := strings.Fields(e.run("list", "request", "/apppool.name:LcSpread", "/text:wp.name")); len(f) != 2 || slices.Contains(f, "queued") {
			return fmt.Errorf("list request shows workers %v", f)
		}
		return nil
	})
	release()
	ra := e.lcAwait(a, "first concurrent request to LcSpread", 10*time.Second)
	rb := e.lcAwait(b, "second concurrent request to LcSpread", 10*time.Second)
	if ra.code != 200 || rb.code != 200 || !strings.Contains(ra.body, "pool=LcSpread") {
		t.Fatalf("concurrent requests: %d %q in %s / %d %q, want 200s from LcSpread\n%s", ra.code, ra.body, ra.took, rb.code, rb.body, e.log())
	}
	if ra.pid() == rb.pid() {
		t.Errorf("two concurrent requests to LcSpread were both served by pid %d (in %s and %s; workers %v), want the least busy worker for each\n%s", ra.pid(), ra.took, rb.took, e.workers("LcSpread"), e.log())
	}

	// Sequential requests: ties between idle workers go round-robin, so
	// both workers serve.
	seq := map[int]int{}
	for range 6 {
		seq[e.lcServe("/", "LcGarden")]++
	}
	t.Logf("6 sequential requests per worker: %v", seq)
	if len(seq) != 2 {
		t.Errorf("6 sequential requests went to %d worker(s) %v, want both (round-robin between idle workers)", len(seq), seq)
	}
}

// TestLifecycleQueueFull: with one worker of one request and a queue of
// 10, a burst of 30 requests gets exactly 1 on the worker + 10 queued (all
// 200 in the end) and 19 refused with 503, Retry-After and
// X-Poolctl-Reason: QueueFull. The worker is held (SIGSTOP) until the
// refusals have come, so that no slot frees during the burst however slow
// the machine is.
func TestLifecycleQueueFull(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	e.addTestPool("LcQueue", "/", "/queueLength:10", "/processModel.maxProcesses:1", "/processModel.maxConcurrentRequests:1")
	e.startHost()
	pid := e.lcServe("/", "LcQueue") // the worker runs before the burst
	release := e.hold(pid)

	const n = 30
	burst := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	defer burst.CloseIdleConnections()
	results := make([]lcResult, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	answered := 0
	gate := make(chan struct{})
	start := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			r := lcFetch(burst, e.url("/"))
			mu.Lock()
			results[i] = r
			answered++
			mu.Unlock()
		}()
	}
	close(gate)

	// While the worker is held the pool holds exactly one request on it
	// and 10 in the queue, and the other 19 have been answered.
	waitFor(t, 5*time.Second, "1 in flight + 10 queued, 19 answered", func() error {
		out := e.run("list", "request", "/apppool.name:LcQueue", "/text:wp.name")
		f := strings.Fields(out)
		queued := 0
		for _, s := range f {
			if s == "queued" {
				queued++
			}
		}
		mu.Lock()
		a := answered
		mu.Unlock()
		if len(f) != 11 || queued != 10 || a != n-11 {
			return fmt.Errorf("list request shows %q; %d answered", out, a)
		}
		return nil
	})
	releasedAt := time.Now()
	release()

	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(guard(40 * time.Second)):
		t.Fatalf("the burst did not finish\n%s", e.log())
	}
	var ok, full []lcResult
	for i, r := range results {
		switch {
		case r.err != nil:
			t.Errorf("request %d: %v", i, r.err)
		case r.code == 200:
			ok = append(ok, r)
			if r.at.Before(releasedAt) {
				t.Errorf("request %d: 200 at %s, before the held worker was released at %s", i, r.at.Sub(start), releasedAt.Sub(start))
			}
		case r.code == 503:
			full = append(full, r)
			if r.hdr.Get("Retry-After") == "" || r.hdr.Get("X-Poolctl-Reason") != "QueueFull" {
				t.Errorf("request %d: 503 with Retry-After=%q X-Poolctl-Reason=%q, want both (QueueFull)", i, r.hdr.Get("Retry-After"), r.hdr.Get("X-Poolctl-Reason"))
			}
		default:
			t.Errorf("request %d: %d %q, want 200 (accepted) or 503 (refused)", i, r.code, r.body)
		}
	}
	t.Logf("burst of %d: %d served, %d refused; refusals within %s", n, len(ok), len(full), lcMaxTook(full))
	if len(ok) != 11 || len(full) != n-11 {
		t.Fatalf("burst of %d with 1 worker slot and queueLength 10: %d × 200 and %d × 503, want 11 and %d\n%s", n, len(ok), len(full), n-11, e.log())
	}
}

// lcMaxTook returns the longest response time of rs.
func lcMaxTook(rs []lcResult) time.Duration {
	var d time.Duration
	for _, r := range rs {
		d = max(d, r.took)
	}
	return d
}

// TestLifecycleStartupFailure: a worker that exits at start is retried
// (with backoff) while the request waits, until rapid-fail protection
// disables the pool after rapidFailProtectionMaxCrashes (5) exits: the
// request gets 503 (AppOffline), from the exits, not after
// startupTimeLimit; one that never gets ready fails the request after
// startupTimeLimit with 503 (N/A) and event 5012, and is killed.
func TestLifecycleStartupFailure(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	e.addTestPool("LcCrashStart", "/crash", "/+environmentVariables.[name='TW_EXIT_AT_START',value='3']")
	e.addTestPool("LcHang", "/hang", "/+environmentVariables.[name='TW_READY_DELAY',value='30s']")
	e.run("set", "apppool", "LcHang", "/processModel.startupTimeLimit:00:00:02")
	e.startHost()

	start := time.Now()
	code, body, hdr := e.get("/crash/")
	took := time.Since(start)
	if code != 503 || hdr.Get("X-Poolctl-Reason") != "AppOffline" || hdr.Get("Retry-After") == "" {
		t.Fatalf("worker exiting at start: %d %q reason %q Retry-After %q, want 503 AppOffline (rapid-fail protection) with Retry-After\n%s", code, body, hdr.Get("X-Poolctl-Reason"), hdr.Get("Retry-After"), e.log())
	}
	t.Logf("worker exiting at start: 503 after %s: %s", took, strings.TrimSpace(body))
	e.lcWaitEvent("LcCrashStart", 5002, 0, 2*time.Second)
	// Every failed start counted: the pool was disabled (5002) at the
	// fifth exit (5009), and no exit came after it.
	evs := e.lcEvents("LcCrashStart")
	if i := lcFindEvent(evs, 5002, 0); i < 0 || hcCount(evs[:i], 5009) != 5 || hcCount(evs, 5009) != 5 {
		t.Errorf("want exactly 5 exits (5009), all before rapid-fail protection (5002):\n%+v", evs)
	}
	// From the exits (5009), not after startupTimeLimit (5012).
	if i := lcFindEvent(e.lcEvents("LcCrashStart"), 5012, 0); i >= 0 {
		t.Errorf("a start-up time-out (5012) for a worker that exits at start: the request waited for startupTimeLimit\n%+v", e.lcEvents("LcCrashStart"))
	}

	start = time.Now()
	code, body, hdr = e.get("/hang/")
	took = time.Since(start)
	if code != 503 || hdr.Get("X-Poolctl-Reason") != "N/A" {
		t.Fatalf("worker never ready: %d %q reason %q, want 503 N/A\n%s", code, body, hdr.Get("X-Poolctl-Reason"), e.log())
	}
	if took < 1900*time.Millisecond {
		t.Errorf("503 for a worker that never gets ready took %s, want not before startupTimeLimit (2s)", took)
	}
	t.Logf("worker never ready: 503 after %s", took)
	ev := e.lcWaitEvent("LcHang", 5012, 0, 2*time.Second)
	if ev.PID == 0 {
		t.Fatalf("event 5012 names no pid: %+v", ev)
	}
	if alive(ev.PID) {
		t.Errorf("the worker that never got ready (%d) is still alive", ev.PID)
	}
	if got := lcProcs("LcHang", e.host.Process.Pid); len(got) != 0 {
		t.Errorf("processes of LcHang left after the start-up timeout: %v", got)
	}
	if pids := e.workers("LcHang"); len(pids) != 0 {
		t.Errorf("list wp shows %v for LcHang", pids)
	}
}

// TestLifecycleNoOverlapRecycle: with disallowOverlappingRotation the old
// worker is gone before its replacement starts, and a request sent in
// between waits in the queue and gets 200 from the new worker.
func TestLifecycleNoOverlapRecycle(t *testing.T) {
	t.Parallel()
	const pool = "LcRotate"
	e := newHostEnv(t)
	e.addTestPool(pool, "/", "/recycling.disallowOverlappingRotation:true")
	e.startHost()
	old := e.lcServe("/", pool)
	hostPID := e.host.Process.Pid

	// Keep the old worker busy (held with SIGSTOP) so the recycle has to
	// drain it, until the test has seen the drain and the queued request.
	release := e.hold(old)
	busy := e.lcAsync("/")
	waitFor(t, 5*time.Second, "the slow request on the old worker", func() error {
		if out := strings.TrimSpace(e.run("list", "request", "/apppool.name:"+pool, "/text:wp.name")); out != strconv.Itoa(old) {
			return fmt.Errorf("list request shows %q", out)
		}
		return nil
	})

	// Sample the pool's processes while the recycle runs: never the old
	// worker and another one at the same time.
	stop := make(chan struct{})
	type sample struct {
		oldAlive bool
		others   []int
	}
	samples := make(chan []sample, 1)
	go func() {
		var got []sample
		deadline := time.After(guard(20 * time.Second))
		for {
			select {
			case <-stop:
				samples <- got
				return
			case <-deadline:
				samples <- got
				return
			case <-time.After(2 * time.Millisecond):
			}
			s := sample{oldAlive: alive(old)}
			for _, p := range lcProcs(pool, hostPID) {
				if p != old {
					s.others = append(s.others, p)
				}
			}
			got = append(got, s)
		}
	}()

	recycled := make(chan error, 1)
	var recycleOut string
	go func() {
		out, err := e.lcTool("recycle", "apppool", pool)
		recycleOut = out
		recycled <- err
	}()
	waitFor(t, 5*time.Second, "old worker draining", func() error {
		if st := strings.TrimSpace(e.run("list", "wp", strconv.Itoa(old), "/text:state")); st != "Draining" {
			return fmt.Errorf("old worker state %q", st)
		}
		return nil
	})
	during := e.lcAsync("/")
	waitFor(t, 5*time.Second, "the request sent during the recycle queued", func() error {
		out := strings.Fields(e.run("list", "request", "/apppool.name:"+pool, "/url:/", "/text:wp.name"))
		if !slices.Equal(out, []string{strconv.Itoa(old), "queued"}) && !slices.Equal(out, []string{"queued", strconv.Itoa(old)}) {
			return fmt.Errorf("list request /url:/ shows %q, want the held request on %d and one queued", out, old)
		}
		return nil
	})
	release()

	rb := e.lcAwait(busy, "the request on the old worker", 15*time.Second)
	if rb.code != 200 || rb.pid() != old {
		t.Errorf("the request in flight on the old worker: %d %q, want 200 from %d", rb.code, rb.body, old)
	}
	select {
	case err := <-recycled:
		if err != nil {
			t.Fatalf("recycle apppool: %v\n%s\n%s", err, recycleOut, e.log())
		}
	case <-time.After(guard(20 * time.Second)):
		t.Fatalf("recycle apppool did not return\n%s", e.log())
	}
	rd := e.lcAwait(during, "the request sent during the recycle", 15*time.Second)
	close(stop)
	got := <-samples
	nw := e.lcSingleWorker(pool, 5*time.Second)
	if nw == old {
		t.Fatalf("after the recycle the worker is still %d", old)
	}
	if rd.err != nil || rd.code != 200 || rd.pid() != nw {
		t.Fatalf("request sent during the recycle: %d %q %v, want 200 from the new worker %d\n%s", rd.code, rd.body, rd.err, nw, e.log())
	}
	overlap := 0
	for _, s := range got {
		if s.oldAlive && len(s.others) > 0 {
			overlap++
		}
	}
	// The samples are a second look; the order of the events below is
	// the check that holds however few of them a busy machine allowed.
	t.Logf("%d samples of the pool's processes during the recycle, %d with both workers", len(got), overlap)
	if len(got) == 0 {
		t.Fatalf("no sample taken during the recycle")
	}
	if overlap > 0 {
		t.Errorf("the old worker %d and a new one ran at the same time in %d samples", old, overlap)
	}
	evs := e.lcEvents(pool)
	stopped, started := lcFindEvent(evs, 9004, old), lcFindEvent(evs, 9003, nw)
	if lcFindEvent(evs, 5079, old) < 0 || stopped < 0 || started < 0 || stopped > started {
		t.Errorf("events: want 5079 and 9004 (stopped) for %d before 9003 (started) for %d: %+v", old, nw, evs)
	}
}

// TestLifecycleConfigChangeRecycle: a change to what workers read at start
// replaces the worker (event 5080); a live setting does not; nor does any
// change with disallowRotationOnConfigChange.
func TestLifecycleConfigChangeRecycle(t *testing.T) {
	t.Parallel()
	const pool = "LcConfig"
	e := newHostEnv(t)
	e.addTestPool(pool, "/")
	e.startHost()
	old := e.lcServe("/", pool)

	e.run("set", "apppool", pool, "/+environmentVariables.[name='X',value='1']")
	var nw int
	waitFor(t, 10*time.Second, "worker replaced after the environment change", func() error {
		pids := e.workers(pool)
		if len(pids) != 1 || pids[0] == old {
			return fmt.Errorf("workers %v (old %d)", pids, old)
		}
		nw = pids[0]
		return nil
	})
	e.lcWaitEvent(pool, 5080, old, 5*time.Second)
	if !lcEnviron(nw, "X=1") {
		t.Errorf("the new worker %d does not have X=1 in its environment", nw)
	}
	if got := e.lcServe("/", pool); got != nw {
		t.Fatalf("served by %d after the change, want the new worker %d", got, nw)
	}
	waitFor(t, 10*time.Second, "the old worker gone", func() error {
		if alive(old) {
			return fmt.Errorf("old worker %d alive", old)
		}
		return nil
	})

	count5080 := func() int {
		n := 0
		for _, ev := range e.lcEvents(pool) {
			if ev.ID == 5080 {
				n++
			}
		}
		return n
	}
	before := count5080()
	e.run("set", "apppool", pool, "/queueLength:2000")
	if pids := e.workers(pool); !slices.Equal(pids, []int{nw}) {
		t.Errorf("after the live setting queueLength: workers %v, want still [%d]", pids, nw)
	}
	if got := e.lcServe("/", pool); got != nw {
		t.Errorf("after the live setting queueLength: served by %d, want %d", got, nw)
	}

	e.run("set", "apppool", pool, "/recycling.disallowRotationOnConfigChange:true")
	e.run("set", "apppool", pool, "/environmentVariables.[name='X'].value:2")
	if pids := e.workers(pool); !slices.Equal(pids, []int{nw}) {
		t.Errorf("env change with disallowRotationOnConfigChange: workers %v, want still [%d]", pids, nw)
	}
	if got := e.lcServe("/", pool); got != nw {
		t.Errorf("env change with disallowRotationOnConfigChange: served by %d, want %d", got, nw)
	}
	if !lcEnviron(nw, "X=1") {
		t.Errorf("the running worker should keep its start-time environment X=1")
	}
	if n := count5080(); n != before {
		t.Errorf("%d new 5080 events after changes that must not recycle\n%+v", n-before, e.lcEvents(pool))
	}
}

// TestLifecycleListRequest: `list request` shows a request in flight with
// its worker, and filters by elapsed time.
func TestLifecycleListRequest(t *testing.T) {
	t.Parallel()
	const pool = "LcRequests"
	e := newHostEnv(t)
	e.addTestPool(pool, "/")
	e.startHost()
	pid := e.lcServe("/", pool)
	// The worker is held (SIGSTOP): the request stays in flight until the
	// test has looked at it.
	release := e.hold(pid)
	slow := e.lcAsync("/sleep?ms=20")
	waitFor(t, 5*time.Second, "the slow request listed with /elapsed:500", func() error {
		out := e.run("list", "request", "/elapsed:500", "/text:url")
		if strings.TrimSpace(out) != "/sleep?ms=20" {
			return fmt.Errorf("list request /elapsed:500 /text:url = %q", out)
		}
		return nil
	})
	if out := strings.TrimSpace(e.run("list", "request", "/apppool.name:"+pool, "/text:wp.name")); out != strconv.Itoa(pid) {
		t.Errorf("list request /apppool.name:%s /text:wp.name = %q, want the worker pid %d", pool, out, pid)
	}
	if out := e.run("list", "request", "/apppool.name:"+pool); !strings.Contains(out, "/sleep?ms=20") || !strings.Contains(out, strconv.Itoa(pid)) {
		t.Errorf("list request /apppool.name:%s = %q, want the URL and pid %d", pool, out, pid)
	}
	if out := e.run("list", "request", "/elapsed:60000"); strings.TrimSpace(out) != "" {
		t.Errorf("list request /elapsed:60000 = %q, want nothing", out)
	}
	release()
	r := e.lcAwait(slow, "the slow request", 10*time.Second)
	if r.code != 200 {
		t.Fatalf("slow request: %d %q %v", r.code, r.body, r.err)
	}
	if out := e.run("list", "request", "/apppool.name:"+pool); strings.TrimSpace(out) != "" {
		t.Errorf("list request after the request ended = %q, want nothing", out)
	}
}

// TestLifecycleTcpLevel: a stopped pool with loadBalancerCapabilities
// TcpLevel resets the connection instead of answering 503.
func TestLifecycleTcpLevel(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	e.addTestPool("LcTcp", "/", "/failure.loadBalancerCapabilities:TcpLevel")
	e.startHost()
	e.lcServe("/", "LcTcp")
	e.run("stop", "apppool", "LcTcp")
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	r := lcFetch(c, e.url("/"))
	if r.err == nil {
		t.Fatalf("stopped TcpLevel pool answered %d %q (reason %q), want the connection reset", r.code, r.body, r.hdr.Get("X-Poolctl-Reason"))
	}
	if !errors.Is(r.err, syscall.ECONNRESET) && !errors.Is(r.err, io.EOF) && !errors.Is(r.err, io.ErrUnexpectedEOF) {
		t.Errorf("error %v, want a connection reset or EOF", r.err)
	}
	t.Logf("TcpLevel refusal after %s: %v", r.took.Round(time.Millisecond), r.err)
}

// TestLifecycleGracefulShutdown: SIGTERM lets a request in flight finish
// with 200, then the host exits 0 and no worker survives it.
func TestLifecycleGracefulShutdown(t *testing.T) {
	t.Parallel()
	const pool = "LcShutdown"
	e := newHostEnv(t)
	e.addTestPool(pool, "/", "/processModel.maxProcesses:2", "/startMode:AlwaysRunning")
	e.startHost()
	var pids []int
	waitFor(t, 10*time.Second, "two workers", func() error {
		if pids = e.workers(pool); len(pids) != 2 {
			return fmt.Errorf("workers %v", pids)
		}
		return nil
	})
	// The workers are held (SIGSTOP) until the request is seen on one;
	// released, it sleeps 1.5 s there, and SIGTERM comes right away.
	release := e.hold(pids...)
	slow := e.lcAsync("/sleep?ms=1500")
	waitFor(t, 5*time.Second, "the slow request in flight", func() error {
		out := strings.TrimSpace(e.run("list", "request", "/apppool.name:"+pool, "/text:wp.name"))
		if out == "" || out == "queued" {
			return fmt.Errorf("list request shows %q", out)
		}
		return nil
	})
	release()
	start := time.Now()
	if err := e.host.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	r := e.lcAwait(slow, "the request in flight at SIGTERM", 15*time.Second)
	if r.err != nil || r.code != 200 {
		t.Fatalf("request in flight at SIGTERM: %d %q %v, want 200\n%s", r.code, r.body, r.err, e.log())
	}
	select {
	case err := <-e.hostDone:
		e.host = nil
		if err != nil {
			t.Fatalf("host exited with %v after SIGTERM, want 0\n%s", err, e.log())
		}
	case <-time.After(guard(15 * time.Second)):
		t.Fatalf("host did not exit after SIGTERM\n%s", e.log())
	}
	t.Logf("host exited %s after SIGTERM", time.Since(start))
	evs := e.lcEvents(pool)
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("worker %d survived the host", pid)
		}
		// Stopped by the host (SIGTERM, reaped), not merely killed by
		// the parent-death signal as the host went away.
		if lcFindEvent(evs, 9004, pid) < 0 {
			t.Errorf("no worker-stopped event (9004) for %d: the host did not stop it\n%+v", pid, evs)
		}
	}
	if lcFindEvent(evs, 9002, 0) < 0 {
		t.Errorf("no pool-stopped event (9002) for %s\n%+v", pool, evs)
	}
	if got := lcProcs(pool, 0); len(got) != 0 {
		t.Errorf("processes of %s survived the host: %v", pool, got)
	}
}

// TestLifecycleGardenRefill: when a web-garden worker has gone (killed)
// and a request has to wait because the remaining worker is busy, the pool
// starts a worker again up to maxProcesses instead of running on fewer
// workers for good.
func TestLifecycleGardenRefill(t *testing.T) {
	t.Parallel()
	const pool = "LcRefill"
	e := newHostEnv(t)
	e.addTestPool(pool, "/", "/processModel.maxProcesses:2", "/processModel.maxConcurrentRequests:1", "/processModel.idleTimeout:00:00:02")
	e.startHost()
	e.lcServe("/", pool)
	var two []int
	waitFor(t, 10*time.Second, "two workers", func() error {
		if two = e.workers(pool); len(two) != 2 {
			return fmt.Errorf("workers %v", two)
		}
		return nil
	})
	// Lose one worker: killed, with no request waiting, an OnDemand pool
	// does not replace it at once (event 5009), leaving the garden short.
	gone := two[0]
	if err := syscall.Kill(gone, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the killed worker out of the pool", func() error {
		if pids := e.workers(pool); len(pids) != 1 || pids[0] == gone {
			return fmt.Errorf("workers %v (killed %d)", pids, gone)
		}
		return nil
	})
	e.lcWaitEvent(pool, 5009, gone, 2*time.Second)

	// Two concurrent requests: the second cannot go to the remaining worker
	// (one request each), so the pool starts a second worker for it.
	a, b := e.lcAsync("/sleep?ms=1000"), e.lcAsync("/sleep?ms=1000")
	var seen string // the last non-empty request listing, for the failure message
	waitFor(t, 5*time.Second, "a second worker started for the waiting request", func() error {
		if pids := e.workers(pool); len(pids) != 2 {
			if reqs := strings.Join(strings.Fields(e.run("list", "request", "/apppool.name:"+pool, "/text:wp.name")), " "); reqs != "" {
				seen = reqs
			}
			return fmt.Errorf("workers %v; requests on workers seen last: %q", pids, seen)
		}
		return nil
	})
	ra := e.lcAwait(a, "first concurrent request", 10*time.Second)
	rb := e.lcAwait(b, "second concurrent request", 10*time.Second)
	if ra.code != 200 || rb.code != 200 || ra.pid() == rb.pid() {
		t.Fatalf("concurrent requests after the idle stop: %d %q / %d %q, want 200s from two workers\n%s", ra.code, ra.body, rb.code, rb.body, e.log())
	}
}
