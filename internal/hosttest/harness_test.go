package hosttest

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/poolctl/poolctl/hostapi"
	"github.com/poolctl/poolctl/internal/nettest"
)

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// TestMain runs the tests and then removes the binaries they built.
// Unless -test.parallel is given, up to three times GOMAXPROCS tests run
// at once: most of a test's time is spent waiting for processes (a
// worker to start, a timer to fire), not on a CPU.
func TestMain(m *testing.M) {
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		_ = flag.Set("test.parallel", strconv.Itoa(3*runtime.GOMAXPROCS(0)))
	}
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binaries builds poolctl and the test worker once per test run.
func binaries(t *testing.T) (poolctl, testworker string) {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "poolctl-hosttest-bin")
		if buildErr != nil {
			return
		}
		// Workers run under per-pool identities when the tests run as
		// root: they must be able to execute the binaries.
		if buildErr = os.Chmod(binDir, 0o755); buildErr != nil {
			return
		}
		// go test puts its own GOROOT/bin first on the PATH.
		gobin, err := exec.LookPath("go")
		if err != nil {
			buildErr = fmt.Errorf("no go command: %w", err)
			return
		}
		// One go build for both: it compiles their packages in parallel
		// and links poolctl and testworker into binDir.
		pkgs := []string{"github.com/poolctl/poolctl", "github.com/poolctl/poolctl/testdata/workers/testworker"}
		cmd := exec.Command(gobin, append([]string{"build", "-o", binDir + string(filepath.Separator)}, pkgs...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build %v: %w\n%s", pkgs, err, out)
			return
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(binDir, "poolctl"), filepath.Join(binDir, "testworker")
}

// hostEnv is one isolated host: its store, socket, state directory and
// site port.
type hostEnv struct {
	t          *testing.T
	dir        string
	store      string
	socket     string
	state      string
	bin        string
	testworker string
	port       int
	host       *exec.Cmd
	hostDone   chan error
	hostLog    *bytes.Buffer
	logMu      *sync.Mutex
}

func newHostEnv(t *testing.T) *hostEnv {
	t.Helper()
	bin, tw := binaries(t)
	dir := t.TempDir()
	// t.TempDir's parent is 0700: let workers running under per-pool
	// identities reach the content and state below it.
	if err := os.Chmod(filepath.Dir(dir), 0o711); err != nil {
		t.Fatal(err)
	}
	sockDir, err := os.MkdirTemp("", "pch")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	e := &hostEnv{t: t, dir: dir, store: filepath.Join(dir, "etc", "applicationHost.toml"),
		socket: filepath.Join(sockDir, "host.sock"), state: filepath.Join(dir, "state"),
		bin: bin, testworker: tw, port: freePort(t), hostLog: &bytes.Buffer{}, logMu: &sync.Mutex{}}
	// The default site listens on a free loopback port, not 8080.
	e.run("set", "site", "Default Web Site", fmt.Sprintf("/bindings:http/127.0.0.1:%d:", e.port))
	t.Cleanup(e.stopHost)
	return e
}

// freePort returns a loopback TCP port that nothing listens on, for a
// listener the test or its host opens later (see nettest.FreePort).
func freePort(t *testing.T) int { t.Helper(); return nettest.FreePort(t) }

// poolctl runs the tool against this host's store and socket.
func (e *hostEnv) poolctl(args ...string) (stdout, stderr string, code int) {
	full := append([]string{"--config", e.store, "--socket", e.socket, "--timeout", "60s"}, args...)
	cmd := exec.Command(e.bin, full...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		e.t.Fatalf("poolctl %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

// run runs the tool and fails the test unless it exits 0.
func (e *hostEnv) run(args ...string) string {
	e.t.Helper()
	out, errs, code := e.poolctl(args...)
	if code != 0 {
		e.t.Fatalf("poolctl %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// addTestPool adds a pool running the test worker with extra settings,
// and an application at path of the default site in it.
func (e *hostEnv) addTestPool(name, path string, settings ...string) {
	e.t.Helper()
	args := append([]string{"add", "apppool", "/name:" + name, "/processModel.command:" + e.testworker,
		"/processModel.pingPath:/health", "/processModel.startupTimeLimit:00:00:20", "/processModel.shutdownTimeLimit:00:00:10"}, settings...)
	e.run(args...)
	if path == "/" {
		e.run("set", "app", "Default Web Site/", "/applicationPool:"+name)
		return
	}
	e.run("add", "app", "/site.name:Default Web Site", "/path:"+path, "/physicalPath:"+e.dir, "/applicationPool:"+name)
}

type syncWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (s syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// startHost starts `poolctl host` and waits until it answers on its socket
// and listens on the site port.
func (e *hostEnv) startHost() {
	e.t.Helper()
	e.launchHost()
	waitFor(e.t, 15*time.Second, "site port listening", func() error {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", e.port), time.Second)
		if err != nil {
			return err
		}
		c.Close()
		return nil
	})
}

// launchHost starts `poolctl host` with extra host flags and waits until it
// answers on its control socket and has applied the store once (its
// listeners listen; AlwaysRunning workers may still be starting).
func (e *hostEnv) launchHost(hostFlags ...string) {
	e.t.Helper()
	e.spawnHost(nil, hostFlags...)
	waitFor(e.t, 15*time.Second, "host ready", func() error {
		select {
		case err := <-e.hostDone:
			e.hostDone <- err
			return fmt.Errorf("host exited: %v\n%s", err, e.log())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		// The socket answers before the first apply (host/pipeline.go):
		// wait for that apply too, as tests expect the store applied.
		st, err := hostapi.NewClient(e.socket).Status(ctx)
		if err == nil && st.Generation == 0 {
			err = fmt.Errorf("the first apply has not ended: %+v", st)
		}
		return err
	})
}

func (e *hostEnv) log() string {
	e.logMu.Lock()
	defer e.logMu.Unlock()
	return e.hostLog.String()
}

// stopHost stops the host with SIGTERM and waits for it.
func (e *hostEnv) stopHost() {
	if e.host == nil {
		return
	}
	_ = e.host.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.hostDone:
	case <-time.After(60 * time.Second):
		_ = e.host.Process.Kill()
		<-e.hostDone
		e.t.Errorf("host did not stop within 60s after SIGTERM\n%s", e.log())
	}
	e.host = nil
}

// killHost kills the host with SIGKILL.
func (e *hostEnv) killHost() {
	_ = e.host.Process.Kill()
	<-e.hostDone
	e.host = nil
}

// url is the address of path on the default site.
func (e *hostEnv) url(path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", e.port, path)
}

var client = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

// get fetches path and returns status and body.
func (e *hostEnv) get(path string) (int, string, http.Header) {
	e.t.Helper()
	resp, err := client.Get(e.url(path))
	if err != nil {
		e.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// workers returns the pids of a pool's workers from `list wp`.
func (e *hostEnv) workers(pool string) []int {
	out := e.run("list", "wp", "/apppool.name:"+pool, "/text:wp.name")
	var pids []int
	for _, f := range strings.Fields(out) {
		n, err := strconv.Atoi(f)
		if err == nil {
			pids = append(pids, n)
		}
	}
	return pids
}

// minGuard is the shortest deadline the waits of these tests allow: a
// deadline is a guard against a hang, never a check of speed, and a
// machine with other work running can take many times longer than an
// idle one for a step that takes milliseconds there.
const minGuard = 30 * time.Second

// guard turns the deadline a test names for a wait into the one it gets:
// three times as long, and at least minGuard.
func guard(d time.Duration) time.Duration {
	return max(3*d, minGuard)
}

// waitFor polls cond until it returns nil or the deadline (see guard)
// passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() error) {
	t.Helper()
	d = guard(d)
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	delay := 10 * time.Millisecond
	for {
		err := cond()
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not within %s: %v", what, d, err)
		case <-time.After(delay):
		}
		delay = min(delay*2, 200*time.Millisecond)
	}
}

// alive reports whether a process exists (and is not a zombie).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// procState returns the state letter of /proc/<pid>/stat.
func procState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return ""
	}
	return s[i+2 : i+3]
}

// hold stops processes with SIGSTOP, so that the requests they were sent
// stay in flight for as long as the test needs to look at them, however
// slow the machine; the returned release (also run at cleanup) resumes
// them with SIGCONT. Holding is cheap and certain where a request that
// sleeps a while races the test's look at it.
// It returns once every thread of the processes is stopped (see
// waitStopped).
func (e *hostEnv) hold(pids ...int) (release func()) {
	e.t.Helper()
	for _, pid := range pids {
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			e.t.Fatalf("SIGSTOP %d: %v", pid, err)
		}
	}
	for _, pid := range pids {
		waitStopped(e.t, pid)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			for _, pid := range pids {
				_ = syscall.Kill(pid, syscall.SIGCONT)
			}
		})
	}
	e.t.Cleanup(release)
	return release
}

// heavySem lets one load test (a load generator of many connections
// against a host) run at a time, beside any number of light tests.
var heavySem = make(chan struct{}, 1)

// heavy marks a parallel test as a load test: it waits until no other
// load test runs, and lets the next one go when it ends. Load tests are
// meant to pass on a busy machine, and do; this only keeps the suite from
// being its own worst load.
func heavy(t *testing.T) {
	t.Helper()
	heavySem <- struct{}{}
	t.Cleanup(func() { <-heavySem })
}

// waitStopped waits until every thread of pid is stopped: kill returns
// before a SIGSTOP has taken effect, and a busy machine can let the
// process answer a request in between.
func waitStopped(t *testing.T, pid int) {
	t.Helper()
	waitFor(t, 10*time.Second, fmt.Sprintf("process %d stopped", pid), func() error {
		tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
		if err != nil {
			return err
		}
		for _, task := range tasks {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/stat", pid, task.Name()))
			if err != nil {
				continue // the thread has gone
			}
			s := string(b)
			i := strings.LastIndexByte(s, ')')
			if i < 0 || i+2 >= len(s) || (s[i+2] != 'T' && s[i+2] != 't') {
				return fmt.Errorf("thread %s is not stopped: %q", task.Name(), s)
			}
		}
		return nil
	})
}

// spawnHost starts the host process with env added to this process's
// environment and its output in the host log, and does not wait for it.
func (e *hostEnv) spawnHost(env []string, hostFlags ...string) {
	e.t.Helper()
	args := append([]string{"--config", e.store, "--socket", e.socket, "host", "--state-dir", e.state, "--log-level", "debug",
		"--worker-ports", nettest.WorkerPorts()}, hostFlags...)
	cmd := exec.Command(e.bin, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.Stdout = syncWriter{e.logMu, e.hostLog}
	cmd.Stderr = syncWriter{e.logMu, e.hostLog}
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.host = cmd
	e.hostDone = make(chan error, 1)
	go func() { e.hostDone <- cmd.Wait() }()
}
