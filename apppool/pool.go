package apppool

import (
	"container/list"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/poolctl/poolctl/events"
	"github.com/poolctl/poolctl/hostapi"
)

// Pool is one application pool at run time.
type Pool struct {
	name     string
	launcher Launcher
	events   *events.Recorder
	logger   *slog.Logger
	log      io.Writer // the pool's worker log

	actions chan func()
	kick    chan struct{}
	exits   chan exitNote
	done    chan struct{}
	stopped chan struct{} // closed when the actor has ended

	mu       sync.Mutex // guards the fields below
	settings Settings
	state    State
	disabled bool   // stopped by rapid-fail protection
	reason   string // why the pool is stopped
	active   []*Worker
	starting int
	draining map[*Worker]struct{}
	waiters  *list.List
	nextID   int
	served   uint64
	rr       int // round-robin offset of pick

	health healthState // pinging and rapid-fail protection (health.go, rapidfail.go)

	cpu cpuState // CPU limit accounting and cgroup (cpu.go)

	jail jailState // the workers' own cgroups (jail.go)

	trig triggerState // recycling triggers (triggers.go)

	stats *Stats // counters for metrics (stats.go)
}

type exitNote struct {
	w        *Worker
	expected bool
}

// newPool creates a stopped pool and starts its actor.
func newPool(s Settings, l Launcher, rec *events.Recorder, logger *slog.Logger, logw io.Writer) *Pool {
	p := &Pool{
		name: s.Name, launcher: l, events: rec, logger: logger, log: logw,
		actions: make(chan func()), kick: make(chan struct{}, 1), exits: make(chan exitNote),
		done: make(chan struct{}), stopped: make(chan struct{}),
		settings: s, state: Stopped, reason: "not started", draining: map[*Worker]struct{}{}, waiters: newWaiters(),
		stats: newStats(),
	}
	go p.run()
	return p
}

// Name returns the pool's name.
func (p *Pool) Name() string { return p.name }

// run is the actor: the only goroutine that changes the pool's lifecycle.
func (p *Pool) run() {
	defer close(p.stopped)
	// The periodic checks tick only while the pool has workers, so a
	// hundred idle pools cost no wake-ups.
	var idle *time.Ticker
	var idleC <-chan time.Time
	defer func() {
		if idle != nil {
			idle.Stop()
		}
	}()
	for {
		select {
		case f := <-p.actions:
			f()
		case <-p.kick:
			p.demandStart()
		case n := <-p.exits:
			p.onExit(n)
		case r := <-p.health.results:
			p.onPing(r) // health.go
		case now := <-idleC:
			p.tick(now)
		case <-p.done:
			return
		}
		p.mu.Lock()
		busy := len(p.active) > 0
		p.mu.Unlock()
		switch {
		case busy && idle == nil:
			idle = time.NewTicker(time.Second)
			idleC = idle.C
		case !busy && idle != nil:
			idle.Stop()
			idle, idleC = nil, nil
		}
	}
}

