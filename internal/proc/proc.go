// Package proc holds the low-level process primitives of the poolctl host:
// starting a worker in its own process group so that it dies with the host,
// signalling and stopping the whole group, sampling resource use from /proc,
// and probing a worker until it is ready.
//
// The package is Linux-only: it relies on process groups, the parent-death
// signal (prctl PR_SET_PDEATHSIG), pidfds and waitid(2), and the /proc file
// system.
//
// # Lifetime of a process group
//
// [Start] puts the worker in a new process group whose id is the worker's
// pid. When the worker (the group leader) exits, for whatever reason, every
// process still left in its group is sent SIGKILL before the leader is
// reaped, so a worker never leaves orphans behind (the same rule as systemd's
// KillMode=control-group when a service's main process exits). A worker that
// runs children should therefore wait for them before it exits. Killing the
// remains while the leader is still an unreaped zombie is what makes group
// signals safe: the group id cannot be reused until the leader is reaped.
//
// The package reaps its own children (a pidfd or waitid(P_PID, pid) per
// child). The rest of the program must not reap with wait(-1) (as a
// subreaper would), or exit states get lost.
package proc

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ioDrainLimit bounds how long the reaper waits, after the worker has exited
// and its group has been killed, for the stdout/stderr copiers to reach EOF.
// Only a process that left the group (setsid) while keeping the pipes open
// can make it expire; the pipes are then closed under it.
const ioDrainLimit = time.Second

// maxEINTR bounds the retries of an interrupted waitid.
const maxEINTR = 1000

// Spec describes a process to start.
type Spec struct {
	// Path is the program. Without a slash it is looked up in the PATH of
	// Env when Env sets PATH, otherwise in the host's PATH; only absolute
	// PATH entries are searched. A relative path with a slash is relative
	// to Dir.
	Path string
	// Args are the arguments after the program name.
	Args []string
	// Dir is the working directory ("" = the host's).
	Dir string
	// Env is the complete environment; nil means an empty one (nothing is
	// inherited from the host).
	Env []string
	// Stdout receives the process's standard output (e.g. a log file); nil
	// discards it. A writer that is not an *os.File is fed by a goroutine
	// through a pipe, and must be safe for concurrent use if it is shared
	// with other processes.
	Stdout io.Writer
	// Stderr receives the standard error, like Stdout. When it is the same
	// writer as Stdout, both streams share one pipe.
	Stderr io.Writer
	// Credential runs the process as this uid/gid/groups; nil runs it as
	// the host. Switching identity needs root (or CAP_SETUID/CAP_SETGID).
	Credential *syscall.Credential
	// ExtraFiles are open files the process inherits as fds 3, 4, ... (a
	// listening socket, the program itself for /proc/self/fd/N); the
	// caller closes its copies after Start.
	ExtraFiles []*os.File
	// Arg0 is argv[0]; "" means Path.
	Arg0 string
	// CgroupFD, when > 0, is an open cgroup v2 directory the process is
	// started in (clone3 CLONE_INTO_CGROUP, Linux ≥ 5.7), so that it is
	// born there and cannot fork before being placed.
	CgroupFD int
}

// Process is a started process in its own process group; the group id is
// Pid. Its methods are safe for concurrent use.
type Process struct {
	// Pid is the process id, which is also its process group id.
	Pid int
	// Started is when the process was started.
	Started time.Time

	// cmd is kept only while os/exec copies the output (no hub): its
	// Wait waits for the copying goroutines. Otherwise only the process
	// is kept (osp): the command's environment, arguments and attributes,
	// kilobytes per worker, are not needed once it has started.
	cmd  *exec.Cmd
	osp  *os.Process
	out  *childOutput // its output pipes (outputs.go)
	done chan struct{}

	mu     sync.Mutex
	exited bool             // the leader has exited (it may not be reaped yet)
	reaped bool             // done is closed (or about to be)
	state  *os.ProcessState // set just before done is closed
	onDone []func()         // run by wait once done is closed (OnDone)
}

// Start starts the process in a new process group with SIGKILL as its
// parent-death signal. The fork happens on the spawner's thread
// (spawner.go), which lives as long as the host, so the child dies with the
// host even when the host is killed with SIGKILL (and never when a Go
// runtime thread merely exits).
//
// The process's pidfd is then watched by the hub (outhub.go), without a
// goroutine of its own (where there is no hub: a goroutine parked on the
// pidfd, pidfd.go; on kernels without pidfds, one in a blocking waitid):
// when it exits, the rest of its group is killed, it is reaped, its output
// is drained and [Process.Done] is closed, on a goroutine that ends there.
func Start(spec Spec) (*Process, error) {
	return start(spec, pidfdAvailable())
}

