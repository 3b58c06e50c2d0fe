package proc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Environment switches that turn the test binary into a fake host (see
// fakeHost).
const (
	envFakeHost    = "POOLCTL_PROC_TEST_FAKEHOST" // the mode: plain, churn or control
	envFakeSleeper = "POOLCTL_PROC_TEST_SLEEPER"  // the sleeper binary
	envFakeUID     = "POOLCTL_PROC_TEST_UID"      // run the worker as this uid and gid
)

var (
	sleeperOnce sync.Once
	sleeperDir  string
	sleeperBin  string
	sleeperErr  error
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(envFakeHost); mode != "" {
		if err := fakeHost(mode); err != nil {
			fmt.Println("error:", err)
		}
		return
	}
	// Returning from TestMain exits with m.Run's result.
	m.Run()
	if sleeperDir != "" {
		_ = os.RemoveAll(sleeperDir)
	}
}

// sleeper returns the path of the sleeper helper, building it once per test
// run into a directory that any uid can read (for the credential tests).
func sleeper(t *testing.T) string {
	t.Helper()
	sleeperOnce.Do(func() {
		dir, err := os.MkdirTemp("", "proc-test-")
		if err != nil {
			sleeperErr = err
			return
		}
		sleeperDir = dir
		if err := os.Chmod(dir, 0o755); err != nil {
			sleeperErr = err
			return
		}
		// go test puts its own GOROOT/bin first on the PATH.
		goBin, err := exec.LookPath("go")
		if err != nil {
			sleeperErr = fmt.Errorf("no go command: %w", err)
			return
		}
		bin := filepath.Join(dir, "sleeper")
		out, err := exec.Command(goBin, "build", "-o", bin, "./testdata/sleeper").CombinedOutput()
		if err != nil {
			sleeperErr = fmt.Errorf("build sleeper: %w\n%s", err, out)
			return
		}
		sleeperBin = bin
	})
	if sleeperErr != nil {
		t.Fatal(sleeperErr)
	}
	return sleeperBin
}

// outputBuffer is an io.Writer that collects output and lets a test wait
// for a pattern to appear.
type outputBuffer struct {
	mu      sync.Mutex
	buf     strings.Builder
	changed chan struct{} // closed and replaced on every write
}

func newOutputBuffer() *outputBuffer {
	return &outputBuffer{changed: make(chan struct{})}
}

func (o *outputBuffer) Write(b []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf.Write(b)
	close(o.changed)
	o.changed = make(chan struct{})
	return len(b), nil
}

func (o *outputBuffer) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// waitFor waits until the output matches re and returns the submatches.
func (o *outputBuffer) waitFor(t *testing.T, re *regexp.Regexp, timeout time.Duration) []string {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for { // bounded by the deadline
		o.mu.Lock()
		m := re.FindStringSubmatch(o.buf.String())
		changed := o.changed
		o.mu.Unlock()
		if m != nil {
			return m
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("no %q in output within %v; output:\n%s", re, timeout, o.String())
		}
	}
}

var (
	readyRE = regexp.MustCompile(`(?m)^ready$`)
	childRE = regexp.MustCompile(`(?m)^child (\d+)$`)
)

// startSleeper starts the sleeper with args, waits for it to be set up and
// makes sure it is killed at the end of the test.
func startSleeper(t *testing.T, args ...string) (*Process, *outputBuffer) {
	t.Helper()
	return startSpec(t, Spec{Path: sleeper(t), Args: args})
}

// startSpec starts spec with its output captured, waits for "ready" and
// makes sure the process is killed at the end of the test.
func startSpec(t *testing.T, spec Spec) (*Process, *outputBuffer) {
	t.Helper()
	out := newOutputBuffer()
	spec.Stdout, spec.Stderr = out, out
	p, err := Start(spec)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := p.Stop(ctx, 0); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	out.waitFor(t, readyRE, 10*time.Second)
	return p, out
}

// waitDone waits for p to be reaped.
func waitDone(t *testing.T, p *Process, timeout time.Duration) {
	t.Helper()
	select {
	case <-p.Done():
	case <-time.After(timeout):
		t.Fatalf("process %d not done within %v", p.Pid, timeout)
	}
}

// identity names one process across pid reuse.
type identity struct {
	pid       int
	starttime uint64
}

// identify reads pid's start time; the process must exist.
func identify(t *testing.T, pid int) identity {
	t.Helper()
	st, err := readStat(pid)
	if err != nil {
		t.Fatalf("identify %d: %v", pid, err)
	}
	return identity{pid, st.starttime}
}

// status reports the process's state letter, or 0 when it no longer exists
// (its pid is free or now names another process).
func (id identity) status(t *testing.T) byte {
	t.Helper()
	st, err := readStat(id.pid)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errVanished) {
		return 0
	}
	if err != nil {
		t.Fatalf("stat %d: %v", id.pid, err)
	}
	if st.starttime != id.starttime {
		return 0
	}
	return st.state
}

