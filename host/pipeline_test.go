package host

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestPipelineCoalesces: N concurrent requests while an apply runs are all
// served by at most one more apply (2 in all), and each caller sees a
// version that includes the write it made before asking.
func TestPipelineCoalesces(t *testing.T) {
	var writes atomic.Int64 // the "store": its version is the number of writes
	var applies atomic.Int64
	entered := make(chan struct{}, 16)
	release := make(chan struct{})
	q := newPipeline(func(context.Context) (string, error) {
		applies.Add(1)
		v := writes.Load() // loading: what was written before now
		entered <- struct{}{}
		<-release
		return strconv.FormatInt(v, 10), nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); q.run(ctx) }()
	defer func() { cancel(); <-done }()

	// A first request starts an apply, which blocks.
	first := q.request()
	<-entered
	const n = 50
	var asked atomic.Int64
	var wg sync.WaitGroup
	versions := make([]int64, n)
	wrote := make([]int64, n)
	for i := range n {
		wg.Go(func() {
			wrote[i] = writes.Add(1) // a tool writes the store, then asks
			o := q.request()
			asked.Add(1)
			if err := o.wait(ctx); err != nil {
				t.Error(err)
				return
			}
			versions[i], _ = strconv.ParseInt(o.version, 10, 64)
		})
	}
	// Every request is queued behind the running apply.
	deadline := time.Now().Add(20 * time.Second)
	for asked.Load() < n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if !q.status().pending {
		t.Error("status not pending while an apply runs and requests wait")
	}
	close(release) // let every apply through from now on
	if err := first.wait(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if got := applies.Load(); got > 2 {
		t.Errorf("%d applies for a burst of %d requests, want at most 2", got, n+1)
	}
	for i := range n {
		if versions[i] < wrote[i] {
			t.Errorf("caller %d wrote version %d and was answered with %d: an apply that did not include its write", i, wrote[i], versions[i])
		}
	}
	st := q.status()
	if st.pending || st.generation != uint64(applies.Load()) || st.applied != strconv.FormatInt(writes.Load(), 10) {
		t.Errorf("status %+v after %d applies of version %d", st, applies.Load(), writes.Load())
	}
}

// TestPipelineLoadErrorKeepsVersion: an apply whose store does not load
// answers its callers with the error and keeps the version applied before.
func TestPipelineLoadErrorKeepsVersion(t *testing.T) {
	fail := errors.New("store did not load")
	var bad atomic.Bool
	q := newPipeline(func(context.Context) (string, error) {
		if bad.Load() {
			return "", fail
		}
		return "v1", nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); q.run(ctx) }()
	defer func() { cancel(); <-done }()
	if st := q.status(); !st.pending || st.generation != 0 {
		t.Errorf("before the first apply: %+v, want pending, generation 0", st)
	}
	o := q.request()
	if err := o.wait(ctx); err != nil || o.version != "v1" {
		t.Fatalf("first apply: %v %q", err, o.version)
	}
	bad.Store(true)
	o = q.request()
	if err := o.wait(ctx); !errors.Is(err, fail) {
		t.Errorf("apply of a store that does not load: %v, want %v", err, fail)
	}
	if st := q.status(); st.applied != "v1" || st.generation != 1 {
		t.Errorf("after a failed load: %+v, want v1 applied, generation 1", st)
	}
}

// TestPipelineWaitEndsWithContext: a caller whose context ends stops
// waiting; the apply goes on and serves the others.
func TestPipelineWaitEndsWithContext(t *testing.T) {
	release := make(chan struct{})
	q := newPipeline(func(context.Context) (string, error) { <-release; return "v", nil })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); q.run(ctx) }()
	defer func() { cancel(); <-done }()
	short, stop := context.WithCancel(ctx)
	o := q.request()
	stop()
	if err := o.wait(short); !errors.Is(err, context.Canceled) {
		t.Errorf("wait = %v, want context.Canceled", err)
	}
	close(release)
	if err := o.wait(ctx); err != nil || o.version != "v" {
		t.Errorf("the apply went on: %v %q", err, o.version)
	}
}
