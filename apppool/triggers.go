package apppool

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/poolctl/poolctl/events"
	"github.com/poolctl/poolctl/internal/proc"
	"github.com/poolctl/poolctl/store"
)

// Recycling triggers (recycling.periodicRestart): each concerns one worker
// and replaces it with a recycle plan of that one worker (planRecycle,
// recycle.go) recorded with its IIS event id. The loop checks them once a
// second (tick); memory is sampled from /proc every Launcher.SampleInterval
// (default 1s; shorter intervals get a ticker of their own that asks the
// loop to check), and reported by the kernel the moment a worker crosses
// privateMemory where a memory cgroup is writable (memwatch.go). A worker
// over a memory limit takes no new request while it is replaced. The decisions on requests, time and schedule are
// restartPolicy's (policy_restart.go). A web garden recycles at most one
// worker at a time: no trigger fires while a recycle plan runs, so
// capacity never drops by more than one worker.

// DefaultSampleInterval is how often worker memory is sampled when the
// Launcher does not say.
const DefaultSampleInterval = time.Second

// triggerState is what the recycling triggers remember between checks.
// Fields are owned by the loop, except spentFail, which is guarded by
// Pool.mu because dispatch reads it.
type triggerState struct {
	lastSchedule time.Time          // schedule times up to this one were handled
	lastSample   time.Time          // when memory was last sampled
	scheduleDue  map[*Worker]string // workers owed a schedule recycle, with the time
	warned       map[*Worker]bool   // workers already warned about a baseline over a limit
	sampler      atomic.Bool        // a fast memory sampler goroutine runs
	spentFail    map[*Worker]bool   // request-count and memory recycles that failed: dispatch may use the worker again

	cands []triggerCand    // scratch of checkTriggersMemory, reused
	live  map[*Worker]bool // scratch of checkTriggersMemory, reused
}

// triggerCand is a worker a trigger check looks at, with its count of
// requests served when the check began.
type triggerCand struct {
	w      *Worker
	served uint64
}

// sampleInterval is the memory sampling interval of the pool's host.
func (p *Pool) sampleInterval() time.Duration {
	if iv := p.launcher.SampleInterval; iv > 0 {
		return iv
	}
	return DefaultSampleInterval
}

// checkTriggers runs every recycling trigger once and recycles at most one
// worker. Called on the loop from tick.
func (p *Pool) checkTriggers(now time.Time) {
	p.checkTriggersMemory(now, true)
}

// checkTriggersMemory is checkTriggers; all is false for a check that only
// samples memory (the fast sampler's).
func (p *Pool) checkTriggersMemory(now time.Time, all bool) {
	p.mu.Lock()
	if p.state != Started || p.sup.plan != nil { // a recycle runs: one worker at a time
		p.mu.Unlock()
		return
	}
	s := p.settings
	t := &p.trig
	// The candidates and the live set are the pool's, reused each second:
	// no garbage per check (TestTickNoGarbage).
	ws := t.cands[:0]
	if t.live == nil {
		t.live = map[*Worker]bool{}
	}
	live := t.live
	clear(live)
	for _, w := range p.active {
		live[w] = true
		if w.state == WorkerReady {
			ws = append(ws, triggerCand{w, w.served})
		}
	}
	t.cands = ws
	defer func() { clear(ws); clear(live) }() // the scratch keeps no worker alive
	for w := range p.trig.spentFail {
		if !live[w] {
			delete(p.trig.spentFail, w)
		}
	}
	p.mu.Unlock()
	if t.scheduleDue == nil {
		t.scheduleDue, t.warned = map[*Worker]string{}, map[*Worker]bool{}
	}
	for w := range t.scheduleDue {
		if !live[w] {
			delete(t.scheduleDue, w)
		}
	}
	for w := range t.warned {
		if !live[w] {
			delete(t.warned, w)
		}
	}
	pr := periodicRestart(&s)
	if pr == nil {
		return
	}
	iv := p.sampleInterval()
	if all {
		p.startSampler(&s)
		// Schedule: every time of day in (lastSchedule, now] is owed by
		// the workers that were running then, even if no tick fell on
		// the exact second.
		if t.lastSchedule.IsZero() || now.Sub(t.lastSchedule) > 48*time.Hour {
			t.lastSchedule = now.Add(-time.Second)
		}
		for _, at := range scheduleBetween(*pr.Schedule, t.lastSchedule, now) {
			for _, c := range ws {
				if !c.w.Started.After(at) {
					if _, ok := t.scheduleDue[c.w]; !ok {
						t.scheduleDue[c.w] = at.Format("15:04:05")
					}
				}
			}
		}
		if now.After(t.lastSchedule) {
			t.lastSchedule = now
		}
	}
	sample := memoryLimited(&s) &&
		(!all || iv >= time.Second && (t.lastSample.IsZero() || now.Sub(t.lastSample)+time.Second/2 >= iv))
	if sample {
		t.lastSample = now
	}
	for _, c := range ws {
		w := c.w
		id, reason := 0, ""
		if sample {
			id, reason = p.memoryTrigger(w, c.served, *pr.PrivateMemory, *pr.Memory)
		}
		if id == 0 && all {
			id, reason = restartPolicyOf(pr).due(w.PID, c.served, w.Started, t.scheduleDue[w], now)
		}
		if id == 0 {
			continue
		}
		delete(t.scheduleDue, w)
		p.mu.Lock()
		still := w.state == WorkerReady && p.state == Started
		p.mu.Unlock()
		if !still {
			continue // it ended or started draining while it was sampled
		}
		// A failed replacement is logged by the plan; a worker spent by
		// its request count or over its memory limit is then given
		// requests again (planLaunched).
		if memoryOverEvent(id) {
			p.recycleOverLimit(w, id, reason) // memwatch.go
		} else {
			p.planRecycle([]*Worker{w}, id, reason, nil)
		}
		return // one worker per check: a web garden recycles one at a time
	}
}

