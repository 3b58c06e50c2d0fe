package hosttest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/poolctl/poolctl/hostapi"
	"github.com/poolctl/poolctl/runstate"
	"github.com/poolctl/poolctl/store"
)

// TestPipelineControlAnswersWhilePoolsStart: with 100 AlwaysRunning pools
// whose workers do not get ready (they wait for a file the test never
// creates), the control socket answers from the start: `list apppool`
// lists every pool and /v1/status says what was applied, while no worker
// is ready yet. (Before, start applied the store before the socket served,
// waiting for every AlwaysRunning worker: the host did not answer at all.)
func TestPipelineControlAnswersWhilePoolsStart(t *testing.T) {
	t.Parallel()
	heavy(t)
	e := newHostEnv(t)
	gate := filepath.Join(e.dir, "never")
	worker := filepath.Join(e.dir, "slow-worker.sh")
	script := fmt.Sprintf("#!/bin/sh\nwhile [ ! -e %q ]; do sleep 1; done\nexec %q\n", gate, e.testworker)
	if err := os.WriteFile(worker, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	const n = 100
	ctx, cancel := context.WithTimeout(context.Background(), guard(time.Minute))
	defer cancel()
	if _, err := store.Open(e.store).Update(ctx, func(c *store.Config) error {
		for i := range n {
			p := store.AppPool{Name: fmt.Sprintf("PipeSlow%03d", i)}
			for _, kv := range [][2]string{{"startMode", "AlwaysRunning"}, {"processModel.command", worker},
				{"processModel.maxProcesses", "1"}, {"processModel.startupTimeLimit", "00:10:00"},
				{"processModel.shutdownTimeLimit", "00:00:05"}} {
				f := store.PoolSchema.Field(kv[0])
				v, err := f.Parse(kv[1])
				if err != nil {
					return err
				}
				f.Set(&p.PoolSettings, v)
			}
			c.ApplicationPools = append(c.ApplicationPools, p)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	e.launchHost() // fails unless the socket answers

	out := e.run("list", "apppool")
	if got := strings.Count(out, "PipeSlow"); got != n {
		t.Errorf("list apppool lists %d PipeSlow pools, want %d\n%s", got, n, out)
	}
	c := hostapi.NewClient(e.socket)
	ws, err := c.Workers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range ws {
		if w.State == runstate.WorkerReady {
			t.Errorf("worker %d of %s is ready: its start cannot have finished", w.PID, w.Pool)
		}
	}
	data, err := os.ReadFile(e.store)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the first apply", func() error {
		st, err := c.Status(ctx)
		if err != nil {
			return err
		}
		if st.Generation < 1 || st.Applied != store.VersionOf(data) || st.Pools < n {
			return fmt.Errorf("status %+v, want the store's version %s applied with %d+ pools", st, store.VersionOf(data), n)
		}
		return nil
	})
}

// TestPipelineRenameUnderLoad: renaming a pool while clients hammer it
// fails no request: the renamed pool is created, the routes swap to it at
// once, and the old pool closes after its requests finished. (Before, the
// old pool was removed before the routes moved: requests got 503
// "application pool ... does not exist".) The tool returns once the host
// applied the rename, and the host's status names the store's version.
func TestPipelineRenameUnderLoad(t *testing.T) {
	t.Parallel()
	heavy(t)
	e := newHostEnv(t)
	e.addTestPool("PipePy", "/", "/processModel.maxProcesses:2")
	e.startHost()
	l := startPipeLoad(e, 4)
	defer l.stop()
	l.await(t, 100, "before the rename")
	e.run("set", "apppool", "PipePy", "/name:PipePyC")
	c := hostapi.NewClient(e.socket)
	ctx, cancel := context.WithTimeout(context.Background(), guard(time.Minute))
	defer cancel()
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(e.store)
	if err != nil {
		t.Fatal(err)
	}
	if st.Applied != store.VersionOf(data) {
		t.Errorf("after the tool returned the host applied %q, the store is %q", st.Applied, store.VersionOf(data))
	}
	pools, err := c.Pools(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range pools {
		names = append(names, p.Name)
	}
	if !strings.Contains(strings.Join(names, ","), "PipePyC") {
		t.Errorf("the host runs %v right after the rename, want PipePyC", names)
	}
	l.await(t, 100, "after the rename")
	e.run("set", "apppool", "PipePyC", "/name:PipePy2")
	l.await(t, 100, "after the second rename")
	waitFor(t, 20*time.Second, "a worker of PipePy2 answers", func() error {
		code, body, _ := e.get("/")
		if code != 200 || !strings.Contains(body, "pool=PipePy2") {
			return fmt.Errorf("GET / = %d %q", code, body)
		}
		return nil
	})
	l.stop()
	if f := l.failures(); len(f) > 0 {
		t.Errorf("%d of %d requests failed across two renames; first: %s\n%s", len(f), l.ok.Load()+int64(len(f)), f[0], e.log())
	}
}

// pipeLoad is a few clients requesting "/" in a loop.
type pipeLoad struct {
	ok   atomic.Int64
	mu   sync.Mutex
	bad  []string
	quit chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

func startPipeLoad(e *hostEnv, conns int) *pipeLoad {
	l := &pipeLoad{quit: make(chan struct{})}
	hc := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: conns}}
	for range conns {
		l.wg.Go(func() {
			for {
				select {
				case <-l.quit:
					return
				default:
				}
				resp, err := hc.Get(e.url("/"))
				if err != nil {
					l.fail(err.Error())
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					l.fail(fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(body))))
					continue
				}
				l.ok.Add(1)
			}
		})
	}
	return l
}

