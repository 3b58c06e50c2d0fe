package apppool

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/poolctl/poolctl/events"
	"github.com/poolctl/poolctl/hostapi"
)

// The supervisor: the pool's loop and the events it reacts to.
//
// run is the only goroutine that changes the pool's lifecycle, and it never
// waits. Everything slow runs in a goroutine of its own and reports back:
//
//   - a launch (launchAsync → launch: start the process, wait until it is
//     ready) reports a launched note with the worker or the error;
//   - a drain and stop (retire → drainOne: wait for the worker's requests,
//     up to shutdownTimeLimit, SIGTERM, SIGKILL, reap) reports a stopped
//     note once the process is reaped; so does killHung;
//   - a worker's exit (watch) reports an exitNote, a health check (ping) a
//     pingResult;
//   - public calls (Start, Stop, Recycle, Close) run a short function on
//     the loop (do) and then wait, outside the loop, on a channel the loop
//     closes or answers when the work is done; Reconfigure hands over
//     settings and returns (reconfigure.go).
//
// After each event the loop converges: a started pool that should have
// workers (AlwaysRunning, or requests waiting) and has fewer than
// maxProcesses launches the missing ones, gated by an exponential backoff
// after failures (backoff.go); one with more than maxProcesses drains the
// newest extras. A recycle is a plan held in the loop's state (recycle.go)
// that advances one worker per event. Workers change state only through
// setWorkerState (workerstate.go), which refuses illegal moves.

// noteKind says what a note reports.
type noteKind uint8

const (
	noteLaunched noteKind = iota // a launch ended: w is ready, or err says why not
	noteStopped                  // w was stopped and reaped
)

// launchPurpose says why a worker was launched.
type launchPurpose uint8

const (
	launchFill    launchPurpose = iota // the pool has fewer workers than it should
	launchRecycle                      // the replacement of a recycle plan's current worker
)

// note is a report from a goroutine the loop started.
type note struct {
	kind    noteKind
	w       *Worker
	err     error
	purpose launchPurpose
	plan    int // the recycle plan a launchRecycle belongs to
}

// backoffResetAfter is how long a worker must have been ready for the
// launch backoff to start again from its first step.
const backoffResetAfter = 10 * time.Second

// supervisor is the loop's own state; only the loop touches it.
type supervisor struct {
	launchCtx      context.Context // cancelled when the pool stops: launches give up
	cancelLaunches context.CancelFunc
	fill           int // fill launches in flight
	backoff        backoff
	retryAt        time.Time   // no fill launch before this time
	retry          *time.Timer // kicks the loop at retryAt
	plan           *recyclePlan
	plans          int           // recycle plans made, for their ids
	stopDone       chan struct{} // closed when the pool reaches Stopped
	stopReason     string
	startAfterStop bool // autoStart was set while the pool stopped
}

// begin readies the supervisor for a started pool.
func (s *supervisor) begin() {
	if s.cancelLaunches != nil {
		s.cancelLaunches()
	}
	s.launchCtx, s.cancelLaunches = context.WithCancel(context.Background())
	s.backoff.reset()
	s.retryAt = time.Time{}
	s.stopDone = nil
}

// end cancels launches in flight and the retry timer.
func (s *supervisor) end() {
	if s.cancelLaunches != nil {
		s.cancelLaunches()
	}
	if s.retry != nil {
		s.retry.Stop()
		s.retry = nil
	}
	s.retryAt = time.Time{}
}

// stopWait returns a channel closed once the pool has stopped.
func (s *supervisor) stopWait() <-chan struct{} {
	if s.stopDone == nil {
		c := make(chan struct{})
		close(c)
		return c
	}
	return s.stopDone
}

