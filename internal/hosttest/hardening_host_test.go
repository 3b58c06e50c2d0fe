package hosttest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// hardPlantedDir makes a fresh temporary directory for TMPDIR and plants
// in it the fallback control socket directory (poolctl-EUID) open to
// everyone, as another user could; it returns TMPDIR and the socket path
// inside the planted directory.
func hardPlantedDir(t *testing.T) (tmp, sock string) {
	t.Helper()
	tmp, err := os.MkdirTemp("", "pcE")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tmp) })
	dir := filepath.Join(tmp, "poolctl-"+strconv.Itoa(os.Geteuid()))
	if err := os.MkdirAll(filepath.Join(dir, "poolctl"), 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	return tmp, filepath.Join(dir, "poolctl", "host.sock")
}

// TestHardeningHostRefusesPlantedSocketDir: a host whose control socket
// would go into a fallback directory (TMPDIR/poolctl-EUID) that someone
// else could have made refuses to start and says why, about the socket.
func TestHardeningHostRefusesPlantedSocketDir(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	tmp, sock := hardPlantedDir(t)
	cmd := exec.Command(e.bin, "--config", e.store, "--socket", sock, "host", "--state-dir", e.state)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(guard(20 * time.Second)):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("the host runs with a planted socket directory\n%s", out.String())
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() == 0 {
		t.Fatalf("host exit: %v, want a failure\n%s", err, out.String())
	}
	msg := out.String()
	if !strings.Contains(msg, "control socket directory") || !strings.Contains(msg, "0777") {
		t.Errorf("the host's error does not name the control socket directory and its mode:\n%s", msg)
	}
	if _, err := os.Lstat(sock); err == nil {
		t.Errorf("the host created its socket %s in the planted directory", sock)
	}
}

// TestHardeningToolRefusesPlantedSocketDir: the tool does not talk to a
// socket in a planted fallback directory (an impostor listens there); it
// fails with the permission exit code and a message about the control
// socket, not the store hint.
func TestHardeningToolRefusesPlantedSocketDir(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	tmp, sock := hardPlantedDir(t)
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepted atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	for _, args := range [][]string{{"list", "apppool"}, {"list", "wp"}} {
		cmd := exec.Command(e.bin, append([]string{"--config", e.store, "--socket", sock}, args...)...)
		cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 7 {
			t.Errorf("poolctl %s: %v, want exit 7\n%s", strings.Join(args, " "), err, stderr.String())
		}
		msg := stderr.String()
		if !strings.Contains(msg, "control socket directory") || strings.Contains(msg, "store") {
			t.Errorf("poolctl %s: message %q, want one about the control socket directory and none about the store", strings.Join(args, " "), msg)
		}
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("the tool connected to the impostor's socket %d times", n)
	}

	// A private directory of another user, with no socket in sight: a
	// listing does not quietly fall back to the store.
	if os.Geteuid() != 0 {
		return // giving the directory to another user needs root
	}
	tmp2, sock2 := hardPlantedDir(t)
	dir2 := filepath.Dir(filepath.Dir(sock2))
	if err := os.Chmod(dir2, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir2, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(e.bin, "--config", e.store, "--socket", sock2, "list", "apppool")
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp2)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 7 || !strings.Contains(string(out), "belongs to uid 65534") {
		t.Errorf("list apppool with another user's socket directory: %v\n%s\nwant exit 7 naming the owner", err, out)
	}
}

