package hosttest

// Helpers of the live-change tests (issue 10): a load that runs in the
// background while the test changes the store, and looks at the host's
// runtime through its control API. Every pool of these tests has a name
// starting with "Lv" (the random-changes test: "Rc").

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/poolctl/poolctl/hostapi"
	"github.com/poolctl/poolctl/runstate"
)

// liveLoadLimit is the hard limit of a background load: a guard against a
// test that never stops its load, never the length of a run.
const liveLoadLimit = 5 * time.Minute

// bgLoad is a closed-loop load running in the background (see runLoad).
type bgLoad struct {
	stop   chan struct{}
	done   chan *loadResult
	sent   *atomic.Int64 // requests started so far
	once   sync.Once
	result *loadResult
}

// startLoad starts conns connections of load on addr, each sending
// path(c, n) back to back, until finish is called (also at cleanup).
func (e *hostEnv) startLoad(addr string, conns int, path func(c, n int) string) *bgLoad {
	e.t.Helper()
	l := &bgLoad{stop: make(chan struct{}), done: make(chan *loadResult, 1), sent: &atomic.Int64{}}
	counted := func(c, n int) string {
		l.sent.Add(1)
		return path(c, n)
	}
	go func() {
		l.done <- runLoad(loadSpec{Addr: addr, Path: counted, Conns: conns, Duration: liveLoadLimit,
			MaxRequests: 50_000_000, RequestTimeout: 60 * time.Second}, l.stop)
	}()
	e.t.Cleanup(func() { l.finish() })
	return l
}

// finish stops the load and returns its outcome (the same on every call).
func (l *bgLoad) finish() *loadResult {
	l.once.Do(func() {
		close(l.stop)
		l.result = <-l.done
	})
	return l.result
}

// progress waits until the load has sent n more requests than when it is
// called: the load is running, whatever the machine's speed.
func (l *bgLoad) progress(t *testing.T, n int64, what string) {
	t.Helper()
	from := l.sent.Load()
	waitFor(t, 20*time.Second, fmt.Sprintf("%d requests of load (%s)", n, what), func() error {
		if got := l.sent.Load() - from; got < n {
			return fmt.Errorf("%d requests sent", got)
		}
		return nil
	})
}

// checkNoFailure fails the test unless every request of the load got a 2xx
// answer from a worker.
func checkNoFailure(t *testing.T, e *hostEnv, what string, r *loadResult) {
	t.Helper()
	t.Logf("%s: %s", what, r.Summary())
	if r.Requests == 0 {
		t.Errorf("%s: no request was sent", what)
		return
	}
	if r.Failed() > 0 {
		t.Errorf("%s: %d of %d requests failed (statuses %v); first failures:\n  %s\nhost log (tail):\n%s", what, r.Failed(), r.Requests,
			r.Statuses, strings.Join(r.Failures, "\n  "), tailString(e.log(), 6000))
	}
}

// apiPools returns the host's pools by name (control API).
func (e *hostEnv) apiPools() (map[string]hostapi.PoolStatus, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ps, err := hostapi.NewClient(e.socket).Pools(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]hostapi.PoolStatus, len(ps))
	for _, p := range ps {
		out[p.Name] = p
	}
	return out, nil
}

// workerStates counts a pool's workers by state; the second result lists
// them for a message.
func workerStates(p hostapi.PoolStatus) (map[runstate.Worker]int, string) {
	n := map[runstate.Worker]int{}
	var desc []string
	for _, w := range p.Workers {
		n[w.State]++
		desc = append(desc, fmt.Sprintf("%d:%s", w.PID, w.State))
	}
	slices.Sort(desc)
	return n, strings.Join(desc, " ")
}

// waitWorkers waits until pool runs exactly want workers, all Ready (the
// extra ones have drained and gone, the missing ones have started), as
// both the control API and `list wp` say.
func (e *hostEnv) waitWorkers(pool string, want int, d time.Duration) []int {
	e.t.Helper()
	var pids []int
	waitFor(e.t, d, fmt.Sprintf("%d Ready workers of %s and no other", want, pool), func() error {
		ps, err := e.apiPools()
		if err != nil {
			return err
		}
		p, ok := ps[pool]
		if !ok {
			return fmt.Errorf("no pool %q in the host", pool)
		}
		n, desc := workerStates(p)
		if len(p.Workers) != want || n[runstate.WorkerReady] != want {
			return fmt.Errorf("workers %s", desc)
		}
		pids = e.workers(pool)
		if len(pids) != want {
			return fmt.Errorf("list wp shows %v", pids)
		}
		return nil
	})
	return pids
}

// waitPoolState waits until the host reports pool in state want.
func (e *hostEnv) waitPoolState(pool string, want runstate.Pool, d time.Duration) hostapi.PoolStatus {
	e.t.Helper()
	var got hostapi.PoolStatus
	waitFor(e.t, d, fmt.Sprintf("pool %s %s", pool, want), func() error {
		ps, err := e.apiPools()
		if err != nil {
			return err
		}
		p, ok := ps[pool]
		if !ok {
			return fmt.Errorf("no pool %q in the host", pool)
		}
		if p.State != want {
			return fmt.Errorf("state %s (%s)", p.State, p.Reason)
		}
		got = p
		return nil
	})
	return got
}

// toolAsync runs the tool in the background; the channel gets its combined
// output and error.
func (e *hostEnv) toolAsync(args ...string) <-chan toolResult {
	ch := make(chan toolResult, 1)
	go func() {
		out, err := e.lcTool(args...)
		ch <- toolResult{out: out, err: err}
	}()
	return ch
}

// toolResult is the outcome of a tool run made off the test goroutine.
type toolResult struct {
	out string
	err error
}

// awaitTool waits for a background tool run (the deadline is a guard).
func (e *hostEnv) awaitTool(ch <-chan toolResult, what string, d time.Duration) toolResult {
	e.t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(guard(d)):
		e.t.Fatalf("%s: the tool did not return within %s\nhost log (tail):\n%s", what, guard(d), tailString(e.log(), 6000))
	}
	return toolResult{}
}

// addr is the default site's address.
func (e *hostEnv) addr() string { return fmt.Sprintf("127.0.0.1:%d", e.port) }

// constPath returns a load path function that always sends p.
func constPath(p string) func(c, n int) string { return func(int, int) string { return p } }

// raceCheck makes the test fail when the host reported a data race: run
// with GOFLAGS=-race, the harness's go build makes a race-enabled poolctl,
// whose reports go to the host log. At cleanup it stops the host first
// (stopHost is idempotent), so that races during shutdown count too.
func (e *hostEnv) raceCheck() {
	e.t.Cleanup(func() {
		e.stopHost()
		if log := e.log(); strings.Contains(log, "WARNING: DATA RACE") {
			i := strings.Index(log, "WARNING: DATA RACE")
			e.t.Errorf("the host reported a data race:\n%s", log[i:min(len(log), i+12000)])
		}
	})
}
