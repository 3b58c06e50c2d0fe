package apppool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/poolctl/poolctl/internal/proc"
)

// newUnixPool is newWorkerPool with processModel.listen unix and its
// sockets under a short run directory, which it returns.
func newUnixPool(t *testing.T, maxProcesses int) (*testPool, string) {
	t.Helper()
	tp := newWorkerPool(t, maxProcesses, true)
	run, err := os.MkdirTemp("", "run")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(run) })
	listen := ListenUnix
	tp.mu.Lock()
	tp.launcher.RunDir = run
	pm := *tp.settings.Resolved.ProcessModel
	pm.Listen = &listen
	tp.settings.Resolved.ProcessModel = &pm
	tp.settings.startHash = tp.settings.digest()
	tp.mu.Unlock()
	return tp, run
}

// frontOf is an HTTP server that forwards every request through the pool,
// as the host's front does.
func frontOf(t *testing.T, p *Pool) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		req := &Request{Method: r.Method, URL: r.URL.String()}
		w, err := p.Acquire(r.Context(), req)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusServiceUnavailable)
			return
		}
		defer p.Release(w, req)
		if err := w.Forward(rw, r); err != nil {
			http.Error(rw, err.Error(), http.StatusBadGateway)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// activeWorkers is a copy of the pool's workers in dispatch.
func activeWorkers(p *Pool) []*Worker {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*Worker{}, p.active...)
}

// TestUnixSocketWorkers: with processModel.listen unix, a worker gets
// POOLCTL_LISTEN=<run>/<pool>/w<id>.sock and no PORT, is ready once its
// socket serves, is reached through it by requests and health checks,
// is recycled under load without a failed request, and its socket file
// is gone once it has exited. A stale file at a new worker's path is
// removed before the worker starts.
func TestUnixSocketWorkers(t *testing.T) {
	tp, run := newUnixPool(t, 1)
	startPool(t, tp.Pool)
	waitFor(t, "one worker serving", func() bool { n, _ := tp.serving(); return n == 1 })
	w := activeWorkers(tp.Pool)[0]
	dir := filepath.Join(run, "W")
	sock := filepath.Join(dir, "w1.sock")
	if w.Addr != "unix:"+sock {
		t.Fatalf("worker address %q, want unix:%s", w.Addr, sock)
	}
	fi, err := os.Lstat(sock)
	if err != nil || fi.Mode().Type() != os.ModeSocket {
		t.Fatalf("the worker's socket: %v, %v", fi, err)
	}
	if uid := fi.Sys().(*syscall.Stat_t).Uid; int(uid) != os.Geteuid() {
		t.Errorf("socket owned by uid %d, want the worker's %d", uid, os.Geteuid())
	}
	if di, err := os.Stat(dir); err != nil || di.Mode().Perm() != 0o700 {
		t.Errorf("the pool's socket directory: %v, %v; want mode 0700", di, err)
	}
	if ri, err := os.Stat(run); err != nil || ri.Mode().Perm()&0o077 != 0o011 {
		t.Errorf("the run directory: %v, %v; want others to traverse only", ri, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.check(ctx, ""); err != nil {
		t.Errorf("health check through the socket: %v", err)
	}

	front := frontOf(t, tp.Pool)
	var ok, failed atomic.Int64
	var failures sync.Map
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			client := &http.Client{}
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := client.Get(front.URL + "/")
				if err != nil {
					failed.Add(1)
					failures.Store(err.Error(), true)
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(b), "worker ") {
					failed.Add(1)
					failures.Store(fmt.Sprintf("%s %q", resp.Status, b), true)
					continue
				}
				ok.Add(1)
			}
		})
	}
	waitFor(t, "requests served", func() bool { return ok.Load() > 20 })
	// A stale file where worker 3's socket goes.
	if err := os.WriteFile(filepath.Join(dir, "w3.sock"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		before := ok.Load()
		if _, err := tp.Recycle(ctx, 5079, "test"); err != nil {
			t.Fatalf("recycle: %v", err)
		}
		waitFor(t, "requests served after the recycle", func() bool { return ok.Load() > before+20 })
	}
	close(stop)
	wg.Wait()
	if n := failed.Load(); n > 0 {
		failures.Range(func(k, _ any) bool { t.Errorf("failure: %v", k); return true })
		t.Fatalf("%d of %d requests failed across two recycles", n, n+ok.Load())
	}
	w3 := activeWorkers(tp.Pool)[0]
	if w3.Addr != "unix:"+filepath.Join(dir, "w3.sock") {
		t.Errorf("after two recycles the worker is at %s", w3.Addr)
	}
	for _, old := range []string{"w1.sock", "w2.sock"} {
		waitFor(t, old+" removed", func() bool {
			_, err := os.Lstat(filepath.Join(dir, old))
			return errors.Is(err, os.ErrNotExist)
		})
	}
	if _, err := w.sock.DialContext(ctx); !errors.Is(err, net.ErrClosed) {
		t.Errorf("the first worker's pin still dials: %v", err)
	}
	if err := tp.Stop(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every socket removed", func() bool {
		m, _ := filepath.Glob(filepath.Join(dir, "*"))
		return len(m) == 0
	})
}

// TestUnixSocketPathTooLong: a run directory that leaves no room for a
// socket path fails the launch with a message saying what to do, and the
// worker is never started.
func TestUnixSocketPathTooLong(t *testing.T) {
	tp, run := newUnixPool(t, 1)
	long := filepath.Join(run, strings.Repeat("d", proc.MaxUnixPath))
	tp.launcher.RunDir = long
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := testSettings(tp.Pool)
	_, err := tp.launch(ctx, &s)
	if err == nil || !strings.Contains(err.Error(), "longer than") || !strings.Contains(err.Error(), "--state-dir") {
		t.Fatalf("launch = %v, want the path length named with the fix", err)
	}
	if n := tp.count("started."); n != 0 {
		t.Errorf("%d workers started", n)
	}
}

// TestSocketDirName: plain pool names keep their name; one that cannot be
// a path element or leaves no room gets a digest, distinct per pool and
// the same for names that differ in case only.
func TestSocketDirName(t *testing.T) {
	if got := socketDirName("Shop", 40); got != "Shop" {
		t.Errorf("socketDirName(Shop) = %q", got)
	}
	a, b := socketDirName("a/b", 40), socketDirName("..", 40)
	if !strings.HasPrefix(a, "p-") || !strings.HasPrefix(b, "p-") || a == b {
		t.Errorf("digests %q, %q", a, b)
	}
	if long := socketDirName(strings.Repeat("x", 50), 40); len(long) > 40 || long != socketDirName(strings.Repeat("X", 50), 40) {
		t.Errorf("a long name became %q", long)
	}
}
