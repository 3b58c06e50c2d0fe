package host

import (
	"context"
	"sync"
	"time"
)

// pipeline is the host's one reconcile queue. Every trigger (the tool's
// POST /v1/reconcile, the store file's watch, SIGHUP, the runtime verbs)
// enqueues a request; one goroutine (run) loads the store, plans, diffs and
// applies. Requests that arrive while an apply runs are all served by the
// next one, which starts loading after them: a burst of triggers costs at
// most two applies, and each caller learns the version of an apply that
// includes every store write it made before asking.
type pipeline struct {
	apply func(ctx context.Context) (version string, err error)

	wake chan struct{} // a request waits (capacity 1: requests coalesce)
	excl chan func()   // work run between applies (exclusive, runtime_verbs.go)

	mu         sync.Mutex
	next       *outcome // the apply the next request is served by
	queued     bool     // next has requests and has not started loading
	running    bool     // an apply runs
	applied    string   // store version of the last apply that loaded
	generation uint64   // applies that loaded the store
	started    time.Time
}

// outcome is the result of one apply, for every request it serves.
type outcome struct {
	done    chan struct{} // closed when the apply ended
	version string        // store version applied
	err     error         // the store did not load
	pending bool          // another apply was queued when it ended
}

func newPipeline(apply func(context.Context) (string, error)) *pipeline {
	return &pipeline{apply: apply, wake: make(chan struct{}, 1), excl: make(chan func()), next: &outcome{done: make(chan struct{})}, started: time.Now()}
}

// request enqueues a reconcile and returns the outcome that will serve it:
// that of the first apply that starts loading after now.
func (q *pipeline) request() *outcome {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.queued = true
	select {
	case q.wake <- struct{}{}:
	default: // one is signalled already: it serves this request too
	}
	return q.next
}

// wait waits for o or for ctx to end.
func (o *outcome) wait(ctx context.Context) error {
	select {
	case <-o.done:
		return o.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run serves requests until ctx ends, one apply at a time.
func (q *pipeline) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case f := <-q.excl:
			f()
			continue
		case <-q.wake:
		}
		q.mu.Lock()
		o := q.next
		q.next = &outcome{done: make(chan struct{})}
		q.queued, q.running = false, true
		select {
		case <-q.wake: // a request taken now, not a reason for another apply
		default:
		}
		q.mu.Unlock()

		version, err := q.apply(ctx)

		q.mu.Lock()
		q.running = false
		if err == nil {
			q.applied = version
			q.generation++
		}
		o.version, o.err, o.pending = q.applied, err, q.queued
		q.mu.Unlock()
		close(o.done)
	}
}

// pipelineStatus is a snapshot of the pipeline.
type pipelineStatus struct {
	applied    string
	generation uint64
	pending    bool // an apply runs or waits, or none has loaded yet
	started    time.Time
}

func (q *pipeline) status() pipelineStatus {
	q.mu.Lock()
	defer q.mu.Unlock()
	return pipelineStatus{applied: q.applied, generation: q.generation, pending: q.queued || q.running || q.generation == 0, started: q.started}
}

// exclusive runs fn on the pipeline's goroutine between two applies: no
// apply runs while fn does, and every apply after it loads the store after
// fn's writes. fn must not wait long (it holds every apply back). It
// returns ctx's error, fn not run, when ctx ends before fn could start.
func (q *pipeline) exclusive(ctx context.Context, fn func()) error {
	done := make(chan struct{})
	select {
	case q.excl <- func() { defer close(done); fn() }:
	case <-ctx.Done():
		return ctx.Err()
	}
	<-done
	return nil
}
