package apppool

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/poolctl/poolctl/events"
	"github.com/poolctl/poolctl/internal/cgroup"
	"github.com/poolctl/poolctl/internal/proc"
)

// CPU limits (cpu.limit, cpu.action, cpu.resetInterval).
//
// cpu.limit is in 1/1000 of a percent of ONE CPU's time: 20000 lets the
// pool's workers together use 20 % of one CPU, i.e. 0.2 s of CPU time per
// second of wall time, whatever the number of CPUs (IIS counts a percentage
// of all CPUs; poolctl counts per CPU, like cpu.max, so a limit does not
// change meaning when the machine grows). The pool's CPU time is measured
// over windows of resetInterval: from its cgroup (v2 cpu.stat usage_usec,
// v1 cpuacct.usage) or, when that cannot tell, as the utime+stime of each
// worker's process group from /proc. When the pool goes over
// limit × resetInterval in a window:
//
//   - NoAction records event [events.CPULimit], once per window;
//   - KillW3wp records it, stops the pool's workers (drain, SIGTERM, SIGKILL
//     after shutdownTimeLimit) and answers 503 (ErrCPULimit, reason
//     AppShutdown) until the window ends; the next request after that
//     starts a worker;
//   - Throttle caps the cgroup at the limit (cpu.max / cfs quota per 100 ms
//     period), so the window is never exceeded;
//   - ThrottleUnderLoad gives the cgroup a weight proportional to the limit
//     (cpu.weight / cpu.shares), at most the default weight: it only holds
//     the pool back when other work wants the CPUs. Every pool has a cgroup
//     of its own with the default weight when it has no such limit, so a
//     limited pool is held back against unlimited pools too, not only
//     against other limited ones (whose workers would otherwise compete
//     with the limited pool's cgroup as equals, one by one).
//
// Changes apply live, within a second, without a recycle.

// ErrCPULimit: the pool used more than cpu.limit in the current
// resetInterval with cpu.action KillW3wp; it serves again when the interval
// ends [AppShutdown].
var ErrCPULimit = errors.New("the application pool's workers used more CPU than cpu.limit; it serves again when the CPU interval ends")

// cpuState is a pool's CPU accounting and cgroup.
type cpuState struct {
	mu      sync.Mutex // guards the fields up to placed: launches place workers concurrently
	cg      *cgroup.Group
	applied cpuKey // the limit/action last applied to cg (zero: none)
	warned  cpuKey // the limit/action last reported as unenforceable
	placed  map[int]bool

	// used on the loop only
	win      cpuWindow             // the current resetInterval (policy_cpu.go)
	last     map[int]time.Duration // per worker pgid, /proc accounting
	cgLast   time.Duration
	cgLastOK bool

	// guarded by Pool.mu
	blockedUntil time.Time
}

// cpuKey is a limit and action as applied to a pool's cgroup.
type cpuKey struct {
	limit  int64
	action string
}

// cgRoot is the host's cgroup parent, detected once (detectCgroups,
// jail.go) at host start-up or when a pool first needs it.
var cgRoot struct {
	once sync.Once
	root *cgroup.Root
	err  error
}

func cpuSettings(s *Settings) (limit int64, action string, interval time.Duration) {
	c := s.Resolved.CPU
	if c == nil {
		return 0, "NoAction", 0
	}
	if c.Limit != nil {
		limit = int64(*c.Limit)
	}
	action = "NoAction"
	if c.Action != nil {
		action = *c.Action
	}
	if c.ResetInterval != nil {
		interval = c.ResetInterval.Duration()
	}
	return limit, action, interval
}

// cpuGroup returns the pool's cgroup, creating it (for every pool, limited
// or not) and applying the current limit and action to it; nil when the
// host cannot create one.
func (p *Pool) cpuGroup(s *Settings) *cgroup.Group {
	limit, action, _ := cpuSettings(s)
	c := &p.cpu
	c.mu.Lock()
	defer c.mu.Unlock()
	key := cpuKey{limit, action} // compared every second: no formatting
	if c.cg == nil {
		detectCgroups(p.logger)
		if cgRoot.err != nil {
			if (action == "Throttle" || action == "ThrottleUnderLoad") && c.warned != key {
				c.warned = key
				p.logger.Warn("cpu.action cannot be enforced without a cgroup; the pool's CPU is only measured and logged",
					"pool", p.name, "action", action, "limit", limit)
			}
			return nil
		}
		g, err := cgRoot.root.Create(p.name)
		if err != nil {
			if c.warned != key && limit != 0 {
				c.warned = key
				p.logger.Warn("CPU limits: no cgroup for the pool; its CPU is measured from /proc", "pool", p.name, "err", err)
			}
			return nil
		}
		c.cg = g
	}
	if c.applied != key {
		quota, weight := cpuControls(c.cg.Version, limit, action)
		err := c.cg.SetMax(quota, cgroup.DefaultPeriod)
		if err == nil {
			err = c.cg.SetWeight(weight)
		}
		if err != nil {
			p.logger.Error("CPU limits: apply the pool's limit", "pool", p.name, "err", err)
		} else {
			p.logger.Info("CPU limits applied", "pool", p.name, "action", action, "limit", limit,
				"quota_us", quota, "period_us", cgroup.DefaultPeriod, "weight", weight, "cgroup", c.cg.Dir)
		}
		c.applied = key
	}
	return c.cg
}

