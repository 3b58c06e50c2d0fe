package apppool

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/poolctl/poolctl/store"
)

// The test binary doubles as a small worker process: with envTestWorker
// set, TestMain serves HTTP on POOLCTL_LISTEN instead of running tests.
// Its behaviour is steered by files in the directory envTestWorker names:
//
//   - "hold": while it exists, the worker does not listen yet (slow
//     start-up); it listens once the file is removed.
//   - "die": the worker exits with status 3 during start-up as long as
//     the file exists, after counting itself in "died.N" files.
//
// GET /leak?mb=N allocates N MiB that are never freed. Every start writes
// "started.<worker id>". A worker whose POOLCTL_LISTEN
// is a path listens on that unix socket (and refuses to start if PORT is
// set too).
const envTestWorker = "POOLCTL_APPPOOL_TEST_WORKER"

func TestMain(m *testing.M) {
	if dir := os.Getenv(envTestWorker); dir != "" {
		if err := testWorkerMain(dir); err != nil {
			fmt.Fprintln(os.Stderr, "test worker:", err)
			os.Exit(2) //nolint:gocritic // the test binary acting as a worker process
		}
		return
	}
	os.Exit(m.Run())
}

func testWorkerMain(dir string) error {
	id := os.Getenv("POOLCTL_WORKER_ID")
	if err := os.WriteFile(filepath.Join(dir, "started."+id), nil, 0o600); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, "die")); err == nil {
		_ = os.WriteFile(filepath.Join(dir, "died."+id), nil, 0o600)
		os.Exit(3)
	}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(dir, "hold")); err != nil {
			break
		}
	}
	network, addr := "tcp", os.Getenv("POOLCTL_LISTEN")
	if strings.HasPrefix(addr, "/") { // processModel.listen unix
		network = "unix"
		if port := os.Getenv("PORT"); port != "" {
			return fmt.Errorf("PORT=%s is set for a unix-socket worker", port)
		}
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		return err
	}
	return http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/leak" { // allocate and touch ?mb=N MiB, never freed
			mb, _ := strconv.Atoi(r.URL.Query().Get("mb"))
			b := make([]byte, max(mb, 0)<<20)
			for i := 0; i < len(b); i += 4096 {
				b[i] = 1
			}
			leakedMu.Lock()
			leaked = append(leaked, b)
			leakedMu.Unlock()
		}
		_, _ = io.WriteString(w, "worker "+id)
	}))
}

// leaked keeps what GET /leak allocated.
var (
	leakedMu sync.Mutex
	leaked   [][]byte
)

// testPool is a pool of real test workers with its control directory.
type testPool struct {
	*Pool
	dir string
}

// newWorkerPool returns a pool whose workers are the test binary; it is
// closed, and its workers reaped, when the test ends.
func newWorkerPool(t *testing.T, maxProcesses int, always bool) *testPool {
	t.Helper()
	dir := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	s := Settings{Name: "W", AutoStart: true, AlwaysRunning: always, MaxProcesses: maxProcesses, QueueLength: 100,
		StartupTimeLimit: 30 * time.Second, ShutdownTimeLimit: 5 * time.Second, PingPath: "tcp:", Overlap: true,
		RecycleOnChange: true, Command: []string{self}, Env: []string{envTestWorker + "=" + dir}}
	off, on, crashes, window := false, true, uint64(1000), store.TimeSpan(time.Hour)
	s.Resolved.ProcessModel = &store.ProcessModel{PingingEnabled: &off}
	s.Resolved.Failure = &store.Failure{RapidFailProtection: &on, RapidFailProtectionMaxCrashes: &crashes,
		RapidFailProtectionInterval: &window}
	s.startHash = s.digest()
	p := newPool(s, Launcher{}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	t.Cleanup(func() {
		_ = os.Remove(filepath.Join(dir, "hold"))
		_ = os.Remove(filepath.Join(dir, "die"))
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		closeTestPool(ctx, p)
	})
	return &testPool{Pool: p, dir: dir}
}

// flag creates or removes one of the control files.
func (tp *testPool) flag(t *testing.T, name string, on bool) {
	t.Helper()
	path := filepath.Join(tp.dir, name)
	if on {
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		return
	}
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
}

// count is how many control files start with prefix.
func (tp *testPool) count(prefix string) int {
	m, _ := filepath.Glob(filepath.Join(tp.dir, prefix+"*"))
	return len(m)
}

// serving is the number of workers in dispatch and their PIDs.
func (tp *testPool) serving() (int, []int) {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	var pids []int
	for _, w := range tp.active {
		pids = append(pids, w.PID)
	}
	return len(pids), pids
}

// alive is the number of worker processes the pool has (serving or
// draining).
func (tp *testPool) alive() int {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return len(tp.active) + len(tp.draining)
}

// waitFor polls cond until it holds; the deadline only guards a failure.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// get sends one request through the pool to a worker and reports whether
// it was answered.
func (tp *testPool) get(ctx context.Context) error {
	req := &Request{Method: "GET", URL: "/"}
	w, err := tp.Acquire(ctx, req)
	if err != nil {
		return fmt.Errorf("acquire: %w", err)
	}
	defer tp.Release(w, req)
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+w.Addr+"/", nil)
	if err != nil {
		return err
	}
	resp, err := testClient.Do(hreq)
	if err != nil {
		return fmt.Errorf("worker %d: %w", w.PID, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("worker %d: %s %s", w.PID, resp.Status, b)
	}
	return nil
}

var testClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// load sends requests from n goroutines until stop is closed and returns
// how many succeeded and the failures.
func (tp *testPool) load(n int, stop <-chan struct{}) func() (int, []error) {
	var mu sync.Mutex
	var ok int
	var errs []error
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				err := tp.get(ctx)
				cancel()
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					ok++
				}
				mu.Unlock()
			}
		})
	}
	return func() (int, []error) {
		wg.Wait()
		return ok, errs
	}
}

// closeTestPool closes the pool for good.
func closeTestPool(ctx context.Context, p *Pool) { p.Close(ctx) }

// testReconfigure hands the pool new settings.
func testReconfigure(p *Pool, s Settings) { p.Reconfigure(s) }

// testSettings is the pool's latest settings.
func testSettings(p *Pool) Settings { return p.Settings() }