// memoryTrigger samples the worker's process group and returns event 5117
// or 5077 with a reason when it is over a limit (KB, 0 = off). A worker
// that is over a limit before it has served any request is not recycled
// (its replacement would start just as big and be recycled in turn,
// forever): the host warns once for it instead.
func (p *Pool) memoryTrigger(w *Worker, served, privateKB, virtualKB uint64) (int, string) {
	u, err := proc.GroupUsage(w.PID)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			p.logger.Warn("sample worker memory", "pool", p.name, "pid", w.PID, "err", err)
		}
		return 0, ""
	}
	return p.memoryVerdict(w, served, u, privateKB, virtualKB)
}

// memoryVerdict is memoryTrigger's decision on a sample u of the worker.
func (p *Pool) memoryVerdict(w *Worker, served uint64, u proc.Usage, privateKB, virtualKB uint64) (int, string) {
	id, what, limit, got := 0, "", uint64(0), uint64(0)
	switch {
	case privateKB > 0 && u.PrivateKB > privateKB:
		id, what, limit, got = events.RecyclePrivateMemory, "private memory", privateKB, u.PrivateKB
	case virtualKB > 0 && u.VirtualKB > virtualKB:
		id, what, limit, got = events.RecycleMemory, "virtual memory", virtualKB, u.VirtualKB
	default:
		return 0, ""
	}
	prop := map[int]string{events.RecyclePrivateMemory: "privateMemory", events.RecycleMemory: "memory"}[id]
	if served == 0 {
		if !p.trig.warned[w] {
			p.trig.warned[w] = true
			p.logger.Warn(fmt.Sprintf("worker %d uses %d KB of %s before serving any request, over recycling.periodicRestart.%s %d KB: "+
				"not recycled, since a replacement would start just as big; raise the limit", w.PID, got, what, prop, limit),
				"pool", p.name, "pid", w.PID)
		}
		return 0, ""
	}
	return id, fmt.Sprintf("worker %d uses %d KB of %s, over recycling.periodicRestart.%s %d KB", w.PID, got, what, prop, limit)
}

// startSampler starts the fast memory sampler when the host samples more
// often than the tick and the pool has a memory limit, unless it runs.
func (p *Pool) startSampler(s *Settings) {
	iv := p.sampleInterval()
	if iv < time.Second && memoryLimited(s) && p.trig.sampler.CompareAndSwap(false, true) {
		go p.fastSampler(iv)
	}
}

// fastSampler asks the loop to check memory every iv (below a second,
// the tick's period) while the pool has workers and a memory limit.
func (p *Pool) fastSampler(iv time.Duration) {
	defer p.trig.sampler.Store(false)
	t := time.NewTicker(iv)
	defer t.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-t.C:
		}
		p.mu.Lock()
		keep := p.state == Started && len(p.active) > 0 && memoryLimited(&p.settings)
		p.mu.Unlock()
		if !keep {
			return
		}
		select {
		case p.actions <- func() { p.checkTriggersMemory(time.Now(), false) }:
		case <-p.done:
			return
		}
	}
}

// scheduleBetween returns the local times in (from, to] at which one of
// the times of day in sched falls. The window spans at most three dates.
func scheduleBetween(sched []store.TimeSpan, from, to time.Time) []time.Time {
	if len(sched) == 0 || !to.After(from) {
		return nil
	}
	var out []time.Time
	from, to = from.Local(), to.Local()
	y, m, d := from.Date()
	for day := 0; day < 3; day++ {
		for _, off := range sched {
			sec := int(off.Duration() / time.Second)
			at := time.Date(y, m, d+day, sec/3600, sec/60%60, sec%60, 0, time.Local)
			if at.After(from) && !at.After(to) {
				out = append(out, at)
			}
		}
	}
	return out
}

