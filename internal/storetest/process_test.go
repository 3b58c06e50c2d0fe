package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/poolctl/poolctl/store"
)

// poolctlBin is the binary built by TestMain; buildErr says why there is
// none.
var (
	poolctlBin string
	buildErr   error
)

// TestMain builds the real poolctl binary once for every test here. A
// failed build fails each test with the compiler's output rather than
// exiting early, so only main.go calls os.Exit.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "storetest-bin-")
	if err != nil {
		buildErr = err
	} else {
		defer os.RemoveAll(dir)
		poolctlBin, buildErr = build(dir)
	}
	m.Run()
}

func build(dir string) (string, error) {
	// go test puts its own GOROOT/bin first on the PATH.
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("no go tool on PATH: %w", err)
	}
	bin := filepath.Join(dir, "poolctl")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, goTool, "build", "-o", bin, "github.com/poolctl/poolctl").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build github.com/poolctl/poolctl: %w\n%s", err, out)
	}
	return bin, nil
}

// binary returns the poolctl binary, failing t when it could not be built.
func binary(t *testing.T) string {
	t.Helper()
	if buildErr != nil {
		t.Fatalf("cannot build poolctl: %v", buildErr)
	}
	return poolctlBin
}

// fixture is a store in a test's temporary directory and the binary that
// edits it.
type fixture struct {
	t    *testing.T
	bin  string
	dir  string
	path string
}

func newFixture(t *testing.T) *fixture {
	dir := t.TempDir()
	return &fixture{t: t, bin: binary(t), dir: dir, path: filepath.Join(dir, "applicationHost.toml")}
}

// command returns poolctl with args on the fixture's store. The control
// socket points at a path that does not exist, so no host is told.
func (f *fixture) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, f.bin, append([]string{"--config", f.path}, args...)...)
	cmd.Env = append(os.Environ(), "POOLCTL_CONFIG=", "POOLCTL_TIMEOUT=", "POOLCTL_SOCKET="+filepath.Join(f.dir, "no-host.sock"))
	return cmd
}

