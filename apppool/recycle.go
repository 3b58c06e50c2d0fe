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

// A recycle is a rolling plan held in the loop's state: a queue of old
// workers, replaced one at a time. With overlap (the default) the step
// launches the replacement while the old worker serves; once it is ready,
// dispatch switches to it and the old worker drains and stops in the
// background; then the next step starts. With disallowOverlappingRotation
// the step drains and stops the old worker first (requests wait in the
// queue), then launches its replacement. A web garden thus never loses
// more than one worker of capacity (none with overlap). The loop serves
// health checks, exits, ticks and Stop between steps.
//
// One plan runs at a time. A recycle asked for while one runs joins it:
// its workers not yet in the plan are added to the queue, and every caller
// gets the plan's result when it ends. Recycling triggers (time, requests,
// schedule, memory) add their one worker the same way, and wait for their
// turn while a plan runs.

// recycleItem is one worker to replace, with the event that asked.
type recycleItem struct {
	w       *Worker
	eventID int
	reason  string
}

// recyclePlan is the recycle under way.
type recyclePlan struct {
	id        int
	items     []recycleItem // still to replace, in order
	cur       *recycleItem  // being replaced
	launching bool          // cur's replacement is starting
	rotating  bool          // without overlap: cur is draining before its replacement starts
	overlap   bool
	res       RecycleResult
	callers   []chan<- recycleOutcome
}

// recycleOutcome is a plan's answer to its callers.
type recycleOutcome struct {
	res RecycleResult
	err error
}

// Recycle replaces every worker of the pool, one at a time (see above). If
// a replacement cannot start, the old worker keeps serving (with overlap)
// and the error says why. eventID is the reason (events.RecycleOnDemand,
// RecycleConfigChange ...). It returns when the plan is done; old workers
// finish draining in the background. If ctx ends first, the recycle goes on.
func (p *Pool) Recycle(ctx context.Context, eventID int, reason string) (RecycleResult, error) {
	out := make(chan recycleOutcome, 1)
	err := p.do(ctx, func() error {
		p.mu.Lock()
		st := p.state
		olds := append([]*Worker{}, p.active...)
		p.mu.Unlock()
		if st != Started {
			return fmt.Errorf("%w: apppool %q is %s; start it first", hostapi.ErrConflict, p.name, st)
		}
		p.planRecycle(olds, eventID, reason, out)
		return nil
	})
	if err != nil {
		return RecycleResult{}, err
	}
	select {
	case o := <-out:
		return o.res, o.err
	case <-ctx.Done():
		return RecycleResult{}, ctx.Err()
	}
}

// planRecycle adds workers to the plan (making one if none runs) and
// advances it. caller, if not nil, gets the plan's outcome. Called on the
// loop.
func (p *Pool) planRecycle(olds []*Worker, eventID int, reason string, caller chan<- recycleOutcome) {
	pl := p.sup.plan
	if pl == nil {
		if len(olds) == 0 {
			if caller != nil {
				caller <- recycleOutcome{}
			}
			return
		}
		p.sup.plans++
		p.mu.Lock()
		overlap := p.settings.Overlap
		p.mu.Unlock()
		pl = &recyclePlan{id: p.sup.plans, overlap: overlap}
		p.sup.plan = pl
	}
	for _, w := range olds {
		if !pl.has(w) {
			pl.items = append(pl.items, recycleItem{w: w, eventID: eventID, reason: reason})
		}
	}
	if caller != nil {
		pl.callers = append(pl.callers, caller)
	}
	p.planStep()
}

// has reports whether w is in the plan.
func (pl *recyclePlan) has(w *Worker) bool {
	if pl.cur != nil && pl.cur.w == w {
		return true
	}
	for _, it := range pl.items {
		if it.w == w {
			return true
		}
	}
	return false
}

// planSlots is the number of worker slots the plan holds out of dispatch
// (a worker drained before its replacement starts), which converge must
// not fill. Called with or without p.mu: it reads loop state only.
func (p *Pool) planSlots() int {
	if pl := p.sup.plan; pl != nil && pl.cur != nil && !pl.overlap {
		return 1
	}
	return 0
}