// start is Start; usePidfd false makes it wait in a blocking waitid, as on
// kernels without pidfds.
func start(spec Spec, usePidfd bool) (*Process, error) {
	if spec.Path == "" {
		return nil, errors.New("start process: empty path")
	}
	path, err := lookPath(spec.Path, spec.Env)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", spec.Path, err)
	}
	env := spec.Env
	if env == nil {
		env = []string{}
	}
	cmd := &exec.Cmd{
		Path: path,
		Args: append([]string{cmp.Or(spec.Arg0, spec.Path)}, spec.Args...),
		Dir:  spec.Dir,
		Env:  env,
		SysProcAttr: &syscall.SysProcAttr{
			Setpgid:    true,
			Pdeathsig:  syscall.SIGKILL,
			Credential: spec.Credential,
		},
		WaitDelay:  ioDrainLimit,
		ExtraFiles: spec.ExtraFiles,
	}
	if spec.CgroupFD > 0 {
		cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, spec.CgroupFD
	}
	out, err := wireOutput(spec.Stdout, spec.Stderr) // outputs.go
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", spec.Path, err)
	}
	cmd.Stdout, cmd.Stderr = out.stdout, out.stderr
	err = spawn(cmd)
	out.started()
	if err != nil {
		out.abort()
		return nil, fmt.Errorf("start %s: %w", spec.Path, err)
	}
	p := &Process{Pid: cmd.Process.Pid, Started: time.Now(), osp: cmd.Process, out: out, done: make(chan struct{})}
	if out.copies() {
		p.cmd = cmd
	}
	// Nothing reaps the child before p.wait does, so its pid still names
	// it here, if only as a zombie.
	var pidfd *os.File
	if usePidfd {
		// Best: the hub watches its pidfd, and p.wait runs once it has
		// exited (and then returns at once from its waitid).
		if hub, err := theHub(); err == nil && hub.watchExit(p.Pid, func() { p.wait(nil) }) == nil {
			return p, nil
		}
		pidfd, _ = openPidfd(p.Pid) // nil on failure: the blocking wait
	}
	go p.wait(pidfd)
	return p, nil
}

// wait supervises the process until it is reaped: it waits for the exit
// on pidfd (or, when pidfd is nil, in a blocking waitid, which returns at
// once when the hub saw the exit), kills what is left of the group, reaps
// the leader and drains the output.
func (p *Process) wait(pidfd *os.File) {
	// Wait for the exit without reaping, so that the process group cannot
	// be reused while its remains are killed.
	var werr error
	if pidfd == nil || waitExitedPidfd(pidfd, p.Pid) != nil {
		werr = waitExited(p.Pid) // returns at once if it has exited
	}
	p.mu.Lock()
	p.exited = true
	if werr == nil {
		// The group may hold children the worker left behind; the
		// leader's zombie keeps the group id reserved meanwhile.
		_ = syscall.Kill(-p.Pid, syscall.SIGKILL)
	}
	p.mu.Unlock()

	// Reap and drain the output. Wait's error is deliberately dropped: a
	// non-zero exit is in the state, and an ErrWaitDelay only says that an
	// escaped process held the pipes (of os/exec; the hub's are drained
	// within the same limit).
	var state *os.ProcessState
	if p.cmd != nil {
		_ = p.cmd.Wait()
		state = p.cmd.ProcessState
	} else {
		state, _ = p.osp.Wait() // nil if another part of the program reaped it
	}
	p.out.drain(ioDrainLimit)

	p.mu.Lock()
	p.state = state
	p.reaped = true
	after := p.onDone
	p.onDone = nil
	p.mu.Unlock()
	close(p.done)
	for i := len(after) - 1; i >= 0; i-- {
		after[i]()
	}
}