// cpuControls returns the cap (µs per cgroup.DefaultPeriod, 0 for none)
// and the weight for a pool's cgroup: Throttle caps at the limit;
// ThrottleUnderLoad weighs the limit against the default weight every
// other pool has (100 % of one CPU = the default), never above it, so that
// under contention the limited pool gets less than an unlimited one.
func cpuControls(v cgroup.Version, limit int64, action string) (quota, weight int64) {
	quota, weight = 0, cgroup.Weight(v, 0)
	switch action {
	case "Throttle":
		quota = cgroup.Quota(limit)
	case "ThrottleUnderLoad":
		weight = min(cgroup.Weight(v, limit), weight)
	}
	return quota, weight
}

// cpuPlace puts a new worker into the pool's cgroup right after it started
// (before it serves, and before most workers fork children); a worker
// already in a cgroup of its own below the pool's stays there (jail.go).
func (p *Pool) cpuPlace(pid int) {
	p.mu.Lock()
	s := p.settings
	p.mu.Unlock()
	g := p.cpuGroup(&s)
	if g == nil {
		return
	}
	below := p.jailedBelow(pid, g.Dir)
	p.cpu.mu.Lock()
	defer p.cpu.mu.Unlock()
	if below {
		if p.cpu.placed == nil {
			p.cpu.placed = map[int]bool{}
		}
		p.cpu.placed[pid] = true
		return
	}
	if err := g.Add(pid); err != nil {
		p.logger.Warn("CPU limits: place the worker in the pool's cgroup", "pool", p.name, "pid", pid, "err", err)
		return
	}
	if p.cpu.placed == nil {
		p.cpu.placed = map[int]bool{}
	}
	p.cpu.placed[pid] = true
}

// checkCPU applies live changes of cpu.* and accounts the pool's CPU time
// over the current resetInterval, acting on cpu.action when it goes over
// cpu.limit. It runs on the loop, once a second while the pool has
// workers.
func (p *Pool) checkCPU(now time.Time) {
	p.mu.Lock()
	s := p.settings
	var pids []int
	for _, w := range p.active {
		pids = append(pids, w.PID)
	}
	for w := range p.draining {
		pids = append(pids, w.PID)
	}
	p.mu.Unlock()
	limit, action, interval := cpuSettings(&s)
	g := p.cpuGroup(&s)
	c := &p.cpu
	if g != nil {
		c.mu.Lock()
		for _, pid := range pids {
			if !c.placed[pid] && g.Add(pid) == nil { // a worker from before the limit was set
				if c.placed == nil {
					c.placed = map[int]bool{}
				}
				c.placed[pid] = true
			}
		}
		c.mu.Unlock()
	}
	pol := cpuPolicy{limit: limit, interval: interval}
	if !pol.on() {
		c.win = cpuWindow{}
		return
	}
	if !c.win.add(pol, now, p.cpuDelta(g, pids)) {
		return
	}
	end, allowed := c.win.start.Add(interval), pol.allowed()
	reason := fmt.Sprintf("the pool's workers used %s of CPU time since %s, over cpu.limit %s of one CPU over %s (%s)",
		c.win.used.Round(time.Millisecond), c.win.start.UTC().Format(time.TimeOnly), percent(limit), interval, allowed.Round(time.Millisecond))
	if action != "KillW3wp" {
		p.events.Record(events.Event{ID: events.CPULimit, Pool: p.name, Reason: reason + "; cpu.action " + action})
		return
	}
	p.mu.Lock()
	p.cpu.blockedUntil = end // before the event: whoever sees it gets 503
	p.mu.Unlock()
	p.events.Record(events.Event{ID: events.CPULimit, Pool: p.name,
		Reason: reason + "; cpu.action KillW3wp: its workers are stopped and requests get 503 until " + end.UTC().Format(time.TimeOnly)})
	p.mu.Lock()
	p.failWaiters(ErrCPULimit)
	for _, w := range append([]*Worker{}, p.active...) {
		p.retire(w, p.settings.ShutdownTimeLimit) // in the background; the loop goes on
	}
	p.mu.Unlock()
}

// cpuDelta returns the CPU time the pool used since the previous call:
// from the cgroup when it can tell, else from the workers' process groups.
func (p *Pool) cpuDelta(g *cgroup.Group, pids []int) time.Duration {
	c := &p.cpu
	if g != nil {
		if cur, ok, err := g.Usage(); err == nil && ok {
			d := cur - c.cgLast
			if !c.cgLastOK {
				d = cur
			}
			c.cgLast, c.cgLastOK = cur, true
			return max(d, 0)
		}
	}
	var d time.Duration
	seen := make(map[int]time.Duration, len(pids))
	for _, pid := range pids {
		u, err := proc.GroupUsage(pid)
		if err != nil {
			continue // the worker just ended: its last second is not counted
		}
		seen[pid] = u.CPU
		d += max(u.CPU-c.last[pid], 0) // a new worker counts from its start
	}
	c.last = seen
	return d
}

// cpuBlocked returns ErrCPULimit while KillW3wp keeps the pool off for the
// rest of the interval. Called with p.mu held.
func (p *Pool) cpuBlocked(now time.Time) error {
	if now.Before(p.cpu.blockedUntil) {
		return fmt.Errorf("%w (at %s)", ErrCPULimit, p.cpu.blockedUntil.UTC().Format(time.TimeOnly))
	}
	return nil
}

// cpuClose removes the pool's cgroup once its workers are reaped.
func (p *Pool) cpuClose() {
	p.cpu.mu.Lock()
	g := p.cpu.cg
	p.cpu.cg, p.cpu.applied = nil, cpuKey{}
	p.cpu.mu.Unlock()
	if g == nil {
		return
	}
	if err := g.Remove(); err != nil {
		p.logger.Warn("CPU limits: remove the pool's cgroup", "pool", p.name, "err", err)
	}
}

// percent formats a limit in 1/1000 %.
func percent(limit int64) string {
	return strconv.FormatFloat(float64(limit)/1000, 'f', -1, 64) + " %"
}
