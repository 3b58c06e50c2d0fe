package apppool

import (
	"container/list"
	"context"
	"time"
)

// Request is one request in the pool, queued or being served; `list
// request` shows them.
type Request struct {
	ID     uint64
	Method string
	URL    string
	Client string
	Site   string
	Start  time.Time
	worker *Worker // set when a worker serves it, under Pool.mu
}

// waiter is a queued request waiting for a worker.
type waiter struct {
	req   *Request
	ch    chan acquired // receives once: a worker or an error
	since time.Time     // when it was queued
}

type acquired struct {
	w   *Worker
	err error
}

// Acquire returns a ready worker for the request, waiting in the pool's
// queue if every worker is busy or none runs yet (which starts one). It
// fails at once when the queue is full or the pool is not started. Every
// successful Acquire must be followed by Release.
func (p *Pool) Acquire(ctx context.Context, req *Request) (*Worker, error) {
	p.rest.touch() // a request: the host is not at rest (rest.go)
	p.mu.Lock()
	if p.state != Started {
		err := p.stoppedErr()
		p.mu.Unlock()
		return nil, err
	}
	if err := p.cpuBlocked(time.Now()); err != nil {
		p.mu.Unlock()
		return nil, err
	}
	if w := p.pick(); w != nil {
		p.assign(w, req)
		p.mu.Unlock()
		return w, nil
	}
	if p.waiters.Len() >= p.settings.QueueLength {
		p.mu.Unlock()
		return nil, ErrQueueFull
	}
	wt := &waiter{req: req, ch: make(chan acquired, 1), since: time.Now()}
	elem := p.waiters.PushBack(wt)
	p.mu.Unlock()
	p.kickStart()
	select {
	case a := <-wt.ch:
		return a.w, a.err
	case <-ctx.Done():
		p.mu.Lock()
		select {
		case a := <-wt.ch: // handed a worker just now: give it back
			p.mu.Unlock()
			if a.w != nil {
				p.Release(a.w, req)
			}
		default:
			p.waiters.Remove(elem)
			p.mu.Unlock()
		}
		return nil, ctx.Err()
	}
}

// Release returns a worker after a request, handing it to the next queued
// request if it has room.
func (p *Pool) Release(w *Worker, req *Request) {
	p.rest.touch() // rest.go
	now := time.Now()
	p.mu.Lock()
	w.inflight--
	w.served++
	p.noteServedLocked(w) // periodicRestart.requests (triggers.go)
	w.lastUsed = now
	delete(w.reqs, req)
	p.served++
	if w.state == WorkerDraining {
		if w.inflight == 0 && w.drained != nil {
			close(w.drained)
			w.drained = nil
		}
	} else {
		p.serveWaiters()
	}
	p.mu.Unlock()
}

// pick returns the least busy ready worker with room, resuming it if it is
// suspended, or nil. Called with p.mu held.
func (p *Pool) pick() *Worker {
	var best *Worker
	// Start the scan one worker further each time, so ties (idle workers)
	// go round-robin, as WAS spreads a web garden's requests.
	n := len(p.active)
	p.rr++
	for i := range n {
		w := p.active[(p.rr+i)%n]
		if p.spentLocked(w) { // reached periodicRestart.requests: being replaced
			continue
		}
		if p.settings.MaxConcurrent > 0 && w.inflight >= p.settings.MaxConcurrent {
			continue
		}
		if best == nil || w.inflight < best.inflight {
			best = w
		}
	}
	if best != nil && best.state == WorkerSuspended {
		if err := best.proc.Resume(); err == nil {
			p.setWorkerState(best, WorkerReady)
		}
	}
	return best
}

// assign books the request on the worker. Called with p.mu held.
func (p *Pool) assign(w *Worker, req *Request) {
	w.inflight++
	w.reqs[req] = struct{}{}
	req.worker = w
}

// serveWaiters hands queued requests to workers with room. Called with
// p.mu held.
func (p *Pool) serveWaiters() {
	for p.waiters.Len() > 0 {
		w := p.pick()
		if w == nil {
			return
		}
		wt := p.waiters.Remove(p.waiters.Front()).(*waiter)
		p.assign(w, wt.req)
		wt.ch <- acquired{w: w}
	}
}

// failStaleWaiters answers the queued requests that have waited at least
// limit with err; the others keep waiting for a worker. Called with p.mu
// held.
func (p *Pool) failStaleWaiters(now time.Time, limit time.Duration, err error) {
	for e := p.waiters.Front(); e != nil; {
		next := e.Next()
		if wt := e.Value.(*waiter); now.Sub(wt.since) >= limit {
			p.waiters.Remove(e)
			wt.ch <- acquired{err: err}
		}
		e = next
	}
}

// failWaiters answers every queued request with err. Called with p.mu held.
func (p *Pool) failWaiters(err error) {
	for p.waiters.Len() > 0 {
		wt := p.waiters.Remove(p.waiters.Front()).(*waiter)
		wt.ch <- acquired{err: err}
	}
}

// addActive puts a ready worker into dispatch and serves the queue.
// Called with p.mu held.
func (p *Pool) addActive(w *Worker) {
	if !p.setWorkerState(w, WorkerReady) {
		return
	}
	p.active = append(p.active, w)
	p.serveWaiters()
}

// removeActive takes a worker out of dispatch. Called with p.mu held.
func (p *Pool) removeActive(w *Worker) bool {
	for i, x := range p.active {
		if x == w {
			p.active = append(p.active[:i], p.active[i+1:]...)
			return true
		}
	}
	return false
}

// startDrain takes a worker out of dispatch and returns a channel closed
// once nothing is in flight on it. Called with p.mu held.
func (p *Pool) startDrain(w *Worker) <-chan struct{} {
	p.removeActive(w)
	if w.state.Alive() {
		p.setWorkerState(w, WorkerDraining)
	}
	ch := make(chan struct{})
	if w.inflight == 0 || w.state == WorkerExited {
		close(ch)
	} else {
		w.drained = ch
	}
	p.draining[w] = struct{}{}
	return ch
}

func (p *Pool) stoppedErr() error {
	if p.disabled {
		return ErrPoolDisabled
	}
	return ErrPoolStopped
}

// newWaiters returns an empty queue.
func newWaiters() *list.List { return list.New() }

// Discard takes a worker that refused a connection out of dispatch and
// stops it in the background; its exit is handled as usual. The front then
// retries the request, which nothing has reached yet, on another worker.
func (p *Pool) Discard(w *Worker, why string) {
	p.mu.Lock()
	if !p.removeActive(w) {
		p.mu.Unlock()
		return
	}
	p.retire(w, p.settings.ShutdownTimeLimit) // the loop replaces it as needed
	p.mu.Unlock()
	p.logger.Warn("worker refused a connection; replacing it", "pool", p.name, "pid", w.PID, "err", why)
	p.kickStart()
}
