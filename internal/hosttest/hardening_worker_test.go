package hosttest

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Issue 9 items 12, 13, 17 and 21: how workers are launched and checked.

// hwFindWorker waits until a process of pool that runs exe exists (it need
// not be ready) and returns its pid; exe is matched against
// /proc/<pid>/exe.
func (e *hostEnv) hwFindWorker(pool, exe string) int {
	e.t.Helper()
	pid := 0
	waitFor(e.t, 10*time.Second, "a worker process of "+pool, func() error {
		ents, err := os.ReadDir("/proc")
		if err != nil {
			return err
		}
		for _, ent := range ents {
			n, err := strconv.Atoi(ent.Name())
			if err != nil {
				continue
			}
			if target, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", n)); err != nil || target != exe {
				continue
			}
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", n))
			if err == nil && bytes.Contains(append([]byte{0}, b...), []byte("\x00POOLCTL_APPPOOL="+pool+"\x00")) {
				pid = n
				return nil
			}
		}
		return fmt.Errorf("no process of %s runs %s yet\n%s", pool, exe, e.log())
	})
	return pid
}

// TestWorkerReadinessIgnoresForeignListener (item 12): while the port the
// host gave a slow worker is listened on by another process, which answers
// every request with 200, the worker is not ready and no request reaches
// that process; once the worker listens itself, it serves. The old host
// took the other process's answer to its readiness check for the worker's,
// and sent the pool's requests there.
func TestWorkerReadinessIgnoresForeignListener(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	release := filepath.Join(e.dir, "release")
	e.addTestPool("Slow", "/", "/processModel.identityType:LocalSystem",
		"/+environmentVariables.[name='TW_WAIT_FILE',value='"+release+"']")
	e.run("set", "apppool", "Slow", "/processModel.startupTimeLimit:00:02:00")
	e.startHost()

	type result struct {
		code int
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := client.Get(e.url("/"))
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- result{code: resp.StatusCode, body: string(b)}
	}()
	pid := e.hwFindWorker("Slow", e.testworker)
	var port string
	waitFor(t, 5*time.Second, "the worker's PORT", func() error {
		if port = procEnv(t, pid, "PORT"); port == "" {
			return fmt.Errorf("worker %d has no PORT", pid)
		}
		return nil
	})

	// The intruder takes the worker's port before the worker binds it.
	ln, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Fatalf("listen on the worker's port %s: %v", port, err)
	}
	var asked atomic.Int32
	asked1 := make(chan struct{}, 1)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		select {
		case asked1 <- struct{}{}:
		default:
		}
		fmt.Fprintln(w, "intruder")
	})}
	go func() { _ = srv.Serve(ln) }()
	// The old host polled readiness every 50 ms and took the intruder's
	// 200 at once; give it a bounded window to do so. The fixed host never
	// asks the intruder, whatever the timing.
	select {
	case <-asked1:
	case <-time.After(2 * time.Second):
	}
	srv.Close()
	if n := asked.Load(); n != 0 {
		t.Errorf("the intruder listening on the worker's port was sent %d requests", n)
	}
	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var r result
	select {
	case r = <-got:
	case <-time.After(guard(60 * time.Second)):
		t.Fatalf("no answer to GET /\n%s", e.log())
	}
	if r.err != nil || r.code != 200 || !strings.Contains(r.body, fmt.Sprintf("pid=%d ", pid)) {
		t.Fatalf("GET / = %d %q %v, want 200 from worker %d\n%s", r.code, r.body, r.err, pid, e.log())
	}
}

