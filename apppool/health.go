package apppool

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/poolctl/poolctl/events"
	"github.com/poolctl/poolctl/store"
)

// Health checks (processModel.pingingEnabled, pingInterval,
// pingResponseTime) and orphaning (failure.orphanWorkerProcess,
// orphanActionExe, orphanActionParams).
//
// Every second while the pool has workers, tick calls checkHealth on the
// actor. It starts one check (proc.Check: GET pingPath answering 2xx/3xx;
// without a pingPath GET / where any reply counts, so that a hung or
// stopped worker fails it; with pingPath "tcp:" only a TCP connect)
// on its own goroutine for each Ready worker whose last check started at
// least pingInterval ago and has none in flight; a Suspended worker is
// exempt. The check is bounded by pingResponseTime and its result comes
// back to the loop on healthState.results, which the run loop selects on,
// so a hung worker never blocks the loop. A failed check makes the worker
// hung (onPing): event 5010, the worker leaves dispatch at once, a
// replacement is started (overlapped: the hung worker still exists while
// it starts), then the hung worker is killed with SIGKILL to its process
// group, or orphaned. The failure counts toward rapid-fail protection
// (rapidfail.go).

// healthState is the pool's pinging and rapid-fail bookkeeping. results
// and pings belong to the loop; the rest is guarded by Pool.mu.
type healthState struct {
	results chan pingResult     // finished checks, to the loop; made on first use
	pings   map[*Worker]*pingOf // per worker: when its last check started

	failures []failure // recent worker failures, oldest first (Pool.mu)
	tripping bool      // rapid-fail reached; the pool is being disabled (Pool.mu)
}

// pingOf is the check state of one worker.
type pingOf struct {
	last     time.Time // when the last check started
	inflight bool
	void     bool // the worker was suspended during the check: ignore it
}

// pingResult is one finished check.
type pingResult struct {
	w    *Worker
	err  error
	took time.Duration
}

// actionTimeLimit bounds orphanActionExe and autoShutdownExe: a program
// still running after it is killed with its process group.
const actionTimeLimit = 5 * time.Minute

// tickSlack lets a check that falls due up to half a tick early start on
// this tick, so that a pingInterval of one second pings on every tick.
const tickSlack = 500 * time.Millisecond

// checkHealth starts the health checks that are due. Called by tick on the
// actor.
func (p *Pool) checkHealth(now time.Time) {
	h := &p.health
	if h.results == nil {
		h.results = make(chan pingResult, 16)
		h.pings = map[*Worker]*pingOf{}
	}
	p.mu.Lock()
	pol := pingPolicyOf(&p.settings)
	pol.enabled = pol.enabled && p.state == Started
	limit := pol.limit
	path := p.settings.PingPath
	seen := make(map[*Worker]bool, len(p.active))
	var due []*Worker
	for _, w := range p.active {
		seen[w] = true
		st := h.pings[w]
		if st == nil {
			// Its start-up check passed: the first ping is one
			// interval after it started.
			st = &pingOf{last: w.Started}
			h.pings[w] = st
		}
		if w.state != WorkerReady {
			// checkIdle may have just suspended it: a check in flight
			// would time out on a stopped process.
			st.void = st.void || st.inflight
			continue
		}
		if !pol.due(st.last, st.inflight, now) {
			continue
		}
		st.last, st.inflight, st.void = now, true, false
		due = append(due, w)
	}
	p.mu.Unlock()
	for w, st := range h.pings {
		if !seen[w] && !st.inflight {
			delete(h.pings, w)
		}
	}
	for _, w := range due {
		go p.ping(h.results, w, path, limit)
	}
}

// ping runs one check of w and hands the result to the loop.
func (p *Pool) ping(results chan<- pingResult, w *Worker, path string, limit time.Duration) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	err := w.check(ctx, path) // listen.go
	cancel()
	select {
	case results <- pingResult{w: w, err: err, took: time.Since(start)}:
	case <-p.done:
	}
}