// run is the loop.
func (p *Pool) run() {
	defer close(p.stopped)
	// The periodic checks tick only while the pool has workers, so a
	// hundred idle pools cost no wake-ups; and on the pool's slot of the
	// wall-clock second (tickphase.go), so that hundreds of pools with workers
	// wake the host a few times a second, not hundreds.
	var idle *time.Timer
	var idleC <-chan time.Time
	armed := false
	defer func() {
		if idle != nil {
			idle.Stop()
		}
		p.sup.end()
	}()
	for {
		// Each event is handled on a fresh stack (freshstack.go), so that
		// the loop, parked here most of its life, keeps the small stack of
		// this frame.
		ev := &p.fresh
		select {
		case ev.action = <-p.actions:
			p.onFresh(evAction)
		case <-p.kick:
			p.onFresh(evKick)
		case <-p.reconf:
			p.onFresh(evReconf)
		case ev.note = <-p.notes:
			p.onFresh(evNote)
		case ev.exit = <-p.exits:
			p.onFresh(evExit)
		case ev.ping = <-p.health.results:
			p.onFresh(evPing)
		case ev.now = <-idleC:
			armed = false
			p.onFresh(evTick)
		case <-p.done:
			return
		}
		p.mu.Lock()
		busy := len(p.active) > 0
		p.mu.Unlock()
		switch {
		case busy && !armed:
			d := time.Until(nextTick(time.Now(), p.phase))
			if idle == nil {
				idle = time.NewTimer(d)
				idleC = idle.C
			} else {
				idle.Reset(d)
			}
			armed = true
		case !busy && armed:
			idle.Stop()
			armed = false
		}
	}
}

// report hands a note to the loop; it is dropped once the pool is closed.
// Never called on the loop.
func (p *Pool) report(n note) {
	select {
	case p.notes <- n:
	case <-p.done:
	}
}

// launchAsync starts a launch in its own goroutine; it reports a
// launched note. p.mu must not be held.
func (p *Pool) launchAsync(purpose launchPurpose, plan int) {
	p.mu.Lock()
	s := p.settings
	p.starting++
	p.mu.Unlock()
	if purpose == launchFill {
		p.sup.fill++
	}
	ctx := p.sup.launchCtx
	if ctx == nil {
		ctx = context.Background()
	}
	launch := p.launch
	if p.launchFn != nil {
		launch = p.launchFn
	}
	p.rest.launchBegin() // the host is not at rest while a worker starts (rest.go)
	go func() {
		w, err := launch(ctx, &s)
		p.rest.launchEnd()
		p.report(note{kind: noteLaunched, w: w, err: err, purpose: purpose, plan: plan})
	}()
}

// retire takes the worker out of dispatch and drains and stops it in the
// background; a stopped note follows. Called with p.mu held.
func (p *Pool) retire(w *Worker, grace time.Duration) {
	drained := p.startDrain(w)
	go func() {
		p.drainOne(w, drained, grace)
		p.report(note{kind: noteStopped, w: w})
	}()
}

// drainOne gives the worker shutdownTimeLimit (grace) in all: it waits for
// its requests to finish, sends SIGTERM, and sends SIGKILL when the limit
// is reached (at once if draining used it all).
func (p *Pool) drainOne(w *Worker, drained <-chan struct{}, grace time.Duration) {
	deadline := time.Now().Add(grace)
	t := time.NewTimer(grace)
	select {
	case <-drained:
	case <-t.C:
	}
	t.Stop()
	p.stopWorker(w, max(time.Until(deadline), 0))
}

// onNote handles a report on the loop.
func (p *Pool) onNote(n note) {
	switch n.kind {
	case noteStopped:
		p.mu.Lock()
		delete(p.draining, n.w)
		p.mu.Unlock()
		p.planStopped(n.w) // recycle.go
	case noteLaunched:
		p.mu.Lock()
		p.starting--
		if n.w != nil {
			delete(p.launching, n.w)
		}
		p.mu.Unlock()
		if n.purpose == launchFill {
			p.sup.fill--
		}
		if n.purpose == launchRecycle && p.planLaunched(n) { // recycle.go
			break
		}
		if n.err != nil {
			p.launchFailed(n.err)
			break
		}
		p.mu.Lock()
		switch {
		case n.w.state == WorkerExited: // died at once; onExit counts it
		case p.state != Started:
			p.draining[n.w] = struct{}{}
			go func() {
				p.stopWorker(n.w, 0)
				p.report(note{kind: noteStopped, w: n.w})
			}()
		default:
			p.addActive(n.w)
		}
		p.mu.Unlock()
	}
	p.maybeStopped()
	p.converge(time.Now())
}

