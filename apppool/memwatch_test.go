package apppool

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/poolctl/poolctl/internal/cgroup"
	"github.com/poolctl/poolctl/internal/proc"
	"github.com/poolctl/poolctl/store"
)

// memLimitKB is the privateMemory limit of the memory tests: far above a
// test worker's start, reached after a few leaks of leakMB.
const (
	memLimitKB = 48 << 10
	leakMB     = 4
)

// newLeakPool is a one-worker pool of test workers with a privateMemory
// limit of memLimitKB, sampled every sample (kernel reports off when
// noKernel), started and serving.
func newLeakPool(t *testing.T, sample time.Duration, noKernel bool) *testPool {
	t.Helper()
	tp := newWorkerPool(t, 1, true)
	zero, limit, off := uint64(0), uint64(memLimitKB), store.TimeSpan(0)
	var sched []store.TimeSpan
	tp.mu.Lock()
	tp.launcher.SampleInterval = sample
	tp.launcher.NoKernelMemory = noKernel
	tp.settings.Resolved.Recycling = &store.Recycling{PeriodicRestart: &store.PeriodicRestart{
		Memory: &zero, PrivateMemory: &limit, Requests: &zero, Time: &off, Schedule: &sched}}
	tp.mu.Unlock()
	startPool(t, tp.Pool)
	waitFor(t, "one worker serving", func() bool { n, _ := tp.serving(); return n == 1 })
	return tp
}

// leakUntilOver sends GET /leak through the pool until the worker's
// private memory is over the limit, and returns that worker.
func leakUntilOver(t *testing.T, tp *testPool) *Worker {
	t.Helper()
	front := frontOf(t, tp.Pool)
	w := activeWorkers(tp.Pool)[0]
	for range 2 * memLimitKB / (leakMB << 10) {
		resp, err := http.Get(front.URL + "/leak?mb=" + strconv.Itoa(leakMB))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(string(b), "worker ") {
			t.Fatalf("GET /leak: %s %q", resp.Status, b)
		}
		u, err := proc.GroupUsage(w.PID)
		if errors.Is(err, os.ErrNotExist) && overLimit(tp, w) {
			return w // already replaced and gone
		}
		if err != nil {
			t.Fatal(err)
		}
		if u.PrivateKB > memLimitKB {
			return w
		}
	}
	t.Fatalf("the worker never went over %d KB", memLimitKB)
	return nil
}

// overLimit reports whether the pool took w out of dispatch for its
// memory.
func overLimit(tp *testPool, w *Worker) bool {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return w.overLimit
}

// TestKernelMemoryReport: with kernel reports on (skipped with the reason
// where the host cannot write a memory cgroup) and /proc sampling out of
// the way (an hour apart), a worker that crosses its privateMemory limit
// is taken out of dispatch and replaced without another request or
// sample; its watch's goroutine ends and its memory cgroup goes once it
// has exited.
func TestKernelMemoryReport(t *testing.T) {
	base := watchFDs()
	tp := newLeakPool(t, time.Hour, false)
	if tp.memoryRoot() == nil {
		t.Skipf("kernel memory reports are not available here (%v): the sampled fallback is tested by TestSampledMemoryFallback", memRoot.err)
	}
	// The first tick's sample has happened or is made moot.
	if err := tp.do(context.Background(), func() error { tp.trig.lastSample = time.Now(); return nil }); err != nil {
		t.Fatal(err)
	}
	w := activeWorkers(tp.Pool)[0]
	if w.mem == nil {
		t.Fatal("the worker has no kernel memory watch")
	}
	dir := w.mem.g.Dir
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("the worker's memory cgroup: %v", err)
	}
	w = leakUntilOver(t, tp)
	waitFor(t, "the kernel's report taking the worker out of dispatch", func() bool { return overLimit(tp, w) })
	waitFor(t, "a replacement serving", func() bool {
		ws := activeWorkers(tp.Pool)
		return len(ws) == 1 && ws[0] != w
	})
	waitFor(t, "the old worker exited", func() bool {
		tp.mu.Lock()
		defer tp.mu.Unlock()
		return w.state == WorkerExited
	})
	select {
	case <-w.mem.done:
	case <-time.After(time.Minute):
		t.Fatal("the old worker's memory watch goroutine did not end")
	}
	waitFor(t, "the old worker's memory cgroup removed", func() bool {
		_, err := os.Stat(dir)
		return errors.Is(err, os.ErrNotExist) || w.mem.g.Version != cgroup.V1
	})
	w.mem.mu.Lock()
	closed := w.mem.closed
	w.mem.mu.Unlock()
	if !closed {
		t.Error("the old worker's watch is still open")
	}
	// One descriptor per watched worker: the replacement's alone now,
	// none once the pool stopped.
	if n := watchFDs(); n != base+1 {
		t.Errorf("%d watch descriptors open with one worker, want %d", n, base+1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := tp.Stop(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every watch descriptor closed", func() bool { return watchFDs() == base })
}

// watchFDs counts this process's eventfd and inotify descriptors (the Go
// runtime keeps one eventfd of its own).
func watchFDs() int {
	ents, _ := os.ReadDir("/proc/self/fd")
	n := 0
	for _, e := range ents {
		l, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err == nil && (l == "anon_inode:[eventfd]" || l == "anon_inode:inotify") {
			n++
		}
	}
	return n
}

// TestSampledMemoryFallback: with kernel reports off, the /proc sampler
// (every 100ms here) finds the worker over its limit and replaces it the
// same way.
func TestSampledMemoryFallback(t *testing.T) {
	tp := newLeakPool(t, 100*time.Millisecond, true)
	w := activeWorkers(tp.Pool)[0]
	if w.mem != nil {
		t.Fatal("a kernel memory watch with NoKernelMemory")
	}
	w = leakUntilOver(t, tp)
	waitFor(t, "the sampler taking the worker out of dispatch", func() bool { return overLimit(tp, w) })
	waitFor(t, "a replacement serving", func() bool {
		ws := activeWorkers(tp.Pool)
		return len(ws) == 1 && ws[0] != w
	})
}

// TestOverLimitFailedReplacementServesQueue: a worker taken out of
// dispatch for its memory whose replacement cannot start gets requests
// again, including those already waiting in the queue (before, a queued
// request waited until some other request released a worker).
func TestOverLimitFailedReplacementServesQueue(t *testing.T) {
	tp := newWorkerPool(t, 1, true)
	startPool(t, tp.Pool)
	waitFor(t, "one worker serving", func() bool { n, _ := tp.serving(); return n == 1 })
	w := activeWorkers(tp.Pool)[0]
	tp.flag(t, "hold", true) // the replacement does not get ready before the request is queued
	if err := tp.do(context.Background(), func() error { tp.recycleOverLimit(w, 5117, "test"); return nil }); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the replacement started", func() bool { return tp.count("started.") == 2 })
	served := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		served <- tp.get(ctx)
	}()
	waitFor(t, "the request queued", func() bool {
		tp.mu.Lock()
		defer tp.mu.Unlock()
		return tp.waiters.Len() == 1
	})
	// The replacement dies: kill it while it is held.
	tp.mu.Lock()
	var repl *Worker
	for x := range tp.launching {
		repl = x
	}
	tp.mu.Unlock()
	if repl == nil {
		t.Fatal("no replacement starting")
	}
	_, _ = repl.proc.Stop(context.Background(), 0)
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("the queued request: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the queued request was never served")
	}
	if overLimit(tp, w) && !func() bool { tp.mu.Lock(); defer tp.mu.Unlock(); return tp.trig.spentFail[w] }() {
		t.Error("the worker is still out of dispatch")
	}
}