// onPing handles a finished check on the loop: a failed check of a worker
// still serving makes it hung.
func (p *Pool) onPing(r pingResult) {
	void := false
	if st := p.health.pings[r.w]; st != nil {
		st.inflight = false
		void, st.void = st.void, false
	}
	if r.err == nil || void {
		return
	}
	p.mu.Lock()
	f := p.settings.Resolved.Failure
	if f == nil {
		f = &store.Failure{}
	}
	orphan := f.OrphanWorkerProcess != nil && *f.OrphanWorkerProcess
	// A worker that left dispatch meanwhile (drained, suspended, exited)
	// is not hung; nor is one whose process has just ended: its exit is a
	// crash, handled (and counted) by onExit.
	if r.w.state != WorkerReady || p.state != Started || r.w.proc.Signal(0) != nil || !p.removeActive(r.w) {
		p.mu.Unlock()
		return
	}
	p.setWorkerState(r.w, WorkerHung) // its exit is expected from now on
	r.w.hung = true
	if orphan {
		p.setWorkerState(r.w, WorkerOrphaned)
	} else {
		p.draining[r.w] = struct{}{}
	}
	p.mu.Unlock()
	delete(p.health.pings, r.w)

	w := r.w
	what := fmt.Sprintf("worker %d did not answer its health check (%s)", w.PID, trimErr(r.err))
	p.stats.recycled(events.PingFailure) // replaced like a recycle
	p.events.Record(events.Event{ID: events.PingFailure, Pool: p.name, PID: w.PID, Worker: strconv.Itoa(w.ID),
		Reason: fmt.Sprintf("%s after %s; it is replaced and %s", what, r.took.Round(time.Millisecond), map[bool]string{true: "orphaned", false: "killed"}[orphan])})
	tripped := p.noteFailure(what)
	if !tripped {
		p.launchAsync(launchFill, 0) // the overlapping replacement
	}
	if orphan {
		p.orphan(w, f)
		return
	}
	go p.killHung(w)
}

// killHung kills a hung worker's process group at once and waits for it to
// be reaped; its requests in flight fail.
func (p *Pool) killHung(w *Worker) {
	defer p.report(note{kind: noteStopped, w: w})
	p.mu.Lock()
	p.setWorkerState(w, WorkerStopping)
	p.mu.Unlock()
	_, err := w.proc.Stop(context.Background(), 0)
	p.jailDone(w.PID)
	w.target.Close()
	if err != nil {
		p.logger.Error("kill hung worker", "pool", p.name, "pid", w.PID, "err", err)
		return
	}
	p.events.Record(events.Event{ID: events.WorkerStopped, Pool: p.name, PID: w.PID, Worker: strconv.Itoa(w.ID),
		Reason: fmt.Sprintf("hung worker %d killed (SIGKILL to its process group)", w.PID)})
}

// orphan leaves a hung worker running, out of dispatch and unsupervised,
// and runs failure.orphanActionExe with orphanActionParams (%1% = pid).
func (p *Pool) orphan(w *Worker, f *store.Failure) {
	p.logger.Warn("hung worker orphaned: it keeps running until it is killed by hand or the host exits",
		"pool", p.name, "pid", w.PID)
	w.target.Close()
	if f.OrphanActionExe == nil || *f.OrphanActionExe == "" {
		return
	}
	params := ""
	if f.OrphanActionParams != nil {
		params = *f.OrphanActionParams
	}
	pid := strconv.Itoa(w.PID)
	go p.runAction("orphanActionExe", *f.OrphanActionExe, params, strings.NewReplacer("%1%", pid),
		[]string{"POOLCTL_APPPOOL=" + p.name, "POOLCTL_PID=" + pid})
}

// runAction runs an administrator's program (orphanActionExe,
// autoShutdownExe) as the host's user, with params split like a shell and
// each argument's placeholders replaced, in its own process group, its
// output into the pool's log, killed after actionTimeLimit.
func (p *Pool) runAction(what, exe, params string, repl *strings.Replacer, env []string) {
	fail := func(err error) {
		p.logger.Error("run "+what, "pool", p.name, "exe", exe, "err", err)
		fmt.Fprintf(p.log, "poolctl: %s %s failed: %v\n", what, exe, err)
	}
	args, err := store.SplitCommand(params)
	if err != nil {
		fail(fmt.Errorf("split its parameters: %w", err))
		return
	}
	for i := range args {
		args[i] = repl.Replace(args[i])
	}
	ctx, cancel := context.WithTimeout(context.Background(), actionTimeLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = append(append([]string{}, p.launcher.BaseEnv...), env...)
	cmd.Stdout, cmd.Stderr = p.log, p.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	start := time.Now()
	if err := cmd.Run(); err != nil {
		fail(fmt.Errorf("after %s: %w", time.Since(start).Round(time.Millisecond), err))
		return
	}
	p.logger.Info("ran "+what, "pool", p.name, "exe", exe, "args", args, "took", time.Since(start).Round(time.Millisecond))
}

// trimErr shortens a check's error for an event.
func trimErr(err error) string {
	s := err.Error()
	if errors.Is(err, context.DeadlineExceeded) {
		s = "no answer within pingResponseTime"
	}
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}