// launchFailed counts a failed launch for rapid-fail protection, delays
// the next one (backoff) and answers the requests that waited a whole
// startupTimeLimit for a worker. Called on the loop.
func (p *Pool) launchFailed(err error) {
	p.mu.Lock()
	started := p.state == Started
	p.mu.Unlock()
	if !started || errors.Is(err, context.Canceled) || errors.Is(err, ErrPoolDisabled) {
		return // the pool stopped, or is being disabled
	}
	now := time.Now()
	p.sup.retryAt = now.Add(p.sup.backoff.next())
	if errors.Is(err, errIdentity) {
		return // the pool is being disabled (identity.go): counted there
	}
	if p.noteFailure(err.Error()) { // rapidfail.go
		return
	}
	p.mu.Lock()
	if len(p.active) == 0 && p.starting == 0 {
		p.failStaleWaiters(now, p.settings.StartupTimeLimit, fmt.Errorf("%w: %v", ErrStartFailed, err))
	}
	p.mu.Unlock()
}

// converge launches the workers a started pool misses and drains the ones
// it has too many of. Called on the loop.
func (p *Pool) converge(now time.Time) {
	p.mu.Lock()
	if p.state != Started {
		p.mu.Unlock()
		return
	}
	limit := max(p.settings.MaxProcesses, 1)
	for len(p.active) > limit {
		// The newest extra worker drains: its requests finish.
		newest := p.active[0]
		for _, w := range p.active {
			if w.ID > newest.ID {
				newest = w
			}
		}
		p.retire(newest, p.settings.ShutdownTimeLimit)
	}
	want := 0
	if p.settings.AlwaysRunning || p.waiters.Len() > 0 {
		want = limit
	}
	if blocked := p.cpu.blockedUntil; now.Before(blocked) {
		want = 0 // cpu.action KillW3wp: nothing runs until the interval ends
		p.armRetry(now, blocked)
	}
	if p.health.tripping {
		want = 0 // rapid-fail protection is disabling the pool
	}
	missing := want - len(p.active) - p.sup.fill - p.planSlots()
	p.mu.Unlock()
	if missing <= 0 {
		return
	}
	if now.Before(p.sup.retryAt) {
		p.armRetry(now, p.sup.retryAt)
		return
	}
	for range missing {
		p.launchAsync(launchFill, 0)
	}
}

// armRetry makes the loop converge again at t.
func (p *Pool) armRetry(now, t time.Time) {
	if p.sup.retry != nil {
		p.sup.retry.Stop()
	}
	p.sup.retry = time.AfterFunc(t.Sub(now), p.kickStart)
}

// stop begins stopping the pool and returns a channel closed once it is
// Stopped: new and queued requests are refused at once, launches in
// flight are abandoned, each worker drains and stops in the background.
// A stop already under way is joined. Called on the loop.
func (p *Pool) stop(reason string, disable bool) (<-chan struct{}, error) {
	p.mu.Lock()
	switch p.state {
	case Stopped:
		p.mu.Unlock()
		return nil, fmt.Errorf("apppool %q is already stopped: %w", p.name, hostapi.ErrAlreadyInState)
	case Stopping:
		p.mu.Unlock()
		return p.sup.stopWait(), nil
	}
	if err := p.move(Stopping); err != nil {
		p.mu.Unlock()
		return nil, fmt.Errorf("%w: %w", hostapi.ErrConflict, err)
	}
	p.disabled, p.reason = disable, reason
	p.failWaiters(p.stoppedErr())
	grace := p.settings.ShutdownTimeLimit
	for _, w := range append([]*Worker{}, p.active...) {
		p.retire(w, grace)
	}
	p.mu.Unlock()
	p.sup.stopDone = make(chan struct{})
	p.sup.stopReason = reason
	p.sup.startAfterStop = false
	p.sup.end()
	p.abortPlan(errors.New("the pool stopped during the recycle")) // recycle.go
	wait := p.sup.stopDone
	p.maybeStopped()
	return wait, nil
}

