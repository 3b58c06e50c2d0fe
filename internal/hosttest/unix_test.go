package hosttest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// socketOf returns the socket path `list wp` shows for the pool's single
// worker (unix:/path) and its pid.
func (e *hostEnv) socketOf(pool string) (string, int) {
	e.t.Helper()
	out := e.run("list", "wp", "/apppool.name:"+pool, "/text:address")
	addr := strings.TrimSpace(out)
	path, ok := strings.CutPrefix(addr, "unix:")
	if !ok || strings.Contains(path, "\n") {
		e.t.Fatalf("list wp address of %s = %q, want one unix:/path", pool, out)
	}
	pids := e.workers(pool)
	if len(pids) != 1 {
		e.t.Fatalf("workers of %s: %v, want one", pool, pids)
	}
	return path, pids[0]
}

// checkSocket checks a worker's socket file: a socket in the pool's
// directory <state>/run/<pool> (0700, the worker's uid's) under the run
// directory (0711), owned by the worker's uid; wantMode, when not 0, is
// the socket's own mode.
func (e *hostEnv) checkSocket(pool, path string, pid int, wantMode os.FileMode) {
	e.t.Helper()
	dir := filepath.Join(e.state, "run", pool)
	if filepath.Dir(path) != dir {
		e.t.Errorf("socket %s is not in %s", path, dir)
	}
	uid := procIDs(e.t, pid, "Uid")[0]
	fi, err := os.Lstat(path)
	if err != nil {
		e.t.Fatalf("the worker's socket: %v", err)
	}
	if fi.Mode().Type() != os.ModeSocket {
		e.t.Errorf("%s is %v, not a socket", path, fi.Mode())
	}
	if got := fi.Sys().(*syscall.Stat_t).Uid; got != uid {
		e.t.Errorf("socket owned by uid %d, want the worker's uid %d", got, uid)
	}
	if wantMode != 0 && fi.Mode().Perm() != wantMode {
		e.t.Errorf("socket mode %04o, want %04o", fi.Mode().Perm(), wantMode)
	}
	di, err := os.Stat(dir)
	if err != nil {
		e.t.Fatal(err)
	}
	if di.Mode().Perm() != 0o700 || di.Sys().(*syscall.Stat_t).Uid != uid {
		e.t.Errorf("the pool's socket directory is %04o uid %d, want 0700 of the worker's uid %d",
			di.Mode().Perm(), di.Sys().(*syscall.Stat_t).Uid, uid)
	}
	if ri, err := os.Stat(filepath.Dir(dir)); err != nil || ri.Mode().Perm() != 0o711 {
		e.t.Errorf("the run directory: %v %v, want mode 0711", ri, err)
	}
	if os.Geteuid() == 0 && uid == 0 {
		e.t.Errorf("the worker runs as root; the test expects the pool's own uid")
	}
	if v := procEnv(e.t, pid, "POOLCTL_LISTEN"); v != path {
		e.t.Errorf("POOLCTL_LISTEN=%q, want %s", v, path)
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid)); err != nil || bytes.Contains(b, []byte("\x00PORT=")) || bytes.HasPrefix(b, []byte("PORT=")) {
		e.t.Errorf("the worker has PORT in its environment (or it cannot be read: %v)", err)
	}
}

// waitSockets waits until the pool's socket directory holds exactly the
// sockets of want (file names).
func (e *hostEnv) waitSockets(pool string, want ...string) {
	e.t.Helper()
	dir := filepath.Join(e.state, "run", pool)
	waitFor(e.t, 10*time.Second, fmt.Sprintf("sockets %v in %s", want, dir), func() error {
		m, err := filepath.Glob(filepath.Join(dir, "*"))
		if err != nil {
			return err
		}
		var got []string
		for _, p := range m {
			got = append(got, filepath.Base(p))
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			return fmt.Errorf("the directory holds %v", got)
		}
		return nil
	})
}

// TestUnixSocketWorkerRecycle: a pool with processModel.listen unix serves
// through its worker's unix socket (POOLCTL_LISTEN, no PORT), in a
// directory only the pool's uid may enter; it is recycled three times
// under C=32 keep-alive connections without a failed request; the sockets
// of replaced workers are removed once they exited, and the last one when
// the pool stops.
func TestUnixSocketWorkerRecycle(t *testing.T) {
	t.Parallel()
	heavy(t)
	e := newHostEnv(t)
	e.addTestPool("U", "/", "/processModel.maxProcesses:1", "/processModel.listen:unix", "/processModel.pingInterval:00:00:01")
	e.startHost()
	e.warmUp("U", 1)
	path, pid := e.socketOf("U")
	e.checkSocket("U", path, pid, 0)
	if filepath.Base(path) != "w1.sock" {
		t.Errorf("the first worker's socket is %s, want w1.sock", path)
	}
	sc := e.runRecycleCount("U", 3, false)
	checkZeroLoss(t, e, sc, 3)
	last, lastPID := e.socketOf("U")
	if last == path || lastPID == pid {
		t.Errorf("after the recycles the worker is still %d at %s", lastPID, last)
	}
	e.checkSocket("U", last, lastPID, 0)
	e.waitSockets("U", filepath.Base(last))
	e.run("stop", "apppool", "U")
	e.waitSockets("U")
	if t.Failed() {
		t.Logf("host log:\n%s", tailString(e.log(), 6000))
	}
}

