package apppool

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/poolctl/poolctl/events"
	"github.com/poolctl/poolctl/internal/cgroup"
	"github.com/poolctl/poolctl/internal/proc"
)

// Memory limits from the kernel (recycling.periodicRestart.privateMemory).
//
// When the host can write a memory cgroup hierarchy (internal/cgroup
// memory.go: v2 memory.high + memory.events, or v1 memory.usage_in_bytes
// thresholds), every worker of a pool with a privateMemory limit gets a
// memory cgroup and a threshold at the limit; a goroutine per worker waits
// for the kernel's report and hands it to the pool's loop, which samples
// the worker at once and, when it is over its limit, recycles it exactly
// as the sampled trigger does (same event, 5117, and reason; triggers.go):
// the worker takes no new request from that moment (its replacement gets
// them once ready; they wait in the queue meanwhile) and is replaced with
// an overlapping recycle. The cgroup counts more than private memory (page
// cache, kernel memory), so a report with the worker still under its limit
// re-arms the threshold that much higher. The virtual memory limit
// (memory) has no kernel counter and stays sampled, as does everything
// where no hierarchy is writable or POOLCTL_KERNEL_MEMORY=off; the /proc
// sampling (every --sample-interval) runs in every case, as a backstop.
// A watch holds one descriptor and one goroutine per worker, both gone
// once the worker has exited.

// KernelMemoryEnv, set to "off" in the host's environment, turns the
// kernel path off: memory limits are then only sampled from /proc.
const KernelMemoryEnv = "POOLCTL_KERNEL_MEMORY"

// memRoot is the memory hierarchy, detected once per host.
var memRoot struct {
	once sync.Once
	root *cgroup.Root
	err  error
}

// memoryRoot detects the memory hierarchy once and logs which path
// memory limits take.
func (p *Pool) memoryRoot() *cgroup.Root {
	memRoot.once.Do(func() {
		if strings.EqualFold(os.Getenv(KernelMemoryEnv), "off") {
			memRoot.err = fmt.Errorf("%s=off", KernelMemoryEnv)
		} else {
			detectCgroups(p.logger)
			memRoot.root, memRoot.err = cgroup.DetectMemory(jailRoot.root)
		}
		if memRoot.err != nil {
			p.logger.Info("memory limits: sampled from /proc every --sample-interval (no kernel notifications)", "reason", memRoot.err)
			return
		}
		p.logger.Info("memory limits: the kernel reports a worker crossing privateMemory at once",
			"hierarchy", memRoot.root.Version.String(), "parent", memRoot.root.Dir)
	})
	return memRoot.root
}

// memState is one worker's kernel memory watch.
type memState struct {
	g    *cgroup.Group
	own  bool // a v1 group of its own: removed when the worker is done
	done chan struct{}

	step uint64 // the last re-arm step (onMemoryReport, on the loop)

	mu     sync.Mutex
	mw     *cgroup.MemoryWatch
	closed bool
}

// watchMemory gives a just started worker its memory cgroup and threshold
// when the pool has a privateMemory limit and the kernel path is on.
func (p *Pool) watchMemory(w *Worker, s *Settings) {
	pr := periodicRestart(s)
	if pr == nil || *pr.PrivateMemory == 0 || p.launcher.NoKernelMemory {
		return
	}
	root := p.memoryRoot()
	if root == nil {
		return
	}
	g, err := root.MemoryGroup(p.name, w.ID)
	if err != nil {
		p.logger.Warn("memory limits: no memory cgroup for the worker; its memory is sampled", "pool", p.name, "pid", w.PID, "err", err)
		return
	}
	m := &memState{g: g, own: root.Version == cgroup.V1, done: make(chan struct{})}
	if m.own {
		if err := g.Add(w.PID); err != nil {
			p.logger.Warn("memory limits: place the worker in its memory cgroup; its memory is sampled", "pool", p.name, "pid", w.PID, "err", err)
			m.remove(p.logger)
			return
		}
	}
	// The report comes when the charge enters the band below the limit
	// (nearBand), from where the worker is also sampled while it stays
	// there: the group's charge can lag its private memory by megabytes.
	limit := *pr.PrivateMemory << 10
	threshold := limit - nearBand(limit)
	// On v1 the worker joined its group after it started: what it had by
	// then stays charged elsewhere. Arm that much lower, so the report
	// comes when its private memory, not the group's charge, crosses.
	if u, err := proc.GroupUsage(w.PID); err == nil {
		if usage, err := g.MemoryUsage(); err == nil && u.PrivateKB<<10 > usage {
			threshold -= min(u.PrivateKB<<10-usage, threshold/2)
		}
	}
	mw, err := g.WatchMemory(threshold)
	if err != nil {
		p.logger.Warn("memory limits: arm the worker's threshold; its memory is sampled", "pool", p.name, "pid", w.PID, "err", err)
		m.remove(p.logger)
		return
	}
	m.mw = mw
	w.mem = m
	p.logger.Debug("memory limits: kernel threshold armed", "pool", p.name, "pid", w.PID, "bytes", threshold, "cgroup", g.Dir)
	go p.memoryWaiter(w, m, threshold)
}

