package apppool

import (
	"context"
	"fmt"

	"github.com/poolctl/poolctl/events"
	"github.com/poolctl/poolctl/hostapi"
)

// RecycleResult lists the workers a recycle replaced and their replacements.
type RecycleResult struct {
	Old, New []int
}

// Recycle replaces every worker of the pool, one at a time. By default the
// replacement starts first and takes new requests once healthy, and the old
// worker finishes what it holds before it is stopped, so no request is lost.
// With disallowOverlappingRotation the old worker is drained and stopped
// first while requests wait in the queue. If a replacement cannot start,
// the old worker keeps serving and the error says why. eventID is the
// reason (events.RecycleOnDemand, RecycleConfigChange ...). It returns when
// the switch is done; old workers finish draining in the background.
func (p *Pool) Recycle(ctx context.Context, eventID int, reason string) (RecycleResult, error) {
	var res RecycleResult
	err := p.do(ctx, func() error {
		var err error
		res, err = p.recycle(eventID, reason)
		return err
	})
	return res, err
}

func (p *Pool) recycle(eventID int, reason string) (RecycleResult, error) {
	var res RecycleResult
	p.mu.Lock()
	if p.state != Started {
		p.mu.Unlock()
		return res, fmt.Errorf("%w: apppool %q is %s; start it first", hostapi.ErrConflict, p.name, p.state)
	}
	olds := append([]*Worker{}, p.active...)
	s := p.settings
	p.mu.Unlock()
	for _, old := range olds {
		nw, err := p.recycleWorker(old, &s, eventID, reason)
		if err != nil {
			return res, err
		}
		res.Old = append(res.Old, old.PID)
		if nw != nil {
			res.New = append(res.New, nw.PID)
		}
	}
	return res, nil
}

// recycleWorker replaces one worker, overlapped unless the pool disallows
// it, recording eventID with the reason. Recycling triggers (time,
// requests, memory, a failed health check) use it for the one worker they
// concern. Called on the actor.
func (p *Pool) recycleWorker(old *Worker, s *Settings, eventID int, reason string) (*Worker, error) {
	p.stats.recycled(eventID)
	p.recordRecycle(old, s, eventID, reason) // only when its logEventOnRecycle flag is set (triggers.go)
	var nw *Worker
	var err error
	if s.Overlap {
		nw, err = p.overlapOne(old, s)
	} else {
		nw, err = p.rotateOne(old, s)
	}
	if err != nil {
		p.events.Record(events.Event{ID: events.OverlapFailure, Pool: p.name, PID: old.PID, Reason: "recycle failed: " + err.Error()})
		return nil, fmt.Errorf("%w: apppool %q: %w", hostapi.ErrRecycleFailed, p.name, err)
	}
	return nw, nil
}

// overlapOne starts a replacement, switches dispatch to it, then drains and
// stops the old worker in the background. If the replacement fails, the
// old worker keeps serving.
func (p *Pool) overlapOne(old *Worker, s *Settings) (*Worker, error) {
	nw, err := p.launch(context.Background(), s)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	if p.state != Started {
		p.mu.Unlock()
		p.stopWorker(nw, s.ShutdownTimeLimit)
		return nil, fmt.Errorf("the pool stopped during the recycle")
	}
	drained := p.startDrain(old)
	p.addActive(nw)
	p.mu.Unlock()
	go p.drainOne(old, drained, s.ShutdownTimeLimit)
	return nw, nil
}

// rotateOne drains and stops the old worker first (requests wait in the
// queue), then starts its replacement.
func (p *Pool) rotateOne(old *Worker, s *Settings) (*Worker, error) {
	p.mu.Lock()
	drained := p.startDrain(old)
	p.mu.Unlock()
	p.drainOne(old, drained, s.ShutdownTimeLimit)
	nw, err := p.launch(context.Background(), s)
	if err != nil {
		p.mu.Lock()
		if len(p.active) == 0 {
			p.failWaiters(fmt.Errorf("%w: %v", ErrStartFailed, err))
		}
		p.mu.Unlock()
		return nil, err
	}
	p.mu.Lock()
	if p.state != Started {
		p.mu.Unlock()
		p.stopWorker(nw, s.ShutdownTimeLimit)
		return nil, fmt.Errorf("the pool stopped during the recycle")
	}
	p.addActive(nw)
	p.mu.Unlock()
	return nw, nil
}

// Reconfigure applies new settings. Settings the host applies live (queue
// length, concurrency, timeouts, failure settings) take effect at once; a
// change to what workers read at start recycles them (event 5080) unless
// disallowRotationOnConfigChange. autoStart changes start or stop the pool.
func (p *Pool) Reconfigure(ctx context.Context, s Settings) error {
	return p.do(ctx, func() error {
		p.mu.Lock()
		old := p.settings
		p.settings = s
		running := p.state == Started && len(p.active) > 0
		state := p.state
		p.serveWaiters() // more room per worker may serve queued requests
		p.mu.Unlock()
		switch {
		case old.AutoStart && !s.AutoStart && state == Started:
			return p.stop("autoStart was cleared (poolctl stop apppool)", false)
		case !old.AutoStart && s.AutoStart && state == Stopped:
			p.mu.Lock()
			_ = p.move(Starting)
			_ = p.move(Started)
			p.disabled, p.reason = false, ""
			p.resetFailures() // rapidfail.go
			p.mu.Unlock()
			p.events.Record(events.Event{ID: events.PoolStarted, Pool: p.name, Reason: "pool started (autoStart set)"})
			if s.AlwaysRunning {
				p.ensureWorkers()
			}
			return nil
		}
		if running && old.startHash != s.startHash && s.RecycleOnChange {
			if _, err := p.recycle(events.RecycleConfigChange, "a setting workers read at start changed"); err != nil {
				p.logger.Error("config-change recycle", "pool", p.name, "err", err)
			}
		}
		if state == Started && s.AlwaysRunning {
			p.ensureWorkers()
		}
		return nil
	})
}