// TestHardeningShutdownOneDeadline: SIGTERM stops the front and the pools
// under one deadline, not one after the other. Pool Long has a
// shutdownTimeLimit of 60 s (and no work), pool Short one of 3 s and a
// request that never ends. Draining the front first (up to the longest
// limit plus the margin, 65 s) and only then stopping the pools could not
// exit before 65 s; with one deadline Short's worker is killed at its 3 s
// limit, the hanging request ends, and the host exits long before 65 s.
// The bound checked (45 s) leaves a loaded machine 40 s to spare.
func TestHardeningShutdownOneDeadline(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	e.addTestPool("Long", "/long", "/processModel.shutdownTimeLimit:00:01:00")
	e.addTestPool("Short", "/", "/processModel.shutdownTimeLimit:00:00:03")
	e.startHost()
	var pid int
	waitFor(t, 10*time.Second, "a worker of Short", func() error {
		if code, _, _ := e.get("/"); code != 200 {
			return fmt.Errorf("GET / = %d", code)
		}
		if w := e.workers("Short"); len(w) == 1 {
			pid = w[0]
			return nil
		}
		return errors.New("no worker yet")
	})
	type result struct {
		code int
		err  error
	}
	hung := make(chan result, 1)
	go func() {
		c := &http.Client{Timeout: guard(60 * time.Second)}
		resp, err := c.Get(e.url("/sleep?ms=3600000"))
		if err != nil {
			hung <- result{err: err}
			return
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		hung <- result{code: resp.StatusCode, err: err}
	}()
	waitFor(t, 10*time.Second, "the request in flight", func() error {
		out := strings.TrimSpace(e.run("list", "request", "/apppool.name:Short", "/text:wp.name"))
		if out != strconv.Itoa(pid) {
			return fmt.Errorf("list request shows %q", out)
		}
		return nil
	})
	start := time.Now()
	if err := e.host.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-e.hostDone:
		e.host = nil
		if err != nil {
			t.Errorf("host exited with %v, want 0\n%s", err, e.log())
		}
	case <-time.After(45 * time.Second):
		t.Fatalf("host still running 45 s after SIGTERM: the front's drain and the pools' shutdownTimeLimit ran one after the other\n%s", e.log())
	}
	t.Logf("host exited %s after SIGTERM", time.Since(start))
	select {
	case r := <-hung:
		if r.err == nil && r.code == 200 {
			t.Errorf("the hanging request completed with 200; its worker should have been killed")
		}
	case <-time.After(guard(10 * time.Second)):
		t.Errorf("the hanging request is still open after the host exited")
	}
	if alive(pid) {
		t.Errorf("worker %d survived the host", pid)
	}
}

// TestHardeningBindingFailureReportedOnce: a binding that cannot listen
// (its port is taken) is reported once, by the command that brought it,
// as a warning that names it and says the rest is applied, with exit 0;
// later commands that do not touch it say nothing about it.
func TestHardeningBindingFailureReportedOnce(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	e.addTestPool("P", "/")
	e.startHost()
	busy := freePort(t)
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", busy))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	_, stderr, code := e.poolctl("add", "site", "/name:Busy", fmt.Sprintf("/bindings:http/127.0.0.1:%d:", busy), "/physicalPath:"+e.dir, "/applicationPool:P")
	if code != 0 {
		t.Fatalf("add site on a taken port: exit %d, want 0\n%s", code, stderr)
	}
	if strings.Contains(stderr, "did not take it") {
		t.Errorf("add site: %q says the host did not take the store", stderr)
	}
	if !strings.Contains(stderr, strconv.Itoa(busy)) || !strings.Contains(stderr, "the rest of the configuration is applied") {
		t.Errorf("add site: warning %q does not name the binding and say the rest is applied", stderr)
	}
	if n := strings.Count(stderr, "warning:"); n != 1 {
		t.Errorf("add site: the failed binding is reported %d times, want once\n%s", n, stderr)
	}

	// The rest applies: a new pool and application serve.
	for _, args := range [][]string{
		{"add", "apppool", "/name:Q", "/processModel.command:" + e.testworker, "/processModel.pingPath:/health"},
		{"add", "app", "/site.name:Default Web Site", "/path:/q", "/physicalPath:" + e.dir, "/applicationPool:Q"},
		{"set", "apppool", "Q", "/queueLength:2000"},
	} {
		_, stderr, code := e.poolctl(args...)
		if code != 0 || stderr != "" {
			t.Errorf("poolctl %s: exit %d, stderr %q; want 0 and nothing about the old binding failure", strings.Join(args, " "), code, stderr)
		}
	}
	waitFor(t, 10*time.Second, "the new application served", func() error {
		code, body, _ := e.get("/q/")
		if code != 200 || !strings.Contains(body, "pool=Q") {
			return fmt.Errorf("GET /q/ = %d %q", code, body)
		}
		return nil
	})
	// A start of a pool still works while the binding fails.
	if _, stderr, code := e.poolctl("stop", "apppool", "Q"); code != 0 {
		t.Errorf("stop apppool Q with a failed binding: exit %d\n%s", code, stderr)
	}
	if _, stderr, code := e.poolctl("start", "apppool", "Q"); code != 0 {
		t.Errorf("start apppool Q with a failed binding: exit %d\n%s", code, stderr)
	}
}
