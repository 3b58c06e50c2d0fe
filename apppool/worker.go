package apppool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/poolctl/poolctl/events"
	"github.com/poolctl/poolctl/internal/logfile"
	"github.com/poolctl/poolctl/internal/proc"
)

// Launcher says how the host starts workers.
type Launcher struct {
	Self    string   // the poolctl binary; the built-in worker is "Self worker"
	LogDir  string   // worker output goes to LogDir/<pool>.log
	BaseEnv []string // environment every worker starts from (PATH, LANG ...)
	// Identities resolves who workers run as (identity.go); nil runs
	// them as the host.
	Identities *Identities
	// SampleInterval is how often worker memory is sampled for the
	// memory recycling triggers; 0 means DefaultSampleInterval.
	SampleInterval time.Duration
	// WorkerLog says when each pool's worker log rotates (worklog.go).
	WorkerLog logfile.Options
	// RunDir holds the sockets of unix-socket workers, a directory per
	// pool (listen.go); "" means "run" beside LogDir.
	RunDir string
	// NoKernelMemory turns off the kernel's memory limit reports
	// (memwatch.go): memory is then only sampled.
	NoKernelMemory bool
	// OnRest is called when the host comes to rest: no launch, request or
	// control command for RestQuiet (rest.go); OnBusy at the first activity
	// after a rest (and at the first activity of all). nil OnRest: the
	// host's rest is not watched.
	OnRest, OnBusy func()
}

// Worker is one worker process of a pool. Fields below mu are guarded by
// the pool's mutex.
type Worker struct {
	ID       int
	PID      int
	Addr     string // 127.0.0.1:port, or unix:/path for a unix-socket worker
	Started  time.Time
	proc     *proc.Process
	target   workerTarget     // its connections, made on first use (target.go)
	lease    *proc.Lease      // its port, released when it has exited (nil for a unix socket)
	sockPath string           // its unix socket's path ("" for TCP), removed when it has exited
	sock     *proc.UnixSocket // its socket, pinned once it was ready (listen.go)
	mem      *memState        // its kernel memory watch, nil without (memwatch.go)

	// guarded by Pool.mu
	state     WorkerState
	inflight  int
	served    uint64
	lastUsed  time.Time
	drained   chan struct{} // closed once draining with nothing in flight
	hung      bool          // declared hung by a failed health check
	reqs      map[*Request]struct{}
	identity  string // who the worker runs as, for list wp
	overLimit bool   // over its memory limit: takes no new request while it is replaced (memwatch.go)
}

// errIdentity marks a launch that failed because the pool's identity could
// not be resolved: the pool is being disabled, so it is not counted again.
var errIdentity = errors.New("the pool's identity cannot be resolved")