// memoryWaiter waits for the kernel's reports on the worker's watch and
// has the loop act on each; it ends when the watch is closed (the worker
// exited) or the loop says to stop watching.
func (p *Pool) memoryWaiter(w *Worker, m *memState, threshold uint64) {
	defer close(m.done)
	near := false
	for {
		m.mu.Lock()
		mw, closed := m.mw, m.closed
		m.mu.Unlock()
		if closed {
			return
		}
		switch u, err := m.g.MemoryUsage(); {
		case err == nil && u >= threshold:
			// A use already over the threshold when it was armed is
			// reported by no event: look at once.
		case near:
			// Private memory is within nearBand of the limit: it can
			// cross without the charge crossing the next threshold, so
			// look again shortly as well as on the kernel's report.
			if err := mw.WaitFor(nearLimitRecheck); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
				return // closed
			}
		default:
			if err := mw.Wait(); err != nil {
				return // closed
			}
		}
		type verdict struct {
			threshold uint64
			near      bool
		}
		next := make(chan verdict, 1)
		select {
		case p.actions <- func() { th, nr := p.onMemoryReport(w, m); next <- verdict{th, nr} }:
		case <-p.done:
			return
		}
		var th uint64
		select {
		case v := <-next:
			th, near = v.threshold, v.near
		case <-p.done:
			return
		}
		if th == 0 {
			m.close()
			return
		}
		if th != threshold {
			nmw, err := m.g.WatchMemory(th)
			m.mu.Lock()
			if err != nil || m.closed {
				m.mu.Unlock()
				if nmw != nil {
					_ = nmw.Close()
				}
				m.close()
				return
			}
			_ = m.mw.Close()
			m.mw, threshold = nmw, th
			m.mu.Unlock()
		}
	}
}

// onMemoryReport acts on a kernel report for worker w on the loop: it
// samples the worker and recycles it when it is over a limit, as the
// sampled trigger does. It returns the next threshold in bytes, 0 to stop
// watching, and whether the worker's private memory is so near its limit
// that the waiter must also look again after nearLimitRecheck (the worker is being replaced, is no longer serving, or was
// over its limit before serving anything: see memoryTrigger).
func (p *Pool) onMemoryReport(w *Worker, m *memState) (threshold uint64, near bool) {
	p.mu.Lock()
	st, served, pstate, s := w.state, w.served, p.state, p.settings
	p.mu.Unlock()
	pr := periodicRestart(&s)
	if pr == nil || *pr.PrivateMemory == 0 || (st != WorkerReady && st != WorkerStarting && st != WorkerSuspended) {
		return 0, false
	}
	if p.trig.warned == nil {
		p.trig.scheduleDue, p.trig.warned = map[*Worker]string{}, map[*Worker]bool{}
	}
	// The group's charge is read before the sample of private memory, so
	// that memory allocated in between counts in the sample, not only in
	// the charge: the next threshold then comes early rather than late.
	before, uerr := m.g.MemoryUsage()
	u, err := m.sample(w.PID)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			p.logger.Warn("sample worker memory", "pool", p.name, "pid", w.PID, "err", err)
		}
		return 0, false
	}
	id, reason := p.memoryVerdict(w, served, u, *pr.PrivateMemory, *pr.Memory)
	if id != 0 {
		if pstate != Started || st != WorkerReady {
			return 0, false
		}
		p.logger.Info("memory limits: the kernel reported the worker over its limit; recycling it", "pool", p.name, "pid", w.PID)
		p.recycleOverLimit(w, id, reason)
		return 0, false
	}
	if p.trig.warned[w] {
		return 0, false // over before serving anything: not recycled, no longer watched
	}
	// Under the limit: the cgroup also counts page cache and kernel
	// memory. Arm again where private memory would enter the band below
	// the limit (every private page is charged to the group too; in the
	// band the waiter samples too), rearmMargin early for the
	// kernel's approximate per-CPU counts of RssAnon, and at least a step
	// above the charge now (rearmStep, doubling with each such report up
	// to an eighth of the limit), so a worker that stays just under its
	// limit while its page cache grows cannot keep the host sampling it;
	// the /proc sampling backstop covers what a large step passes over.
	limit := *pr.PrivateMemory << 10
	usage, err := m.g.MemoryUsage()
	if err != nil || uerr != nil {
		return 0, false
	}
	band, priv := nearBand(limit), u.PrivateKB<<10
	near = priv+band >= limit
	if near {
		// In the band every report is a sample that may find the worker
		// over: keep the step small, so the report comes with the next
		// megabyte rather than with the next nearLimitRecheck.
		m.step = rearmStep
	} else {
		m.step = min(max(2*m.step, rearmStep), max(limit/8, rearmStep))
	}
	next := (before + (limit - band) - min(priv, limit-band)) - min(rearmMargin, before)
	next = max(next, usage+m.step)
	p.logger.Debug("memory limits: kernel report with the worker under its limit; threshold raised",
		"pool", p.name, "pid", w.PID, "privateKB", u.PrivateKB, "cgroupBytes", usage, "threshold", next, "recheck", near)
	return next, near
}