// run runs poolctl to completion and returns its output and exit code.
func (f *fixture) run(ctx context.Context, args ...string) (stdout, stderr string, code int) {
	f.t.Helper()
	cmd := f.command(ctx, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.Exited():
		code = ee.ExitCode()
	default:
		f.t.Fatalf("poolctl %s: %v (stderr: %s)", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), errb.String(), code
}

// mustRun runs poolctl and fails the test unless it exits 0.
func (f *fixture) mustRun(ctx context.Context, args ...string) string {
	f.t.Helper()
	out, errOut, code := f.run(ctx, args...)
	if code != 0 {
		f.t.Fatalf("poolctl %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// parse reads the store file and parses it in-process.
func (f *fixture) parse() (*store.Config, []byte) {
	f.t.Helper()
	data, err := os.ReadFile(f.path)
	if err != nil {
		f.t.Fatalf("read store: %v", err)
	}
	c, err := store.Parse(data)
	if err != nil {
		f.t.Fatalf("store is not valid (%d bytes): %v", len(data), err)
	}
	return c, data
}

// tempFiles lists the temporary files an atomic write leaves behind when
// its writer dies before the rename.
func (f *fixture) tempFiles() []string {
	f.t.Helper()
	names, err := filepath.Glob(filepath.Join(f.dir, "."+filepath.Base(f.path)+".tmp-*"))
	if err != nil {
		f.t.Fatal(err)
	}
	return names
}

// jsonPool is the part of 'list apppool /json' these tests read.
type jsonPool struct {
	Name                 string `json:"name"`
	QueueLength          uint64 `json:"queueLength"`
	EnvironmentVariables []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"environmentVariables"`
}

// TestConcurrentWriters starts 100 writers at once, each changing its own
// pool, and requires every change to be in the store afterwards: the lock
// serializes read-modify-write, so no writer overwrites another's update.
func TestConcurrentWriters(t *testing.T) {
	const writers = 100
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	f := newFixture(t)

	start := time.Now()
	for i := range writers {
		f.mustRun(ctx, "add", "apppool", fmt.Sprintf("/name:P%03d", i))
	}
	t.Logf("seeded %d pools in %v", writers, time.Since(start).Round(time.Millisecond))

	start = time.Now()
	cmds := make([]*exec.Cmd, writers)
	stderrs := make([]bytes.Buffer, writers)
	for i := range cmds {
		cmds[i] = f.command(ctx, "set", "apppool", fmt.Sprintf("P%03d", i),
			fmt.Sprintf("/queueLength:%d", 1000+i),
			fmt.Sprintf("/+environmentVariables.[name='W',value='%d']", i))
		cmds[i].Stderr = &stderrs[i]
	}
	for i, cmd := range cmds {
		if err := cmd.Start(); err != nil {
			for _, started := range cmds[:i] {
				started.Process.Kill()
				started.Wait()
			}
			t.Fatalf("start writer %d: %v", i, err)
		}
	}
	failed := 0
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			failed++
			t.Errorf("writer P%03d: %v: %s", i, err, stderrs[i].String())
		}
	}
	t.Logf("%d concurrent writers finished in %v", writers, time.Since(start).Round(time.Millisecond))
	if failed > 0 {
		t.Fatalf("%d of %d writers failed", failed, writers)
	}

	out := f.mustRun(ctx, "list", "apppool", "/json")
	var pools []jsonPool
	if err := json.Unmarshal([]byte(out), &pools); err != nil {
		t.Fatalf("list apppool /json is not JSON: %v", err)
	}
	if len(pools) != writers+1 {
		t.Errorf("store has %d pools, want %d (DefaultAppPool and P000..P%03d)", len(pools), writers+1, writers-1)
	}
	byName := make(map[string]jsonPool, len(pools))
	for _, p := range pools {
		byName[p.Name] = p
	}
	lost := 0
	for i := range writers {
		name := fmt.Sprintf("P%03d", i)
		p, ok := byName[name]
		if !ok {
			t.Errorf("pool %s is missing", name)
			lost++
			continue
		}
		wantEnv := strconv.Itoa(i)
		envOK := len(p.EnvironmentVariables) == 1 && p.EnvironmentVariables[0].Name == "W" && p.EnvironmentVariables[0].Value == wantEnv
		if p.QueueLength != uint64(1000+i) || !envOK {
			lost++
			t.Errorf("pool %s: queueLength %d, environmentVariables %+v; want %d and [W=%s]",
				name, p.QueueLength, p.EnvironmentVariables, 1000+i, wantEnv)
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d updates lost", lost, writers)
	}
	f.parse()
	if tmp := f.tempFiles(); len(tmp) > 0 {
		t.Errorf("writers that exited cleanly left temporary files: %v", tmp)
	}
}

// killOutcome is how one writer of TestKillMidWrite ended.
type killOutcome int

const (
	finished       killOutcome = iota // exited by itself before the kill
	killedBefore                      // killed; the store still holds the old value
	killedAfter                       // killed after the rename; the store holds the new value
	killOutcomeMax                    // number of outcomes
)

// TestKillMidWrite kills writers with SIGKILL at random moments of their
// write to a store of 1,000 pools and requires the store to be a whole,
// valid file holding either the old or the new value after every kill.
func TestKillMidWrite(t *testing.T) {
	const (
		maxIterations = 200
		maxDuration   = 20 * time.Second
		maxKillDelay  = 15 * time.Millisecond
		basePools     = 1000
	)
	ctx, cancel := context.WithTimeout(context.Background(), maxDuration+30*time.Second)
	defer cancel()
	f := newFixture(t)
	if err := WriteStore(f.path, basePools); err != nil {
		t.Fatal(err)
	}
	f.mustRun(ctx, "add", "apppool", "/name:A")
	c, _ := f.parse()
	if len(c.ApplicationPools) != basePools+1 {
		t.Fatalf("seeded store has %d pools, want %d", len(c.ApplicationPools), basePools+1)
	}

	// Kill within the time a whole write takes on this machine, and a bit
	// beyond, so that kills land before, during and after the write.
	killWithin := max(maxKillDelay, writeDuration(ctx, f)*5/4)
	t.Logf("a write takes %v here: killing after 0-%v", (killWithin * 4 / 5).Round(time.Millisecond), killWithin.Round(time.Millisecond))

	var counts [killOutcomeMax]int
	leftBehind := 0
	deadline := time.Now().Add(maxDuration)
	i := 0
	for ; i < maxIterations && time.Now().Before(deadline); i++ {
		c, _ = f.parse()
		before := poolState(t, c)
		var args []string
		want := before
		switch {
		case i%2 == 0:
			want.queueLength = uint64(1000 + i)
			args = []string{"set", "apppool", "A", fmt.Sprintf("/queueLength:%d", want.queueLength)}
		case before.env == "":
			want.env = strconv.Itoa(i)
			args = []string{"set", "apppool", "A", fmt.Sprintf("/+environmentVariables.[name='K',value='%s']", want.env)}
		default:
			want.env = ""
			args = []string{"set", "apppool", "A", "/-environmentVariables.[name='K']"}
		}
		// A machine whose load changes after the calibration (other tests
		// start) can make every kill land before the write ends, or after
		// it: widen or narrow the window every 10 iterations until both
		// happen.
		if i > 0 && i%10 == 0 {
			switch {
			case counts[finished]+counts[killedAfter] == 0 && killWithin < 10*time.Second:
				killWithin *= 2
				t.Logf("iteration %d: no writer has completed yet: killing after 0-%v", i, killWithin.Round(time.Millisecond))
			case counts[killedBefore] == 0 && killWithin > maxKillDelay:
				killWithin = max(maxKillDelay, killWithin/2)
				t.Logf("iteration %d: no kill has landed before a rename yet: killing after 0-%v", i, killWithin.Round(time.Millisecond))
			}
		}
		tmpBefore := len(f.tempFiles())

		killed, errOut, err := runAndKill(ctx, f.command(ctx, args...), rand.N(killWithin+1))
		if !killed && err != nil {
			t.Fatalf("iteration %d: poolctl %s was not killed and failed: %v: %s", i, strings.Join(args, " "), err, errOut)
		}

		c, _ = f.parse()
		after := poolState(t, c)
		if n := len(c.ApplicationPools); n != basePools+1 {
			t.Fatalf("iteration %d: store has %d pools after the kill, want %d", i, n, basePools+1)
		}
		switch {
		case !killed && after != want:
			t.Fatalf("iteration %d: writer finished but the store holds %+v, want %+v", i, after, want)
		case !killed:
			counts[finished]++
		case after == before:
			counts[killedBefore]++
		case after == want:
			counts[killedAfter]++
		default:
			t.Fatalf("iteration %d: after a kill the store holds %+v: neither the old %+v nor the new %+v", i, after, before, want)
		}
		out, errOut, code := f.run(ctx, "list", "apppool", "A", "/text:queueLength")
		if code != 0 || strings.TrimSpace(out) != strconv.FormatUint(after.effectiveQueueLength(), 10) {
			t.Fatalf("iteration %d: list apppool A /text:queueLength: exit %d, %q (%s); want %d",
				i, code, out, errOut, after.effectiveQueueLength())
		}
		tmp := f.tempFiles()
		leftBehind += len(tmp) - tmpBefore
		checkTempFilesApart(t, f.path, tmp)
	}

	partial := 0
	for _, name := range f.tempFiles() {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if c, err := store.Parse(data); err != nil || len(c.ApplicationPools) != basePools+1 {
			partial++
		}
	}
	t.Logf("%d iterations: %d writers finished, %d killed before their rename (store unchanged), %d killed after it (store changed)",
		i, counts[finished], counts[killedBefore], counts[killedAfter])
	t.Logf("%d kills landed mid-write and left a temporary file (%d of them partial); none replaced the store", leftBehind, partial)
	if counts[killedBefore] == 0 {
		t.Errorf("no kill landed before a write completed: the test did not exercise a kill mid-write")
	}
	if counts[finished]+counts[killedAfter] == 0 {
		t.Errorf("no writer ever completed: the kill delays are too short for this machine")
	}
}

// writeDuration is the median time of three unhindered writers on f's store.
func writeDuration(ctx context.Context, f *fixture) time.Duration {
	f.t.Helper()
	var ds []time.Duration
	for i := range 3 {
		start := time.Now()
		f.mustRun(ctx, "set", "apppool", "A", fmt.Sprintf("/queueLength:%d", 900+i))
		ds = append(ds, time.Since(start))
	}
	slices.Sort(ds)
	return ds[1]
}

// poolStateOf is what TestKillMidWrite changes in pool A.
type poolStateOf struct {
	queueLength uint64 // 0 when not set
	env         string // value of environment variable K; "" when absent
}

func (s poolStateOf) effectiveQueueLength() uint64 {
	if s.queueLength == 0 {
		return 1000 // the schema default
	}
	return s.queueLength
}

func poolState(t *testing.T, c *store.Config) poolStateOf {
	t.Helper()
	p := c.Pool("A")
	if p == nil {
		t.Fatal("pool A is missing from the store")
	}
	var s poolStateOf
	if p.QueueLength != nil {
		s.queueLength = *p.QueueLength
	}
	if p.EnvironmentVariables != nil {
		for _, e := range *p.EnvironmentVariables {
			if e.Name == "K" {
				s.env = e.Value
			}
		}
	}
	return s
}

// runAndKill starts cmd and sends it SIGKILL after delay unless it has
// exited by then; it always reaps the process. killed says whether the kill
// ended it.
func runAndKill(ctx context.Context, cmd *exec.Cmd, delay time.Duration) (killed bool, stderr string, err error) {
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		return false, "", err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	timer := time.NewTimer(delay)
	defer timer.Stop()
	select {
	case err = <-done:
	case <-timer.C:
		if kerr := cmd.Process.Signal(syscall.SIGKILL); kerr != nil && !errors.Is(kerr, os.ErrProcessDone) {
			return false, "", kerr
		}
		err = <-done
	case <-ctx.Done():
		cmd.Process.Kill()
		<-done
		return false, "", ctx.Err()
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
		return true, errb.String(), err
	}
	return false, errb.String(), err
}

// checkTempFilesApart fails t if a leftover temporary file is the store
// itself: a rename that replaced the store consumes its temporary name.
func checkTempFilesApart(t *testing.T, path string, tmp []string) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range tmp {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if os.SameFile(st, fi) {
			t.Fatalf("temporary file %s is the store itself", name)
		}
	}
}

// TestLockTimeout holds the store's lock from the test and requires a
// writer to give up after --timeout with exit 9 and the store untouched, to
// wait for the lock while it is held within --timeout, and to succeed once
// the lock is free.
func TestLockTimeout(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	f := newFixture(t)
	f.mustRun(ctx, "list", "apppool") // creates the store
	_, orig := f.parse()

	lock := holdLock(t, f.path+".lock")
	start := time.Now()
	_, errOut, code := f.run(ctx, "--timeout", "300ms", "set", "apppool", "DefaultAppPool", "/queueLength:2000")
	elapsed := time.Since(start)
	t.Logf("locked out after %v: %s", elapsed.Round(time.Millisecond), strings.TrimSpace(errOut))
	if code != 9 {
		t.Errorf("exit %d, want 9 (store locked)", code)
	}
	if !strings.Contains(strings.ToLower(errOut), "lock") {
		t.Errorf("error does not mention the lock: %q", errOut)
	}
	if elapsed < 300*time.Millisecond {
		t.Errorf("gave up after %v, before its --timeout of 300ms", elapsed)
	}
	if _, now := f.parse(); !bytes.Equal(now, orig) {
		t.Errorf("a writer that could not lock changed the store")
	}

	// A writer that finds the lock taken waits for it and then proceeds.
	cmd := f.command(ctx, "--timeout", "20s", "set", "apppool", "DefaultAppPool", "/queueLength:3000")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	if err := waitForOpenFile(ctx, cmd.Process.Pid, f.path+".lock", done); err != nil {
		t.Fatalf("waiting writer: %v: %s", err, errb.String())
	}
	select {
	case err := <-done:
		t.Fatalf("writer finished while the lock was held: %v: %s", err, errb.String())
	default:
	}
	released := time.Now()
	lock.release()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("waiting writer: %v: %s", err, errb.String())
		}
		t.Logf("waiting writer finished %v after the lock was released", time.Since(released).Round(time.Millisecond))
	case <-ctx.Done():
		cmd.Process.Kill()
		<-done
		t.Fatal("waiting writer did not finish after the lock was released")
	}

	f.mustRun(ctx, "--timeout", "300ms", "set", "apppool", "DefaultAppPool", "/queueLength:2000")
	if out := f.mustRun(ctx, "list", "apppool", "DefaultAppPool", "/text:queueLength"); strings.TrimSpace(out) != "2000" {
		t.Errorf("queueLength is %q after the lock was released, want 2000", strings.TrimSpace(out))
	}
}

// heldLock is an exclusive flock held by the test process.
type heldLock struct {
	file *os.File
}

func holdLock(t *testing.T, path string) *heldLock {
	t.Helper()
	file, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(file.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		file.Close()
		t.Fatalf("lock %s: %v", path, err)
	}
	l := &heldLock{file: file}
	t.Cleanup(l.release)
	return l
}

func (l *heldLock) release() {
	if l.file != nil {
		syscall.Flock(int(l.file.Fd()), syscall.LOCK_UN)
		l.file.Close()
		l.file = nil
	}
}

// waitForOpenFile waits until process pid has path open, which for a
// writer means it is waiting for the lock, or until the process exits or
// ctx ends. Polls /proc at most 2,000 times, 5 ms apart.
func waitForOpenFile(ctx context.Context, pid int, path string, exited <-chan error) error {
	fdDir := fmt.Sprintf("/proc/%d/fd", pid)
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for range 2000 {
		entries, _ := os.ReadDir(fdDir)
		for _, e := range entries {
			if target, err := os.Readlink(filepath.Join(fdDir, e.Name())); err == nil && target == path {
				return nil
			}
		}
		select {
		case err := <-exited:
			return fmt.Errorf("exited (%v) before it opened %s", err, path)
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return fmt.Errorf("did not open %s within 10s", path)
}

// TestGenerateStore checks the benchmarks' store generator: its file is
// valid, holds the pools it should, and is exactly what poolctl would write
// for it, so a benchmark's first write changes only what it sets.
func TestGenerateStore(t *testing.T) {
	for _, n := range []int{1, 10, 1000} {
		data := GenerateStore(n, "/srv/www")
		c, err := store.Parse(data)
		if err != nil {
			t.Fatalf("GenerateStore(%d) is not a valid store: %v", n, err)
		}
		if len(c.ApplicationPools) != n || c.ApplicationPools[n-1].Name != PoolName(n-1) {
			t.Fatalf("GenerateStore(%d) has %d pools, the last %q", n, len(c.ApplicationPools), c.ApplicationPools[len(c.ApplicationPools)-1].Name)
		}
		if p := c.Pool(PoolName(0)); p.QueueLength == nil || p.ProcessModel == nil || p.ProcessModel.IdleTimeout == nil {
			t.Errorf("GenerateStore(%d): %s does not set queueLength and processModel.idleTimeout", n, PoolName(0))
		}
		again, err := store.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, data) {
			t.Errorf("GenerateStore(%d) differs from what poolctl writes for it:\n%s", n, firstDiff(data, again))
		}
	}
}

// firstDiff shows the first line where got and want differ.
func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d: generated %q, poolctl writes %q", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("generated %d lines, poolctl writes %d", len(g), len(w))
}