func (l *pipeLoad) fail(msg string) {
	l.mu.Lock()
	l.bad = append(l.bad, msg)
	l.mu.Unlock()
}

func (l *pipeLoad) failures() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.bad...)
}

// await waits until n more requests succeeded.
func (l *pipeLoad) await(t *testing.T, n int64, what string) {
	t.Helper()
	want := l.ok.Load() + n
	waitFor(t, 30*time.Second, fmt.Sprintf("%d requests served %s", n, what), func() error {
		if got := l.ok.Load(); got < want {
			return fmt.Errorf("%d of %d", got, want)
		}
		return nil
	})
}

func (l *pipeLoad) stop() {
	l.once.Do(func() { close(l.quit); l.wg.Wait() })
}

// TestPipelineSetDoesNotWaitForRecycle: a change that recycles a pool
// (its workers' environment) is applied without waiting for the
// replacement worker, which here cannot get ready until the test lets it:
// the tool returns at once with nothing to say, the host reports the
// store's version applied, and the old worker serves meanwhile. (Before,
// the recycle ran inside the apply: the tool waited its whole --timeout and
// warned that the host did not take the store.)
func TestPipelineSetDoesNotWaitForRecycle(t *testing.T) {
	t.Parallel()
	heavy(t)
	e := newHostEnv(t)
	gate := filepath.Join(e.dir, "gate")
	if err := os.WriteFile(gate, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	e.addTestPool("PipeRc", "/", "/processModel.maxProcesses:1", "/processModel.startupTimeLimit:00:05:00",
		"/+environmentVariables.[name='TW_WAIT_FILE',value='"+gate+"']")
	e.startHost()
	code, before, _ := e.get("/")
	if code != 200 {
		t.Fatalf("GET / = %d %q", code, before)
	}
	if err := os.Remove(gate); err != nil { // the next worker waits for it
		t.Fatal(err)
	}
	_, stderr, exit := e.poolctl("set", "apppool", "PipeRc", "/+environmentVariables.[name='PIPE_GEN',value='2']")
	if exit != 0 || strings.TrimSpace(stderr) != "" {
		t.Fatalf("set: exit %d, stderr %q; want 0 and nothing", exit, stderr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), guard(time.Minute))
	defer cancel()
	st, err := hostapi.NewClient(e.socket).Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(e.store)
	if err != nil {
		t.Fatal(err)
	}
	if st.Applied != store.VersionOf(data) {
		t.Errorf("applied %q, the store is %q", st.Applied, store.VersionOf(data))
	}
	// The replacement cannot be ready: the old worker answers.
	if code, body, _ := e.get("/"); code != 200 || body != before {
		t.Errorf("during the recycle GET / = %d %q, want 200 from the old worker %q", code, body, before)
	}
	if err := os.WriteFile(gate, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the replacement worker serves", func() error {
		if code, body, _ := e.get("/"); code != 200 || body == before {
			return fmt.Errorf("GET / = %d %q", code, body)
		}
		return nil
	})
}