// do runs f on the actor and waits for it; it fails if the pool was closed.
func (p *Pool) do(ctx context.Context, f func() error) error {
	errc := make(chan error, 1)
	select {
	case p.actions <- func() { errc <- f() }:
	case <-p.done:
		return fmt.Errorf("apppool %q was removed: %w", p.name, ErrNoPool)
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *Pool) kickStart() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// move changes the pool state through the state machine. Called with p.mu
// held.
func (p *Pool) move(to State) error {
	if !canMove(p.state, to) {
		return &TransitionError{Pool: p.name, From: p.state, To: to}
	}
	p.state = to
	return nil
}

// Start starts the pool: it takes requests again and, with AlwaysRunning,
// starts its workers now.
func (p *Pool) Start(ctx context.Context) error {
	return p.do(ctx, func() error {
		p.mu.Lock()
		if p.state == Started {
			p.mu.Unlock()
			return fmt.Errorf("apppool %q is already started: %w", p.name, hostapi.ErrAlreadyInState)
		}
		if err := p.move(Starting); err != nil {
			p.mu.Unlock()
			return fmt.Errorf("%w: %w", hostapi.ErrConflict, err)
		}
		_ = p.move(Started)
		p.disabled, p.reason = false, ""
		p.resetFailures() // rapidfail.go
		always := p.settings.AlwaysRunning
		p.mu.Unlock()
		p.events.Record(events.Event{ID: events.PoolStarted, Pool: p.name, Reason: "pool started"})
		if always {
			p.ensureWorkers()
		}
		return nil
	})
}

// Stop stops the pool: new requests get 503 at once, queued ones too,
// requests in flight finish (up to shutdownTimeLimit), then every worker is
// stopped.
func (p *Pool) Stop(ctx context.Context, reason string) error {
	return p.do(ctx, func() error { return p.stop(reason, false) })
}

func (p *Pool) stop(reason string, disable bool) error {
	p.mu.Lock()
	if p.state == Stopped {
		p.mu.Unlock()
		return fmt.Errorf("apppool %q is already stopped: %w", p.name, hostapi.ErrAlreadyInState)
	}
	if err := p.move(Stopping); err != nil {
		p.mu.Unlock()
		return fmt.Errorf("%w: %w", hostapi.ErrConflict, err)
	}
	p.disabled, p.reason = disable, reason
	p.failWaiters(p.stoppedErr())
	workers := append([]*Worker{}, p.active...)
	drains := make([]<-chan struct{}, len(workers))
	for i, w := range workers {
		drains[i] = p.startDrain(w)
	}
	grace := p.settings.ShutdownTimeLimit
	p.mu.Unlock()
	p.drainAndStop(workers, drains, grace)
	p.mu.Lock()
	_ = p.move(Stopped)
	p.mu.Unlock()
	p.events.Record(events.Event{ID: events.PoolStopped, Pool: p.name, Reason: "pool stopped: " + reason})
	return nil
}

// drainAndStop waits for each worker's requests to finish (up to grace),
// then stops them, all in parallel.
func (p *Pool) drainAndStop(ws []*Worker, drains []<-chan struct{}, grace time.Duration) {
	var wg sync.WaitGroup
	for i, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.drainOne(w, drains[i], grace)
		}()
	}
	wg.Wait()
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
	p.mu.Lock()
	delete(p.draining, w)
	p.mu.Unlock()
}

// demandStart starts workers for queued requests when fewer than
// maxProcesses serve (none yet, or some went idle or crashed).
func (p *Pool) demandStart() {
	p.mu.Lock()
	need := p.state == Started && len(p.active)+p.starting < p.settings.MaxProcesses && p.waiters.Len() > 0
	p.mu.Unlock()
	if need {
		p.ensureWorkers()
	}
}

// ensureWorkers starts workers until maxProcesses serve, in parallel; each
// joins dispatch as soon as it is ready. If none can start, queued requests
// are answered with ErrStartFailed.
func (p *Pool) ensureWorkers() {
	p.mu.Lock()
	s := p.settings
	missing := s.MaxProcesses - len(p.active) - p.starting
	p.starting += max(missing, 0)
	p.mu.Unlock()
	if missing <= 0 {
		return
	}
	var wg sync.WaitGroup
	errs := make([]error, missing)
	for i := range missing {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w, err := p.launch(context.Background(), &s)
			p.mu.Lock()
			p.starting--
			switch {
			case err != nil:
				errs[i] = err
			case p.state != Started:
				p.mu.Unlock()
				p.stopWorker(w, s.ShutdownTimeLimit)
				return
			default:
				p.addActive(w)
			}
			p.mu.Unlock()
		}()
	}
	wg.Wait()
	p.mu.Lock()
	if len(p.active) == 0 && p.starting == 0 {
		err := fmt.Errorf("%w: %v", ErrStartFailed, firstErr(errs))
		p.failWaiters(err)
	}
	p.mu.Unlock()
}

