package apppool

import (
	"time"

	"github.com/poolctl/poolctl/events"
)

// applyNext applies the settings Reconfigure handed over, on the loop.
// Settings the host applies live (queue length, concurrency, timeouts,
// failure settings, maxProcesses) take effect at once: maxProcesses up
// starts the missing workers when the pool should have them, down drains
// the newest extras (their requests finish). A change to what workers read
// at start starts a rolling recycle (event 5080, recycle.go) unless
// disallowRotationOnConfigChange; it runs in the background. autoStart
// changes start or stop the pool.
func (p *Pool) applyNext() {
	p.mu.Lock()
	if p.next == nil {
		p.mu.Unlock()
		return
	}
	s := *p.next
	p.next = nil
	old := p.settings
	p.settings = s
	state := p.state
	olds := append([]*Worker{}, p.active...)
	p.serveWaiters() // more room per worker may serve queued requests
	p.mu.Unlock()
	switch {
	case old.AutoStart && !s.AutoStart && (state == Started || state == Starting):
		_, _ = p.stop("autoStart was cleared (poolctl stop apppool)", false)
		return
	case old.AutoStart && !s.AutoStart && state == Stopping:
		p.sup.startAfterStop = false
	case !old.AutoStart && s.AutoStart && state == Stopped:
		_ = p.start("pool started (autoStart set)")
		return
	case !old.AutoStart && s.AutoStart && state == Stopping:
		p.sup.startAfterStop = true
		return
	}
	if state == Started && len(olds) > 0 && old.startHash != s.startHash && s.RecycleOnChange {
		p.planRecycle(olds, events.RecycleConfigChange, "a setting workers read at start changed", nil)
	}
	p.converge(time.Now())
}