// launch starts a worker and waits until its health check passes within
// startupTimeLimit (or ctx ends: the pool stopped). A worker that is not
// ready in time is killed. It runs in a goroutine of its own
// (launchAsync); while the process starts, the worker is listed in
// p.launching, in state Starting. The caller counts failures for
// rapid-fail protection.
func (p *Pool) launch(ctx context.Context, s *Settings) (*Worker, error) {
	if err := p.launchAllowed(); err != nil { // rapidfail.go
		return nil, err
	}
	builtin := len(s.Command) == 0
	unixSock := listensUnix(s) // listen.go
	var lease *proc.Lease
	var err error
	if !unixSock {
		if lease, err = leasePort(builtin); err != nil { // launchspec.go
			return nil, fmt.Errorf("pick a port: %w", err)
		}
	}
	handed := false // the lease belongs to a started worker (watch releases it)
	defer func() {
		if !handed {
			lease.Release()
		}
	}()
	p.mu.Lock()
	p.nextID++
	id := p.nextID
	p.mu.Unlock()
	ident, err := p.identity(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errIdentity, err)
	}
	env := append([]string{}, p.launcher.BaseEnv...)
	var addr, sockPath string
	if unixSock {
		if sockPath, err = p.socketPath(s, ident, id); err != nil {
			p.events.Record(events.Event{ID: events.LaunchFailure, Pool: s.Name, Reason: fmt.Sprintf("worker could not be launched: %v", err)})
			return nil, fmt.Errorf("launch worker: %w", err)
		}
		addr = "unix:" + sockPath
		env = append(env, "POOLCTL_LISTEN="+sockPath)
	} else {
		addr = listenAddr(lease.Port)
		env = append(env, "PORT="+strconv.Itoa(lease.Port), "POOLCTL_LISTEN="+addr)
	}
	env = append(env, "POOLCTL_APPPOOL="+s.Name, "POOLCTL_WORKER_ID="+strconv.Itoa(id))
	env = append(env, ident.Env()...)
	env = append(env, s.Env...)
	spec := proc.Spec{Env: env, Dir: s.WorkingDirectory, Stdout: p.log, Stderr: p.log}
	spec.Credential = ident.Credential()
	var inherited *os.File // the host's copy of the built-in worker's socket
	if builtin {
		inherited, err = p.builtinLaunch(&spec, s, lease)
	} else {
		err = commandSpec(&spec, s.Command)
	}
	if err != nil {
		p.events.Record(events.Event{ID: events.LaunchFailure, Pool: s.Name, Reason: fmt.Sprintf("worker could not be launched: %v", err)})
		return nil, fmt.Errorf("launch worker: %w", err)
	}
	if spec.Dir == "" {
		spec.Dir = rootPath(s)
	}
	pr, err := p.startWorker(spec, id) // in a cgroup of its own (jail.go)
	if inherited != nil {
		_ = inherited.Close()
	}
	if lease != nil {
		lease.CloseListener() // the worker holds the socket now; the port stays leased
	}
	if err != nil {
		p.events.Record(events.Event{ID: events.LaunchFailure, Pool: s.Name, Reason: fmt.Sprintf("worker could not be launched: %v", err)})
		return nil, fmt.Errorf("launch worker: %w", err)
	}
	p.cpuPlace(pr.Pid)
	w := &Worker{ID: id, PID: pr.Pid, Addr: addr, Started: pr.Started, proc: pr, lease: lease, sockPath: sockPath,
		state: WorkerStarting, lastUsed: time.Now(), reqs: map[*Request]struct{}{}, identity: ident.String()}
	p.watchMemory(w, s) // memwatch.go
	p.mu.Lock()
	p.launching[w] = struct{}{}
	p.mu.Unlock()
	rctx, cancel := context.WithTimeout(ctx, s.StartupTimeLimit)
	// Ready once a check passes on a listener proven to be the worker's.
	if unixSock {
		err = p.waitReadyUnix(rctx, w, sockPath, ident, s.PingPath) // listen.go
	} else {
		err = pr.WaitReady(rctx, addr, s.PingPath)
	}
	cancel()
	if err != nil {
		_, _ = pr.Stop(context.Background(), 0)
		p.jailDone(pr.Pid)
		w.releaseListen()
		p.memoryDone(w)
		p.mu.Lock()
		delete(p.launching, w)
		p.setWorkerState(w, WorkerExited)
		p.mu.Unlock()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("worker %d abandoned during start-up: %w", pr.Pid, ctx.Err())
		}
		reason := fmt.Sprintf("worker %d did not become ready within %s: %v", pr.Pid, s.StartupTimeLimit, err)
		id := events.StartupTimeout
		if st := pr.Exit(); st != nil && errors.Is(err, proc.ErrExited) {
			reason = fmt.Sprintf("worker %d exited during start-up (%s)", pr.Pid, st)
			id = events.WorkerCrash
			p.stats.crashed()
		}
		p.events.Record(events.Event{ID: id, Pool: s.Name, PID: pr.Pid, Reason: reason})
		if tail := p.logTail(); tail != "" {
			reason += "; last output: " + tail
		}
		return nil, errors.New(reason)
	}
	handed = true
	if unixSock { // its connections are made on its first request (target.go)
		w.target.set("unix", sockPath, w.sock.DialContext)
	} else {
		w.target.set("tcp", addr, nil)
	}
	p.events.Record(events.Event{ID: events.WorkerStarted, Pool: s.Name, PID: w.PID, Worker: strconv.Itoa(id), Reason: "worker ready at " + addr})
	pr.OnDone(func() { p.watch(w) }) // on proc's waiting goroutine: no goroutine per worker
	return w, nil
}