// periodicRestart returns the pool's periodicRestart settings, or nil when
// they are not resolved (settings built by hand in tests).
func periodicRestart(s *Settings) *store.PeriodicRestart {
	if r := s.Resolved.Recycling; r != nil && r.PeriodicRestart != nil && r.PeriodicRestart.Requests != nil &&
		r.PeriodicRestart.Memory != nil && r.PeriodicRestart.PrivateMemory != nil && r.PeriodicRestart.Time != nil &&
		r.PeriodicRestart.Schedule != nil {
		return r.PeriodicRestart
	}
	return nil
}

// requestLimit is periodicRestart.requests, 0 when off.
func requestLimit(s *Settings) uint64 {
	if pr := periodicRestart(s); pr != nil {
		return *pr.Requests
	}
	return 0
}

// memoryLimited reports whether a memory limit is set.
func memoryLimited(s *Settings) bool {
	pr := periodicRestart(s)
	return pr != nil && (*pr.Memory > 0 || *pr.PrivateMemory > 0)
}

// spentLocked reports whether the worker has reached its request count
// (served and in flight) or went over its memory limit (memwatch.go):
// dispatch gives it no more requests, and the actor replaces it; unless
// its replacement failed to start (spentFail). Called with p.mu held.
func (p *Pool) spentLocked(w *Worker) bool {
	if p.trig.spentFail[w] {
		return false
	}
	if w.overLimit { // over its memory limit (memwatch.go)
		return true
	}
	limit := requestLimit(&p.settings)
	return limit > 0 && w.served+uint64(w.inflight) >= limit
}

// noteServedLocked is called by Release with p.mu held: a worker that has
// just reached its request count is recycled now rather than at the next
// tick, and the fast memory sampler starts with the first request.
func (p *Pool) noteServedLocked(w *Worker) {
	p.startSampler(&p.settings) // from the first request, not the first tick
	limit := requestLimit(&p.settings)
	if limit == 0 || w.served != limit || w.state != WorkerReady {
		return
	}
	go func() {
		select {
		case p.actions <- func() { p.checkTriggers(time.Now()) }:
		case <-p.done:
		}
	}()
}

// recycleFlags maps recycle event ids to their recycling.logEventOnRecycle
// flag.
var recycleFlags = map[int]string{
	events.RecycleTime:          "Time",
	events.RecycleRequests:      "Requests",
	events.RecycleSchedule:      "Schedule",
	events.RecycleMemory:        "Memory",
	events.RecycleOnDemand:      "OnDemand",
	events.RecycleConfigChange:  "ConfigChange",
	events.RecyclePrivateMemory: "PrivateMemory",
}

// recycleLogged reports whether the recycle event id is recorded: only when
// its recycling.logEventOnRecycle flag is set, as in IIS. Ids without a
// flag (a failed health check ...) are always recorded.
func recycleLogged(s *Settings, id int) bool {
	flag, ok := recycleFlags[id]
	if !ok || s.Resolved.Recycling == nil || s.Resolved.Recycling.LogEventOnRecycle == nil {
		return true
	}
	for _, f := range strings.Split(*s.Resolved.Recycling.LogEventOnRecycle, ",") {
		if strings.EqualFold(strings.TrimSpace(f), flag) {
			return true
		}
	}
	return false
}

// processModelLogged reports whether an event governed by the flag of
// processModel.logEventOnProcessModel (IdleTimeout, the only one: events
// 5186 and 9005) is recorded: when the flag is set, as by default.
func processModelLogged(s *Settings, flag string) bool {
	pm := s.Resolved.ProcessModel
	if pm == nil || pm.LogEventOnProcessModel == nil {
		return true
	}
	for f := range strings.SplitSeq(*pm.LogEventOnProcessModel, ",") {
		if strings.EqualFold(strings.TrimSpace(f), flag) {
			return true
		}
	}
	return false
}

// recordRecycle records the event of a recycle of worker old when its
// logEventOnRecycle flag is set, and logs it at debug level otherwise.
func (p *Pool) recordRecycle(old *Worker, s *Settings, id int, reason string) {
	if !recycleLogged(s, id) {
		p.logger.Debug("recycle (event not logged: its logEventOnRecycle flag is clear): "+reason,
			"event", id, "pool", p.name, "pid", old.PID, "worker", strconv.Itoa(old.ID))
		return
	}
	p.events.Record(events.Event{ID: id, Pool: p.name, PID: old.PID, Worker: strconv.Itoa(old.ID), Reason: reason})
}