// nearBand is the band below a privateMemory limit of limit bytes in which
// a worker is sampled every nearLimitRecheck besides the kernel's reports:
// an eighth of the limit, at least 2 MiB. The kernel's charge of the
// worker's group and its private memory (RssAnon) are counted apart and
// drift by megabytes (seen: 4 MB at a 48 MB limit under the race
// detector), so a threshold at the limit itself can stay uncrossed while
// private memory is over it.
func nearBand(limit uint64) uint64 { return min(max(limit/8, 2<<20), limit/2) }

// Re-arming after a report with the worker under its limit (see
// onMemoryReport).
const (
	rearmMargin = 512 << 10
	rearmStep   = 1 << 20
	// nearLimitRecheck is how often a worker whose private memory is
	// within nearBand of its limit is sampled besides the kernel's
	// reports: one worker's /proc files, 10 times a second, and only
	// while it stays that near.
	nearLimitRecheck = 100 * time.Millisecond
)

// recycleOverLimit takes a worker over its memory limit out of dispatch at
// once (it takes no new request; they wait for its replacement) and
// replaces it with the pool's recycle plan (event id, 5117 or 5077). The
// plan gives it back to dispatch if the replacement cannot start. Called
// on the loop.
func (p *Pool) recycleOverLimit(w *Worker, id int, reason string) {
	p.mu.Lock()
	w.overLimit = true
	p.mu.Unlock()
	p.planRecycle([]*Worker{w}, id, reason, nil)
}

// close ends the watch (its Wait returns).
func (m *memState) close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	m.closed = true
	if m.mw != nil {
		_ = m.mw.Close()
	}
}

// remove removes a v1 memory group of the worker's own, killing what is
// left in it (the worker has exited).
func (m *memState) remove(logger *slog.Logger) {
	if !m.own {
		return
	}
	if _, err := m.g.Kill(); err != nil {
		logger.Warn("memory limits: kill what is left in the worker's memory cgroup", "cgroup", m.g.Dir, "err", err)
	}
	if err := m.g.Remove(); err != nil {
		logger.Warn("memory limits: remove the worker's memory cgroup", "cgroup", m.g.Dir, "err", err)
	}
	// The pool's directory goes with its last worker (it stays while
	// another worker of the pool has a group there); the host's own
	// directory is left to the next host's sweep.
	_ = os.Remove(filepath.Dir(m.g.Dir))
}

// memoryDone ends a worker's memory watch once it has exited, waits for its
// goroutine and removes its v1 group. Called from watch.
func (p *Pool) memoryDone(w *Worker) {
	m := w.mem
	if m == nil {
		return
	}
	m.close()
	<-m.done
	m.remove(p.logger)
}

// memoryOverEvent reports whether an event id is a memory recycle.
func memoryOverEvent(id int) bool {
	return id == events.RecyclePrivateMemory || id == events.RecycleMemory
}

// sample is proc.GroupUsage of the worker, over the processes of its
// memory cgroup (which holds its process group) rather than a scan of
// every process: the host reacts to a report in a fraction of the time.
func (m *memState) sample(pgid int) (proc.Usage, error) {
	pids, err := m.g.Procs()
	if err != nil {
		return proc.GroupUsage(pgid)
	}
	return proc.GroupUsageOf(pgid, pids)
}