// rootPath is the physical path of the pool's root-most application, the
// working directory a worker gets by default.
func rootPath(s *Settings) string {
	best := ""
	bestLen := 1 << 30
	for _, a := range s.Spec.Applications {
		if len(a.Path) < bestLen {
			best, bestLen = a.PhysicalPath, len(a.Path)
		}
	}
	if fi, err := os.Stat(best); err != nil || !fi.IsDir() {
		return ""
	}
	return best
}

// watch runs once the worker has exited and been reaped (proc's OnDone,
// before the worker's cgroup is removed): it takes the worker out of
// dispatch at once and tells the loop. An exit is expected once the pool
// took the worker out of dispatch (draining, stopping, hung, orphaned).
func (p *Pool) watch(w *Worker) {
	p.mu.Lock()
	p.removeActive(w)
	expected := w.state == WorkerDraining || w.state == WorkerStopping || w.state == WorkerHung || w.state == WorkerOrphaned
	p.setWorkerState(w, WorkerExited)
	p.mu.Unlock()
	w.target.Close()
	w.releaseListen() // its port, or its socket (listen.go)
	p.memoryDone(w)   // its kernel memory watch (memwatch.go)
	select {
	case p.exits <- exitNote{w: w, expected: expected}:
	case <-p.done:
	}
}

// stopWorker stops one worker: SIGTERM to its group, SIGKILL after
// shutdownTimeLimit, always reaped; then whatever is left in its cgroup
// (children that left the group) is killed (jail.go).
func (p *Pool) stopWorker(w *Worker, grace time.Duration) {
	p.mu.Lock()
	if w.state.Alive() {
		p.setWorkerState(w, WorkerStopping)
	}
	p.mu.Unlock()
	killed, err := w.proc.Stop(context.Background(), grace)
	p.jailDone(w.PID)
	w.target.Close()
	switch {
	case err != nil:
		p.logger.Error("stop worker", "pool", p.name, "pid", w.PID, "err", err)
	case killed:
		p.events.Record(events.Event{ID: events.ShutdownTimeout, Pool: p.name, PID: w.PID, Worker: strconv.Itoa(w.ID),
			Reason: fmt.Sprintf("worker %d did not finish within the pool's shutdownTimeLimit and was killed", w.PID)})
	default:
		p.events.Record(events.Event{ID: events.WorkerStopped, Pool: p.name, PID: w.PID, Worker: strconv.Itoa(w.ID), Reason: "worker stopped"})
	}
}

// logTail returns the end of the pool's worker log (the file now at its
// path), to say why a worker failed: its last three lines, at most 200
// bytes, control characters replaced (tailOf, worklog.go), followed by the
// log file's path, where the rest is. Worker output is hostile: the tail
// goes into events (5093 ...) and error messages, so it stays short.
func (p *Pool) logTail() string {
	l, ok := p.log.(interface{ Path() string })
	if !ok {
		return ""
	}
	r, err := os.Open(l.Path())
	if err != nil {
		return ""
	}
	defer r.Close()
	const n = 4096
	if fi, err := r.Stat(); err == nil && fi.Size() > n {
		_, _ = r.Seek(fi.Size()-n, io.SeekStart)
	}
	b, _ := io.ReadAll(io.LimitReader(r, n))
	tail := tailOf(b, tailLines, tailBytes)
	if tail == "" {
		return ""
	}
	return tail + " (worker log " + l.Path() + ")"
}

// Forward relays the request to the worker; see forward.Target.Forward.
func (w *Worker) Forward(rw http.ResponseWriter, r *http.Request) error {
	return w.target.get().Forward(rw, r)
}

// TCPLevel reports whether the pool resets connections instead of
// answering 503 when it cannot serve (failure.loadBalancerCapabilities).
func (p *Pool) TCPLevel() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.settings.TCPLevel
}

// Hung reports whether the host declared the worker hung (a failed health
// check) and took it away: a request it never answered may be retried on
// another worker when retrying is safe.
func (p *Pool) Hung(w *Worker) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return w.hung
}