func firstErr(errs []error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// onExit handles a worker that ended: an unexpected exit is a crash (event
// 5009); the pool replaces it when requests wait or it must always run.
func (p *Pool) onExit(n exitNote) {
	p.mu.Lock()
	delete(p.draining, n.w)
	need := p.state == Started && (p.settings.AlwaysRunning || p.waiters.Len() > 0)
	p.mu.Unlock()
	if n.expected {
		return
	}
	st := n.w.proc.Exit()
	p.stats.crashed()
	p.events.Record(events.Event{ID: events.WorkerCrash, Pool: p.name, PID: n.w.PID, Worker: strconv.Itoa(n.w.ID),
		Reason: fmt.Sprintf("worker %d ended unexpectedly (%s)", n.w.PID, st)})
	if p.noteFailure(fmt.Sprintf("worker %d ended unexpectedly (%s)", n.w.PID, st)) {
		return // rapid-fail protection disables the pool (rapidfail.go)
	}
	if need {
		p.ensureWorkers()
	}
}

// tick runs the pool's periodic checks on the actor, once a second while
// the pool has workers. Each check lives in its own file.
func (p *Pool) tick(now time.Time) {
	p.checkIdle()
	p.checkHealth(now) // after checkIdle: health.go
	p.checkCPU(now)
	p.checkTriggers(now)
	_ = now
}

// checkIdle stops (or suspends) workers that served nothing for idleTimeout.
func (p *Pool) checkIdle() {
	p.mu.Lock()
	limit := p.settings.IdleTimeout
	if limit <= 0 || p.state != Started || p.settings.AlwaysRunning && !p.settings.IdleSuspend {
		p.mu.Unlock()
		return
	}
	now := time.Now()
	logged := processModelLogged(&p.settings, "IdleTimeout") // triggers.go
	var idle []*Worker
	var drains []<-chan struct{}
	for _, w := range append([]*Worker{}, p.active...) {
		if w.inflight > 0 || w.state != WorkerReady || now.Sub(w.lastUsed) < limit {
			continue
		}
		if p.settings.IdleSuspend {
			if err := w.proc.Suspend(); err == nil {
				w.state = WorkerSuspended
				p.recordIdle(logged, events.Event{ID: events.IdleSuspend, Pool: p.name, PID: w.PID, Worker: strconv.Itoa(w.ID),
					Reason: fmt.Sprintf("worker %d suspended after %s idle", w.PID, limit)})
			}
			continue
		}
		idle = append(idle, w)
		drains = append(drains, p.startDrain(w))
	}
	grace := p.settings.ShutdownTimeLimit
	p.mu.Unlock()
	for _, w := range idle {
		p.recordIdle(logged, events.Event{ID: events.IdleShutdown, Pool: p.name, PID: w.PID, Worker: strconv.Itoa(w.ID),
			Reason: fmt.Sprintf("worker %d shut down after %s idle; the next request starts a new one", w.PID, limit)})
	}
	if len(idle) > 0 {
		go p.drainAndStop(idle, drains, grace)
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

// close stops the pool for good (host shutdown or pool removed) and ends
// its actor.
func (p *Pool) close(ctx context.Context) {
	_ = p.do(ctx, func() error {
		err := p.stop("the host is shutting down or the pool was removed", false)
		if err != nil && p.isStopped() {
			err = nil
		}
		return err
	})
	p.waitDraining(ctx)
	p.jailClose()
	p.cpuClose()
	close(p.done)
	<-p.stopped
}

func (p *Pool) isStopped() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state == Stopped
}

// waitDraining waits for workers still being stopped in the background
// (idle or recycled ones) to be reaped.
func (p *Pool) waitDraining(ctx context.Context) {
	for {
		p.mu.Lock()
		var w *Worker
		for x := range p.draining {
			w = x
			break
		}
		p.mu.Unlock()
		if w == nil {
			return
		}
		select {
		case <-w.proc.Done():
			p.mu.Lock()
			delete(p.draining, w)
			p.mu.Unlock()
		case <-ctx.Done():
			return
		}
	}
}