// planStep starts the next step of the plan when none is under way, and
// ends the plan when its queue is empty. Called on the loop.
func (p *Pool) planStep() {
	pl := p.sup.plan
	if pl == nil || pl.cur != nil {
		return
	}
	for len(pl.items) > 0 {
		it := pl.items[0]
		pl.items = pl.items[1:]
		p.mu.Lock()
		if p.state != Started || !it.w.state.Serving() || !p.isActive(it.w) {
			p.mu.Unlock()
			continue // it ended or was drained meanwhile
		}
		s := p.settings
		pl.cur = &it
		if pl.overlap {
			pl.launching = true
		} else {
			pl.rotating = true
			p.retire(it.w, s.ShutdownTimeLimit)
		}
		p.mu.Unlock()
		p.stats.recycled(it.eventID)
		p.recordRecycle(it.w, &s, it.eventID, it.reason) // only when its logEventOnRecycle flag is set (triggers.go)
		if pl.overlap {
			p.launchAsync(launchRecycle, pl.id)
		}
		return
	}
	p.finishPlan(nil)
}

// planStopped advances a plan without overlap once its old worker is
// reaped: the replacement starts. Called on the loop.
func (p *Pool) planStopped(w *Worker) {
	pl := p.sup.plan
	if pl == nil || !pl.rotating || pl.cur == nil || pl.cur.w != w {
		return
	}
	pl.rotating, pl.launching = false, true
	p.launchAsync(launchRecycle, pl.id)
}

// planLaunched takes the plan's replacement when n is it, and reports
// whether it was. Called on the loop.
func (p *Pool) planLaunched(n note) bool {
	pl := p.sup.plan
	if pl == nil || pl.id != n.plan || !pl.launching || pl.cur == nil {
		return false // a plan that ended: handled as any launch
	}
	pl.launching = false
	old := pl.cur
	if n.err != nil {
		p.events.Record(events.Event{ID: events.OverlapFailure, Pool: p.name, PID: old.w.PID, Reason: "recycle failed: " + n.err.Error()})
		if old.eventID == events.RecycleRequests || memoryOverEvent(old.eventID) {
			p.mu.Lock()
			if p.trig.spentFail == nil {
				p.trig.spentFail = map[*Worker]bool{}
			}
			p.trig.spentFail[old.w] = true // dispatch may use it again
			p.serveWaiters()               // starting with what queued meanwhile
			p.mu.Unlock()
		}
		p.launchFailed(n.err)
		p.finishPlan(fmt.Errorf("%w: apppool %q: %w", hostapi.ErrRecycleFailed, p.name, n.err))
		return true
	}
	p.mu.Lock()
	if n.w.state == WorkerExited {
		p.mu.Unlock()
		p.finishPlan(fmt.Errorf("%w: apppool %q: the replacement of worker %d exited at once", hostapi.ErrRecycleFailed, p.name, old.w.PID))
		return true
	}
	if pl.overlap && p.isActive(old.w) {
		p.retire(old.w, p.settings.ShutdownTimeLimit)
	}
	p.addActive(n.w)
	p.mu.Unlock()
	pl.res.Old = append(pl.res.Old, old.w.PID)
	pl.res.New = append(pl.res.New, n.w.PID)
	pl.cur = nil
	p.planStep()
	return true
}

// finishPlan ends the plan and answers its callers. Called on the loop.
func (p *Pool) finishPlan(err error) {
	pl := p.sup.plan
	if pl == nil {
		return
	}
	p.sup.plan = nil
	if err != nil {
		p.logger.Error("recycle", "pool", p.name, "err", err)
	}
	for _, c := range pl.callers {
		c <- recycleOutcome{res: pl.res, err: err}
	}
}

// abortPlan ends a plan the pool's stop interrupts.
func (p *Pool) abortPlan(why error) {
	if p.sup.plan != nil {
		p.finishPlan(fmt.Errorf("%w: apppool %q: %w", hostapi.ErrRecycleFailed, p.name, why))
	}
}

// isActive reports whether w is in dispatch. Called with p.mu held.
func (p *Pool) isActive(w *Worker) bool {
	for _, x := range p.active {
		if x == w {
			return true
		}
	}
	return false
}
