package apppool

import (
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/poolctl/poolctl/internal/cgroup"
	"github.com/poolctl/poolctl/internal/proc"
)

// Worker cgroups (internal/cgroup, jail.go there).
//
// Every worker starts in a cgroup of its own below its pool's whenever the
// host can write a cgroup hierarchy: with cgroup v2 it is born there
// (clone3 CLONE_INTO_CGROUP), elsewhere it is moved there right after it
// started. When the worker has been reaped (stopped, recycled, idle,
// crashed, or failed its start-up), everything still in its cgroup is
// killed (v2 cgroup.kill; v1 SIGKILL to every pid in cgroup.procs until
// none is left) and the cgroup removed, so children that left the worker's
// process group (setsid, double fork) do not survive it. A host started
// after one that was killed (SIGKILL) kills what that one left when it
// starts (SweepLeftovers). Without a writable hierarchy only the worker's
// process group is killed, as before; the host says so once in its log.

// jailRoot is the hierarchy of the worker cgroups, detected once with
// cgRoot (cpu.go).
var jailRoot struct {
	once sync.Once
	root *cgroup.Root
	err  error
}

// jailWait bounds how long stopping a worker waits for its cgroup to be
// emptied and removed; Kill and Remove are bounded themselves, this is a
// guard.
const jailWait = 30 * time.Second

// jailState is a pool's worker cgroups.
type jailState struct {
	mu    sync.Mutex
	byPID map[int]*jailed
}

// jailed is the cgroup of one worker; done is closed once it was emptied
// and removed.
type jailed struct {
	g    *cgroup.Group
	done chan struct{}
}

// detectCgroups finds the CPU hierarchy and the worker cgroups' hierarchy
// once per host, killing what hosts that are gone left there, and logs
// what it found.
func detectCgroups(logger *slog.Logger) {
	cgRoot.once.Do(func() {
		cgRoot.root, cgRoot.err = cgroup.Detect()
		if cgRoot.err != nil {
			logger.Warn("CPU limits: the host cannot create cgroups; cpu.limit is measured from /proc, "+
				"Throttle and ThrottleUnderLoad cannot be enforced", "err", cgRoot.err)
			return
		}
		logger.Info("CPU limits: pools get their own cgroup", "hierarchy", cgRoot.root.Version.String(), "parent", cgRoot.root.Dir)
		if n := cgRoot.root.Swept; n > 0 {
			logger.Warn("killed processes left in the cgroups of an earlier host that is gone", "processes", n, "parent", cgRoot.root.Dir)
		}
	})
	jailRoot.once.Do(func() {
		jailRoot.root, jailRoot.err = cgroup.DetectJails(cgRoot.root)
		if jailRoot.err != nil {
			logger.Warn("worker cgroups: the host cannot create cgroups; a stopped worker's children that left its "+
				"process group (setsid, double fork) survive it, and so do the workers of a host killed with SIGKILL",
				"err", jailRoot.err)
			return
		}
		logger.Info("worker cgroups: each worker runs in a cgroup of its own, killed as a whole when it stops",
			"hierarchy", jailRoot.root.Version.String(), "parent", jailRoot.root.Dir)
		if n := jailRoot.root.Swept; n > 0 && jailRoot.root != cgRoot.root {
			logger.Warn("killed processes left in the cgroups of an earlier host that is gone", "processes", n, "parent", jailRoot.root.Dir)
		}
	})
}

// SweepLeftovers detects the host's cgroup hierarchies, which kills the
// processes left in the cgroups of hosts that no longer run (a host killed
// with SIGKILL) and removes those cgroups. The host calls it once at
// start-up, before it starts pools; later calls do nothing.
func SweepLeftovers(logger *slog.Logger) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	detectCgroups(logger)
}

// closeCgroups removes the host's cgroup directories once its pools are
// closed (host shutdown); a directory that still holds something stays,
// for the next host to sweep.
func closeCgroups(logger *slog.Logger) {
	for _, r := range []*cgroup.Root{jailRoot.root, cgRoot.root} {
		if r == nil {
			continue
		}
		if err := r.Close(); err != nil && logger != nil {
			logger.Debug("cgroups: the host's directory stays", "err", err)
		}
	}
}