// dead reports a state of a process that has ended: gone, or a zombie that
// its new parent has not reaped yet (pid 1 of a container may never reap).
func dead(state byte) bool { return state == 0 || state == 'Z' || state == 'X' }

// waitState polls the process's state until cond holds or timeout passes,
// and returns the last state.
func (id identity) waitState(t *testing.T, what string, cond func(byte) bool, timeout time.Duration) byte {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for { // bounded by the deadline
		s := id.status(t)
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d: not %s within %v (state %q)", id.pid, what, timeout, s)
		}
		<-tick.C
	}
}

// fakeHost plays the host in a child copy of the test binary: it starts the
// sleeper, prints "worker <pid>" and blocks until its stdin closes (or a
// minute passes), so that the test can kill it. Modes:
//
//   - plain: just that.
//   - churn: after the start, run the GC and make the runtime retire threads
//     for a while (goroutines that lock their thread and exit), then print
//     "churned <n> alive" (or "churned <n> dead" if the worker died).
//   - control: fork with Pdeathsig from a goroutine that locks its thread
//     and then exits without unlocking (what Start must never do), and
//     print "died <status>" when the worker dies, or "survived".
//
// The fake host first locks its main goroutine to the main thread. The
// runtime never retires the main thread (a locked goroutine that exits there
// only wedges it), so a fork that happened there would pass these tests
// whatever Start does; the lock pushes every other goroutine, and so every
// fork, onto threads that can be retired.
func fakeHost(mode string) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	spec := Spec{Path: os.Getenv(envFakeSleeper), Args: []string{"-max-life", "60s"}}
	if s := os.Getenv(envFakeUID); s != "" {
		id, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return err
		}
		spec.Credential = &syscall.Credential{Uid: uint32(id), Gid: uint32(id)}
	}
	switch mode {
	case "plain", "churn":
		// Start from a goroutine other than main, as the pool code will:
		// its thread can be retired once the goroutine is gone.
		var p *Process
		var err error
		started := make(chan struct{})
		go func() {
			defer close(started)
			p, err = Start(spec)
		}()
		<-started
		if err != nil {
			return err
		}
		fmt.Printf("worker %d\n", p.Pid)
		if mode == "churn" {
			n := churnThreads(1500*time.Millisecond, p.Done())
			select {
			case <-p.Done():
				fmt.Printf("churned %d dead %v\n", n, p.Exit())
			default:
				fmt.Printf("churned %d alive\n", n)
			}
		}
	case "control":
		return controlHost(spec)
	default:
		return fmt.Errorf("unknown fake host mode %q", mode)
	}
	blockOnStdin(time.Minute)
	return nil
}

// churnThreads runs the GC and, for about d, goroutines that lock their OS
// thread and exit without unlocking, which makes the runtime retire their
// threads. It stops early when done is closed, and returns how many threads
// were retired.
func churnThreads(d time.Duration, done <-chan struct{}) int {
	runtime.GC()
	deadline := time.Now().Add(d)
	n := 0
	for n < 1_000_000 && time.Now().Before(deadline) && !isClosed(done) {
		var wg sync.WaitGroup
		for range 2 * runtime.GOMAXPROCS(0) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				runtime.LockOSThread()
			}()
			n++
		}
		wg.Wait()
	}
	runtime.GC()
	return n
}

// controlHost shows what Start guards against: a child whose forking thread
// exits gets its parent-death signal although the host lives on.
func controlHost(spec Spec) error {
	cmd := exec.Command(spec.Path, spec.Args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	started := make(chan error)
	go func() {
		runtime.LockOSThread()
		// No unlock: the thread exits with this goroutine.
		started <- cmd.Start()
	}()
	if err := <-started; err != nil {
		return err
	}
	fmt.Printf("worker %d\n", cmd.Process.Pid)
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case <-waited:
		fmt.Printf("died %v\n", cmd.ProcessState)
	case <-time.After(10 * time.Second):
		fmt.Println("survived")
		_ = cmd.Process.Kill()
		<-waited
	}
	return nil
}

// blockOnStdin returns when stdin reaches EOF or after limit.
func blockOnStdin(limit time.Duration) {
	eof := make(chan struct{})
	go func() {
		r := bufio.NewReader(os.Stdin)
		_, _ = r.Discard(1 << 20)
		close(eof)
	}()
	select {
	case <-eof:
	case <-time.After(limit):
	}
}

// startFakeHost runs the test binary as a fake host in mode; extraEnv is
// added to its environment. The host is killed at the end of the test.
func startFakeHost(t *testing.T, mode string, extraEnv ...string) (*exec.Cmd, *outputBuffer) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	out := newOutputBuffer()
	cmd := exec.Command(self, "-test.run=^$")
	cmd.Env = append(os.Environ(), envFakeHost+"="+mode, envFakeSleeper+"="+sleeper(t))
	cmd.Env = append(cmd.Env, extraEnv...)
	cmd.Stdout, cmd.Stderr = out, out
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd, out
}