// maybeStopped completes a stop once every worker is reaped and no launch
// is in flight. Called on the loop.
func (p *Pool) maybeStopped() {
	p.mu.Lock()
	if p.state != Stopping || len(p.active)+len(p.draining)+p.starting > 0 {
		p.mu.Unlock()
		return
	}
	_ = p.move(Stopped)
	p.mu.Unlock()
	p.events.Record(events.Event{ID: events.PoolStopped, Pool: p.name, Reason: "pool stopped: " + p.sup.stopReason})
	if p.sup.stopDone != nil {
		close(p.sup.stopDone)
	}
	if p.sup.startAfterStop {
		p.sup.startAfterStop = false
		_ = p.start("pool started (autoStart set)")
	}
}

// onExit handles a worker that ended: an unexpected exit is a crash (event
// 5009), counted for rapid-fail protection; the pool replaces it when
// requests wait or it must always run (converge).
func (p *Pool) onExit(n exitNote) {
	defer p.converge(time.Now())
	defer p.maybeStopped()
	if n.expected {
		return
	}
	st := n.w.proc.Exit()
	p.stats.crashed()
	what := fmt.Sprintf("worker %d ended unexpectedly (%s)", n.w.PID, st)
	p.events.Record(events.Event{ID: events.WorkerCrash, Pool: p.name, PID: n.w.PID, Worker: strconv.Itoa(n.w.ID), Reason: what})
	if time.Since(n.w.Started) < backoffResetAfter {
		// It crashed soon after it started: its replacement waits (a
		// worker that ran for a while is replaced at once).
		p.sup.retryAt = time.Now().Add(p.sup.backoff.next())
	}
	p.noteFailure(what) // rapid-fail protection may disable the pool (rapidfail.go)
}

// tick runs the pool's periodic checks on the loop, once a second while
// the pool has workers. Each check lives in its own file.
func (p *Pool) tick(now time.Time) {
	p.checkIdle(now)
	p.checkHealth(now) // after checkIdle: health.go
	p.checkCPU(now)
	p.checkTriggers(now)
	p.mu.Lock()
	for _, w := range p.active {
		if now.Sub(w.Started) >= backoffResetAfter {
			p.sup.backoff.reset() // a worker stayed up: start-up failures are over
			break
		}
	}
	p.mu.Unlock()
	p.converge(now)
}

// checkIdle stops (or suspends) workers that served nothing for idleTimeout.
func (p *Pool) checkIdle(now time.Time) {
	p.mu.Lock()
	pol := idlePolicyOf(&p.settings)
	if p.state != Started || !pol.on() {
		p.mu.Unlock()
		return
	}
	logged := processModelLogged(&p.settings, "IdleTimeout") // triggers.go
	var idle []*Worker
	grace := p.settings.ShutdownTimeLimit
	for _, w := range append([]*Worker{}, p.active...) {
		if !pol.due(w.state, w.inflight, w.lastUsed, now) {
			continue
		}
		if pol.suspend {
			if err := w.proc.Suspend(); err == nil && p.setWorkerState(w, WorkerSuspended) {
				p.recordIdle(logged, events.Event{ID: events.IdleSuspend, Pool: p.name, PID: w.PID, Worker: strconv.Itoa(w.ID),
					Reason: fmt.Sprintf("worker %d suspended after %s idle", w.PID, pol.limit)})
			}
			continue
		}
		idle = append(idle, w)
		p.retire(w, grace)
	}
	p.mu.Unlock()
	for _, w := range idle {
		p.recordIdle(logged, events.Event{ID: events.IdleShutdown, Pool: p.name, PID: w.PID, Worker: strconv.Itoa(w.ID),
			Reason: fmt.Sprintf("worker %d shut down after %s idle; the next request starts a new one", w.PID, pol.limit)})
	}
}

// recordIdle records an idle-timeout event (5186, 9005) when logged (the
// pool's processModel.logEventOnProcessModel has IdleTimeout), and logs it
// at debug level otherwise.
func (p *Pool) recordIdle(logged bool, e events.Event) {
	if !logged {
		p.logger.Debug(e.Reason+" (event not logged: the IdleTimeout flag of logEventOnProcessModel is clear)",
			"event", e.ID, "pool", p.name, "pid", e.PID, "worker", e.Worker)
		return
	}
	p.events.Record(e)
}
