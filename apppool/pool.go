package apppool

import (
	"container/list"
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/poolctl/poolctl/events"
	"github.com/poolctl/poolctl/hostapi"
)

// Pool is one application pool at run time. Its loop (run, supervisor.go)
// is the only goroutine that changes the pool's lifecycle; it never waits
// for a launch, a readiness check, a drain or a stop: those run in
// goroutines of their own and report back as events.
type Pool struct {
	name     string
	launcher Launcher
	events   *events.Recorder
	logger   *slog.Logger
	log      io.Writer // the pool's worker log

	actions chan func()
	kick    chan struct{}
	reconf  chan struct{} // new settings wait in next
	notes   chan note     // launches and stops report here (supervisor.go)
	exits   chan exitNote
	done    chan struct{}
	stopped chan struct{} // closed when the loop has ended
	closing sync.Once

	sup   supervisor    // the loop's own state (supervisor.go)
	fresh freshLoop     // how the loop runs each event on a fresh stack (freshstack.go)
	phase time.Duration // the pool's slot in each second for tick (tickphase.go)

	// launchFn replaces launch in tests of the loop; nil in production.
	launchFn func(ctx context.Context, s *Settings) (*Worker, error)

	mu        sync.Mutex // guards the fields below
	settings  Settings
	next      *Settings // handed over by Reconfigure, not yet applied
	state     State
	disabled  bool   // stopped by rapid-fail protection
	reason    string // why the pool is stopped
	active    []*Worker
	starting  int                  // launches in flight
	launching map[*Worker]struct{} // started processes not yet ready
	draining  map[*Worker]struct{} // out of dispatch, being stopped
	waiters   *list.List
	nextID    int
	served    uint64
	rr        int // round-robin offset of pick

	health healthState // pinging and rapid-fail protection (health.go, rapidfail.go)

	cpu cpuState // CPU limit accounting and cgroup (cpu.go)

	jail jailState // the workers' own cgroups (jail.go)

	trig triggerState // recycling triggers (triggers.go)

	stats *Stats // counters for metrics (stats.go)

	rest *restWatch // the manager's (rest.go); nil for a pool made alone
}

type exitNote struct {
	w        *Worker
	expected bool
}

// newPool creates a stopped pool and starts its loop.
func newPool(s Settings, l Launcher, rec *events.Recorder, logger *slog.Logger, logw io.Writer) *Pool {
	p := &Pool{
		name: s.Name, launcher: l, events: rec, logger: logger, log: logw,
		actions: make(chan func()), kick: make(chan struct{}, 1), reconf: make(chan struct{}, 1),
		notes: make(chan note), exits: make(chan exitNote),
		done: make(chan struct{}), stopped: make(chan struct{}),
		settings: s, state: Stopped, reason: "not started",
		launching: map[*Worker]struct{}{}, draining: map[*Worker]struct{}{}, waiters: newWaiters(),
		stats: newStats(), phase: tickPhaseOf(s.Name),
	}
	go p.run()
	return p
}

// Name returns the pool's name.
func (p *Pool) Name() string { return p.name }

// State returns the pool's state. It is cheap: it never samples /proc.
func (p *Pool) State() State {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state
}

// Settings returns a copy of the pool's latest settings: those handed to
// Reconfigure, even if the loop has not applied them yet.
func (p *Pool) Settings() Settings {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.next != nil {
		return *p.next
	}
	return p.settings
}

// do runs f on the loop and waits for it; f must not block. It fails if
// the pool was closed.
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
// starts its workers in the background. A pool still stopping is started
// once it has stopped.
func (p *Pool) Start(ctx context.Context) error {
	for {
		var wait <-chan struct{}
		err := p.do(ctx, func() error {
			p.mu.Lock()
			st := p.state
			p.mu.Unlock()
			switch st {
			case Started, Starting:
				return fmt.Errorf("apppool %q is already started: %w", p.name, hostapi.ErrAlreadyInState)
			case Stopping:
				wait = p.sup.stopWait()
				return nil
			}
			return p.start("pool started")
		})
		if err != nil || wait == nil {
			return err
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// start moves a stopped pool to Started. Called on the loop.
func (p *Pool) start(why string) error {
	p.mu.Lock()
	if err := p.move(Starting); err != nil {
		p.mu.Unlock()
		return fmt.Errorf("%w: %w", hostapi.ErrConflict, err)
	}
	_ = p.move(Started)
	p.disabled, p.reason = false, ""
	p.resetFailures() // rapidfail.go
	p.mu.Unlock()
	p.sup.begin()
	p.events.Record(events.Event{ID: events.PoolStarted, Pool: p.name, Reason: why})
	p.converge(time.Now()) // AlwaysRunning workers launch in the background
	return nil
}

// Stop stops the pool: new requests get 503 at once, queued ones too,
// requests in flight finish (up to shutdownTimeLimit), then every worker is
// stopped. It returns once the pool is Stopped or ctx ends; the stop goes
// on regardless. A second Stop while one runs waits for the same end.
func (p *Pool) Stop(ctx context.Context, reason string) error {
	var wait <-chan struct{}
	err := p.do(ctx, func() error {
		var err error
		wait, err = p.stop(reason, false)
		return err
	})
	if err != nil {
		return err
	}
	select {
	case <-wait:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops the pool for good (host shutdown or pool removed): requests
// in flight finish (up to shutdownTimeLimit), its workers are stopped and
// reaped, and its loop ends. It returns when that is done or ctx ends (the
// loop then ends anyway; workers still stopping are reaped by their own
// goroutines).
func (p *Pool) Close(ctx context.Context) {
	var wait <-chan struct{}
	_ = p.do(ctx, func() error {
		wait, _ = p.stop("the host is shutting down or the pool was removed", false)
		if wait == nil {
			wait = p.sup.stopWait()
		}
		return nil
	})
	if wait != nil {
		select {
		case <-wait:
		case <-ctx.Done():
		}
	}
	p.closing.Do(func() {
		p.jailClose()
		p.cpuClose()
		close(p.done)
	})
	<-p.stopped
}

// close is Close, for the callers that predate it.
func (p *Pool) close(ctx context.Context) { p.Close(ctx) }

// Reconfigure hands the pool new settings and returns at once; the loop
// applies them (reconfigure.go). Settings handed over before the loop got
// to them are replaced: the last ones win.
func (p *Pool) Reconfigure(s Settings) {
	p.mu.Lock()
	p.next = &s
	p.mu.Unlock()
	select {
	case p.reconf <- struct{}{}:
	default:
	}
}