// TestUnixSocketBuiltinWorker: the built-in worker listens on the socket
// itself (no inherited descriptor, no PORT), makes it 0600, and serves the
// default site through it.
func TestUnixSocketBuiltinWorker(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	e.run("set", "apppool", "DefaultAppPool", "/processModel.listen:unix")
	e.startHost()
	code, body, _ := e.get("/")
	if code != 200 || !strings.Contains(body, "poolctl is serving this site") {
		t.Fatalf("GET / = %d %q, want 200 and the welcome page\n%s", code, body, e.log())
	}
	path, pid := e.socketOf("DefaultAppPool")
	e.checkSocket("DefaultAppPool", path, pid, 0o600)
	if fd := procEnv(t, pid, "POOLCTL_LISTEN_FD"); fd != "" {
		t.Errorf("POOLCTL_LISTEN_FD=%q: the built-in worker of a unix pool inherited a socket", fd)
	}
	e.run("stop", "apppool", "DefaultAppPool")
	e.waitSockets("DefaultAppPool")
}

// TestUnixSocketSwitchLive: changing processModel.listen on a running pool
// recycles its worker (event 5080) onto the other kind of address, and the
// site keeps answering; back to tcp the socket directory is left empty.
func TestUnixSocketSwitchLive(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	e.addTestPool("S", "/", "/processModel.maxProcesses:1", "/startMode:AlwaysRunning")
	e.startHost()
	e.warmUp("S", 1)
	addr := func() string { return strings.TrimSpace(e.run("list", "wp", "/apppool.name:S", "/text:address")) }
	if a := addr(); !strings.HasPrefix(a, "127.0.0.1:") {
		t.Fatalf("address before the change: %q", a)
	}
	for _, c := range []struct{ listen, prefix string }{{"unix", "unix:" + e.state + "/run/S/"}, {"tcp", "127.0.0.1:"}} {
		e.run("set", "apppool", "S", "/processModel.listen:"+c.listen)
		waitFor(t, 20*time.Second, "the worker replaced onto "+c.listen, func() error {
			if a := addr(); !strings.HasPrefix(a, c.prefix) || strings.Contains(a, "\n") {
				return fmt.Errorf("address %q", a)
			}
			return nil
		})
		if code, body, _ := e.get("/"); code != 200 || pidOf(body) == 0 {
			t.Errorf("GET / after listen %s = %d %q", c.listen, code, body)
		}
	}
	if n := e.trCount("S", 5080, 0); n < 2 {
		t.Errorf("%d config-change recycles (5080), want 2", n)
	}
	e.waitSockets("S")
}

// TestWorkerPortsRange: with --worker-ports, every worker's $PORT comes
// from the range, and a recycle takes another port of it while the old
// worker still holds its own.
func TestWorkerPortsRange(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	lo := 20000 + 100*(e.port%90) // a narrow range of the tests' worker ports
	hi := lo + 9
	e.addTestPool("R", "/", "/processModel.maxProcesses:2", "/startMode:AlwaysRunning")
	e.launchHost("--worker-ports", fmt.Sprintf("%d-%d", lo, hi))
	e.warmUp("R", 2)
	ports := func() []int {
		var ps []int
		for _, a := range strings.Fields(e.run("list", "wp", "/apppool.name:R", "/text:address")) {
			var p int
			if _, err := fmt.Sscanf(a, "127.0.0.1:%d", &p); err != nil {
				t.Fatalf("worker address %q: %v", a, err)
			}
			ps = append(ps, p)
		}
		return ps
	}
	check := func(when string) {
		for _, p := range ports() {
			if p < lo || p > hi {
				t.Errorf("%s: a worker listens on port %d, outside --worker-ports %d-%d", when, p, lo, hi)
			}
		}
	}
	check("at start")
	old := e.workers("R")
	e.run("recycle", "apppool", "R")
	waitFor(t, 30*time.Second, "both workers replaced", func() error {
		now := e.workers("R")
		for _, p := range now {
			if slices.Contains(old, p) {
				return fmt.Errorf("workers %v, old %v", now, old)
			}
		}
		if len(now) != 2 {
			return fmt.Errorf("workers %v", now)
		}
		return nil
	})
	check("after a recycle")
	if code, _, _ := e.get("/"); code != 200 {
		t.Errorf("GET / after the recycle = %d", code)
	}
}