// OnDone has f called once the process has been reaped, after Done is
// closed, on the goroutine that waited for it: the caller needs no
// goroutine of its own to wait for the exit. Functions run one after the
// other, the one registered last first (as deferred calls do), so each
// must return promptly; a function registered after the process was
// reaped runs at once on a goroutine of its own.
func (p *Process) OnDone(f func()) {
	p.mu.Lock()
	if !p.reaped {
		p.onDone = append(p.onDone, f)
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	go f()
}

// waitExited blocks until the child pid has exited, leaving it a zombie. It
// holds an OS thread while it waits: the fallback of waitExitedPidfd.
func waitExited(pid int) error {
	var info unix.Siginfo
	for range maxEINTR {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if !errors.Is(err, unix.EINTR) {
			if err != nil {
				return fmt.Errorf("waitid %d: %w", pid, err)
			}
			return nil
		}
	}
	return fmt.Errorf("waitid %d: %w", pid, unix.EINTR)
}

// lookPath resolves a program name without a slash in the PATH of env, or
// the host's PATH when env has none.
func lookPath(file string, env []string) (string, error) {
	if strings.Contains(file, "/") {
		return file, nil
	}
	pathList, ok := "", false
	for _, kv := range env {
		if v, found := strings.CutPrefix(kv, "PATH="); found {
			pathList, ok = v, true // the last one wins, as in getenv
		}
	}
	if !ok {
		pathList = os.Getenv("PATH")
	}
	for _, dir := range filepath.SplitList(pathList) {
		if !filepath.IsAbs(dir) {
			continue // never run a program from a relative PATH entry
		}
		candidate := filepath.Join(dir, file)
		fi, err := os.Stat(candidate)
		if err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return candidate, nil
		}
	}
	return "", fmt.Errorf("%q not found in PATH: %w", file, exec.ErrNotFound)
}

// Done is closed when the process has exited and been reaped (and its output
// has been drained, which takes at most about a second after the exit).
func (p *Process) Done() <-chan struct{} { return p.done }

// Exit returns the exit state after Done (nil before). It is also nil after
// Done if the state could not be collected, which happens only when another
// part of the program reaped the child.
func (p *Process) Exit() *os.ProcessState {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state
}

// Signal sends sig to the whole process group (children included). Once the
// process has exited it sends nothing and returns an error wrapping
// os.ErrProcessDone.
func (p *Process) Signal(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.exited {
		return fmt.Errorf("signal %v to process group %d: %w", sig, p.Pid, os.ErrProcessDone)
	}
	// The leader is not reaped before p.exited is set under p.mu, so the
	// group id still names this group here.
	err := syscall.Kill(-p.Pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal %v to process group %d: %w", sig, p.Pid, os.ErrProcessDone)
	}
	if err != nil {
		return fmt.Errorf("signal %v to process group %d: %w", sig, p.Pid, err)
	}
	return nil
}

// Stop asks the group to end with SIGTERM, waits up to grace, then sends
// SIGKILL to the group, and returns once the process is reaped (or ctx is
// done). It reports whether SIGKILL was needed. Stopping an exited process
// is not an error.
//
// SIGTERM is followed by SIGCONT, so a suspended group can act on it. A
// grace of zero or less sends SIGKILL at once. If ctx is done before grace
// has passed, Stop sends SIGKILL without waiting further, so the process
// still ends and is reaped, and returns ctx's error. Reaping never depends on
// Stop: the goroutine started by [Start] reaps the process whenever it exits.
func (p *Process) Stop(ctx context.Context, grace time.Duration) (killed bool, err error) {
	select {
	case <-p.done:
		return false, nil
	default:
	}
	if grace > 0 {
		if err := p.Signal(syscall.SIGTERM); err != nil {
			if errors.Is(err, os.ErrProcessDone) {
				return false, p.waitDone(ctx)
			}
			return false, fmt.Errorf("stop: %w", err)
		}
		if err := p.Signal(syscall.SIGCONT); err != nil && !errors.Is(err, os.ErrProcessDone) {
			return false, fmt.Errorf("stop: %w", err)
		}
		timer := time.NewTimer(grace)
		defer timer.Stop()
		select {
		case <-p.done:
			return false, nil
		case <-timer.C:
		case <-ctx.Done():
		}
	}
	if err := p.Signal(syscall.SIGKILL); err != nil {
		if errors.Is(err, os.ErrProcessDone) {
			return false, p.waitDone(ctx)
		}
		return false, fmt.Errorf("stop: %w", err)
	}
	return true, p.waitDone(ctx)
}

// waitDone waits until the process is reaped or ctx is done.
func (p *Process) waitDone(ctx context.Context) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop process %d: waiting for it to be reaped: %w", p.Pid, ctx.Err())
	}
}

// Suspend sends SIGSTOP to the group.
func (p *Process) Suspend() error { return p.Signal(syscall.SIGSTOP) }

// Resume sends SIGCONT to the group.
func (p *Process) Resume() error { return p.Signal(syscall.SIGCONT) }