// startWorker starts a worker process in a new cgroup of its own (see
// above), or as a plain process when the host has no writable hierarchy.
// id is the worker's number in the pool.
func (p *Pool) startWorker(spec proc.Spec, id int) (*proc.Process, error) {
	detectCgroups(p.logger)
	root := jailRoot.root
	if root == nil {
		return proc.Start(spec)
	}
	g, err := root.Jail(p.name, id)
	if err != nil {
		p.logger.Warn("worker cgroups: cannot create the worker's cgroup; only its process group is killed when it stops",
			"pool", p.name, "worker", id, "err", err)
		return proc.Start(spec)
	}
	var pr *proc.Process
	if f, err := g.Open(); err == nil {
		spec.CgroupFD = int(f.Fd())
		pr, err = proc.Start(spec)
		_ = f.Close()
		spec.CgroupFD = 0
		if err != nil {
			// clone3 into a cgroup may be unsupported (Linux < 5.7); an
			// error of the program itself comes back below.
			p.logger.Debug("worker cgroups: start in the cgroup failed; starting, then moving it", "pool", p.name, "err", err)
			pr = nil
		}
	}
	if pr == nil {
		if pr, err = proc.Start(spec); err != nil {
			_ = g.Remove()
			return nil, err
		}
		if err := g.Add(pr.Pid); err != nil {
			p.logger.Warn("worker cgroups: place the worker in its cgroup", "pool", p.name, "pid", pr.Pid, "err", err)
		}
	}
	j := &jailed{g: g, done: make(chan struct{})}
	p.jail.mu.Lock()
	if p.jail.byPID == nil {
		p.jail.byPID = map[int]*jailed{}
	}
	p.jail.byPID[pr.Pid] = j
	p.jail.mu.Unlock()
	pr.OnDone(func() { p.reapJail(pr, j) }) // no goroutine per worker
	return pr, nil
}

// reapJail runs once the worker has been reaped (proc's OnDone): it kills
// what is left in its cgroup and removes the cgroup, both bounded.
func (p *Pool) reapJail(pr *proc.Process, j *jailed) {
	defer close(j.done)
	n, err := j.g.Kill()
	if n > 0 {
		p.logger.Info("killed processes a stopped worker left behind", "pool", p.name, "pid", pr.Pid, "processes", n)
	}
	if err != nil {
		p.logger.Warn("worker cgroups: kill what the worker left", "pool", p.name, "pid", pr.Pid, "cgroup", j.g.Dir, "err", err)
	}
	if err := j.g.Remove(); err != nil {
		p.logger.Warn("worker cgroups: remove the worker's cgroup", "pool", p.name, "pid", pr.Pid, "err", err)
	}
	p.jail.mu.Lock()
	delete(p.jail.byPID, pr.Pid)
	p.jail.mu.Unlock()
}

// jailDone waits (bounded by jailWait) until the cgroup of the worker pid,
// which has been reaped, is emptied and removed.
func (p *Pool) jailDone(pid int) {
	p.jail.mu.Lock()
	j := p.jail.byPID[pid]
	p.jail.mu.Unlock()
	if j == nil {
		return
	}
	t := time.NewTimer(jailWait)
	defer t.Stop()
	select {
	case <-j.done:
	case <-t.C:
		p.logger.Warn("worker cgroups: the worker's cgroup was not emptied in time", "pool", p.name, "pid", pid, "cgroup", j.g.Dir)
	}
}

// jailedBelow reports whether worker pid sits in a cgroup below dir (the
// pool's CPU cgroup, when the worker cgroups share its hierarchy).
func (p *Pool) jailedBelow(pid int, dir string) bool {
	p.jail.mu.Lock()
	defer p.jail.mu.Unlock()
	j := p.jail.byPID[pid]
	return j != nil && strings.HasPrefix(j.g.Dir, dir+"/")
}

// jailClose waits for the pool's worker cgroups to go and removes the
// pool's directory of them (the CPU cgroup's own removal does it when they
// share it).
func (p *Pool) jailClose() {
	p.jail.mu.Lock()
	var pending []int
	for pid := range p.jail.byPID {
		pending = append(pending, pid)
	}
	p.jail.mu.Unlock()
	for _, pid := range pending {
		p.jailDone(pid)
	}
	root := jailRoot.root
	if root == nil || root == cgRoot.root {
		return
	}
	if err := root.PoolGroup(p.name).Remove(); err != nil {
		p.logger.Warn("worker cgroups: remove the pool's cgroup", "pool", p.name, "err", err)
	}
}