// TestBuiltinWorkerFromPrivateDirectory (item 13): a root host started from
// a binary in a 0700 directory (as `go run` leaves it in root's build
// cache) serves the default site from its built-in worker running as the
// pool's own uid, and keeps running its own binary in new workers after the
// file was replaced on disk. The old host exec'd the binary by its path,
// which the pool's uid cannot reach, and answered 503.
func TestBuiltinWorkerFromPrivateDirectory(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the built-in worker must run as another uid than the host")
	}
	e := newHostEnv(t)
	private := filepath.Join(e.dir, "private")
	if err := os.Mkdir(private, 0o700); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(e.bin)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(private, "poolctl")
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cli := e.bin
	e.bin = bin // the host runs from the private copy
	e.startHost()
	e.bin = cli
	code, body, _ := e.get("/")
	if code != 200 || !strings.Contains(body, "poolctl is serving this site") {
		t.Fatalf("GET / = %d %q, want 200 and the welcome page\n%s", code, body, e.log())
	}
	pids := e.workers("DefaultAppPool")
	if len(pids) != 1 {
		t.Fatalf("workers %v, want 1", pids)
	}
	if uid := procIDs(t, pids[0], "Uid"); len(uid) == 0 || uid[0] == 0 {
		t.Errorf("the built-in worker runs as uid %v, want the pool's own uid", uid)
	}
	// It inherited its listening socket instead of binding the port.
	if fd := procEnv(t, pids[0], "POOLCTL_LISTEN_FD"); fd != "3" {
		t.Errorf("POOLCTL_LISTEN_FD=%q, want 3", fd)
	}

	// An upgrade replaces the file the host was started from (here by
	// another program altogether): new built-in workers still run the
	// binary the host runs, never whatever the path now holds.
	tw, err := os.ReadFile(e.testworker)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin+".new", tw, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(bin+".new", bin); err != nil {
		t.Fatal(err)
	}
	e.run("recycle", "apppool", "DefaultAppPool")
	code, body, _ = e.get("/")
	if code != 200 || !strings.Contains(body, "poolctl is serving this site") {
		t.Fatalf("GET / after the binary was replaced = %d %q, want the welcome page from the host's own binary\n%s", code, body, e.log())
	}
	// The old worker drains and is reaped in the background after the
	// recycle returns: wait for it to go.
	waitFor(t, 10*time.Second, "the old worker replaced by one new worker", func() error {
		if now := e.workers("DefaultAppPool"); len(now) != 1 || now[0] == pids[0] {
			return fmt.Errorf("workers %v, want one new worker (was %d)", now, pids[0])
		}
		return nil
	})
}

// TestDefaultHealthCheckSeesHang (item 17): without a pingPath, a worker
// stopped with SIGSTOP fails its health check and is replaced (event
// 5010). The old default, a TCP connect, passed: the kernel accepts
// connections for a stopped process.
func TestDefaultHealthCheckSeesHang(t *testing.T) {
	t.Parallel()
	heavy(t)
	const pool = "HwHang"
	e := newHostEnv(t)
	e.run("add", "apppool", "/name:"+pool, "/processModel.command:"+e.testworker, "/processModel.identityType:LocalSystem",
		"/processModel.pingInterval:00:00:01", "/processModel.pingResponseTime:00:00:01", "/processModel.startupTimeLimit:00:00:30")
	e.run("set", "app", "Default Web Site/", "/applicationPool:"+pool)
	e.startHost()
	hung := e.oneWorker(pool, "/")
	if err := syscall.Kill(hung, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	ev := e.lcWaitEvent(pool, 5010, hung, 20*time.Second)
	if !strings.Contains(ev.Reason, "no answer within pingResponseTime") {
		t.Errorf("event 5010 reason %q, want it to say the check got no answer", ev.Reason)
	}
	code, body, _ := e.get("/")
	if code != 200 || strings.Contains(body, fmt.Sprintf("pid=%d ", hung)) {
		t.Errorf("GET / after the hang = %d %q, want 200 from the replacement", code, body)
	}
}

// TestCommandExpandsVariables (item 21): processModel.command expands
// ${PORT}, $PORT and the pool's variables in each argument and turns $$
// into $, without a shell. The pool also uses pingPath "tcp:", the
// TCP-only check (item 17), which the store accepts and readiness honours.
func TestCommandExpandsVariables(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	env, err := execPath("env")
	if err != nil {
		t.Skip(err)
	}
	cmd := env + " TW_PORT=${PORT} TW_POOL=$POOLCTL_APPPOOL:$GREETING TW_LIT=$$PORT " + e.testworker
	e.run("add", "apppool", "/name:Expand", "/processModel.command:"+cmd, "/processModel.identityType:LocalSystem",
		"/processModel.pingPath:tcp:", "/+environmentVariables.[name='GREETING',value='hello world']")
	e.run("set", "app", "Default Web Site/", "/applicationPool:Expand")
	e.startHost()
	pid := e.oneWorker("Expand", "/")
	port := procEnv(t, pid, "PORT")
	for name, want := range map[string]string{"TW_PORT": port, "TW_POOL": "Expand:hello world", "TW_LIT": "$PORT"} {
		if got := procEnv(t, pid, name); got != want || port == "" {
			t.Errorf("%s=%q, want %q", name, got, want)
		}
	}
}

// execPath finds a program in the usual system directories.
func execPath(name string) (string, error) {
	for _, dir := range []string{"/usr/bin", "/bin"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("no %s in /usr/bin or /bin", name)
}
