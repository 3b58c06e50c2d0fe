package apppool

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/poolctl/poolctl/store"
)

func startPool(t *testing.T, p *Pool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestLoopAnswersDuringSlowRecycle: while a recycle waits for a
// replacement that is slow to become ready, the pool's loop still answers:
// Stop completes (the pending launch is abandoned) and the recycle reports
// that the pool stopped.
func TestLoopAnswersDuringSlowRecycle(t *testing.T) {
	tp := newWorkerPool(t, 1, true)
	startPool(t, tp.Pool)
	waitFor(t, "one worker serving", func() bool { n, _ := tp.serving(); return n == 1 })
	tp.flag(t, "hold", true) // the replacement will not listen
	recycled := make(chan error, 1)
	go func() {
		_, err := tp.Recycle(context.Background(), 5079, "test")
		recycled <- err
	}()
	waitFor(t, "the replacement started", func() bool { return tp.count("started.") == 2 })
	waitFor(t, "the replacement in state Starting", func() bool {
		tp.mu.Lock()
		defer tp.mu.Unlock()
		for w := range tp.launching {
			if w.state == WorkerStarting {
				return true
			}
		}
		return false
	})
	if st := tp.State(); st != Started {
		t.Fatalf("State() during the recycle = %s", st)
	}
	// The hold file still exists: the replacement cannot become ready
	// until the test ends, so only a loop that never waits can stop now.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := tp.Stop(ctx, "test"); err != nil {
		t.Fatalf("Stop during a slow recycle: %v", err)
	}
	if st := tp.Status().State; st != Stopped {
		t.Fatalf("state after Stop = %s", st)
	}
	if n := tp.alive(); n != 0 {
		t.Errorf("%d workers left after Stop", n)
	}
	select {
	case err := <-recycled:
		if err == nil {
			t.Error("the recycle interrupted by Stop reported success")
		}
	case <-ctx.Done():
		t.Fatal("the recycle caller was never answered")
	}
}

// TestReconfigureNeverWaits: a config-change recycle runs in the
// background; Reconfigure returns while the replacement is still starting.
func TestReconfigureNeverWaits(t *testing.T) {
	tp := newWorkerPool(t, 1, true)
	startPool(t, tp.Pool)
	waitFor(t, "one worker serving", func() bool { n, _ := tp.serving(); return n == 1 })
	_, before := tp.serving()
	tp.flag(t, "hold", true)
	s := testSettings(tp.Pool)
	s.startHash = "changed"
	done := make(chan struct{})
	go func() { testReconfigure(tp.Pool, s); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Reconfigure waited for the config-change recycle")
	}
	waitFor(t, "the replacement started", func() bool { return tp.count("started.") == 2 })
	if n, pids := tp.serving(); n != 1 || pids[0] != before[0] {
		t.Fatalf("serving %v while the replacement starts, want the old worker %v", pids, before)
	}
	tp.flag(t, "hold", false)
	waitFor(t, "the replacement serves", func() bool {
		n, pids := tp.serving()
		return n == 1 && pids[0] != before[0] && tp.alive() == 1
	})
}

// TestMaxProcessesLive: maxProcesses changed on a running pool applies
// at once, without a failed request: 3 → 1 drains two workers, 1 → 4
// starts three.
func TestMaxProcessesLive(t *testing.T) {
	tp := newWorkerPool(t, 3, true)
	startPool(t, tp.Pool)
	waitFor(t, "three workers", func() bool { n, _ := tp.serving(); return n == 3 })
	stop := make(chan struct{})
	wait := tp.load(4, stop)
	s := testSettings(tp.Pool)
	s.MaxProcesses = 1
	s.startHash = s.digest()
	testReconfigure(tp.Pool, s)
	waitFor(t, "one worker after 3 → 1", func() bool { n, _ := tp.serving(); return n == 1 && tp.alive() == 1 })
	s.MaxProcesses = 2
	s.startHash = s.digest()
	testReconfigure(tp.Pool, s)
	waitFor(t, "two workers after 1 → 2", func() bool { n, _ := tp.serving(); return n == 2 })
	s.MaxProcesses = 4
	s.startHash = s.digest()
	testReconfigure(tp.Pool, s)
	waitFor(t, "four workers after 2 → 4", func() bool { n, _ := tp.serving(); return n == 4 })
	close(stop)
	ok, errs := wait()
	if len(errs) > 0 {
		t.Fatalf("%d requests failed (%d answered) while maxProcesses changed; first: %v", len(errs), ok, errs[0])
	}
	if ok == 0 {
		t.Fatal("no request was answered")
	}
}

// withRapidFail turns on rapid-fail protection on p: maxCrashes failures
// within an hour disable it.
func withRapidFail(p *Pool, maxCrashes uint64) {
	on, window := true, store.TimeSpan(time.Hour)
	s := testSettings(p)
	s.Resolved.Failure = &store.Failure{RapidFailProtection: &on, RapidFailProtectionMaxCrashes: &maxCrashes,
		RapidFailProtectionInterval: &window}
	testReconfigure(p, s)
}

// TestStartupDeathRelaunched: a worker that dies during start-up is
// replaced (with backoff) while the pool should have workers, and a
// request queued meanwhile is served once a worker starts.
func TestStartupDeathRelaunched(t *testing.T) {
	tp := newWorkerPool(t, 1, true)
	withRapidFail(tp.Pool, 1000)
	tp.flag(t, "die", true)
	startPool(t, tp.Pool)
	waitFor(t, "a second start-up after a start-up death", func() bool { return tp.count("died.") >= 2 })
	got := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		got <- tp.get(ctx)
	}()
	waitFor(t, "the request queued", func() bool { return tp.Status().Queue == 1 })
	tp.flag(t, "die", false)
	if err := <-got; err != nil {
		t.Fatalf("request queued during start-up deaths: %v", err)
	}
	waitFor(t, "a worker serving", func() bool { n, _ := tp.serving(); return n == 1 })
}

// TestStartupDeathTripsRapidFail: start-up deaths count for rapid-fail
// protection, which disables the pool at the limit.
func TestStartupDeathTripsRapidFail(t *testing.T) {
	tp := newWorkerPool(t, 1, true)
	withRapidFail(tp.Pool, 3)
	tp.flag(t, "die", true)
	startPool(t, tp.Pool)
	waitFor(t, "the pool disabled", func() bool { st := tp.Status(); return st.State == Stopped && st.Disabled })
	if n := tp.count("died."); n != 3 {
		t.Errorf("%d start-up deaths before the pool was disabled, want 3", n)
	}
	if _, err := tp.Acquire(context.Background(), &Request{}); !errors.Is(err, ErrPoolDisabled) {
		t.Errorf("Acquire = %v, want ErrPoolDisabled", err)
	}
}

// TestRollingRecycleWebGarden: a web garden recycles one worker at a
// time, keeping at least N-1 workers serving, under load without a
// failed request.
func TestRollingRecycleWebGarden(t *testing.T) {
	for _, overlap := range []bool{true, false} {
		t.Run(map[bool]string{true: "overlap", false: "rotate"}[overlap], func(t *testing.T) {
			tp := newWorkerPool(t, 3, true)
			s := testSettings(tp.Pool)
			s.Overlap = overlap
			testReconfigure(tp.Pool, s)
			startPool(t, tp.Pool)
			waitFor(t, "three workers", func() bool { n, _ := tp.serving(); return n == 3 })
			_, before := tp.serving()
			stop := make(chan struct{})
			wait := tp.load(4, stop)
			minServing := make(chan int, 1)
			sampling := make(chan struct{})
			go func() {
				low := 3
				for {
					select {
					case <-sampling:
						minServing <- low
						return
					default:
					}
					n, _ := tp.serving()
					low = min(low, n)
					time.Sleep(time.Millisecond)
				}
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			res, err := tp.Recycle(ctx, 5079, "test")
			close(sampling)
			close(stop)
			ok, errs := wait()
			if err != nil {
				t.Fatal(err)
			}
			if len(errs) > 0 {
				t.Fatalf("%d requests failed (%d answered) during the recycle; first: %v", len(errs), ok, errs[0])
			}
			slices.Sort(res.Old)
			slices.Sort(before)
			if !slices.Equal(res.Old, before) || len(res.New) != 3 {
				t.Fatalf("recycle replaced %v with %v, want %v replaced", res.Old, res.New, before)
			}
			if low := <-minServing; low < 2 {
				t.Errorf("only %d workers served at one point of the rolling recycle, want at least 2", low)
			}
		})
	}
}

// TestSecondRecycleJoins: a recycle asked for while one runs joins it:
// both callers get the same result, and each worker is replaced once.
func TestSecondRecycleJoins(t *testing.T) {
	tp := newWorkerPool(t, 2, true)
	startPool(t, tp.Pool)
	waitFor(t, "two workers", func() bool { n, _ := tp.serving(); return n == 2 })
	tp.flag(t, "hold", true)
	results := make(chan RecycleResult, 2)
	recycle := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		res, err := tp.Recycle(ctx, 5079, "test")
		if err != nil {
			t.Error(err)
		}
		results <- res
	}
	go recycle()
	waitFor(t, "the first replacement started", func() bool { return tp.count("started.") == 3 })
	go recycle()
	waitFor(t, "the second caller joined", func() bool {
		got := make(chan int, 1)
		if tp.do(context.Background(), func() error {
			n := 0
			if tp.sup.plan != nil {
				n = len(tp.sup.plan.callers)
			}
			got <- n
			return nil
		}) != nil {
			return false
		}
		return <-got == 2
	})
	tp.flag(t, "hold", false)
	a, b := <-results, <-results
	if len(a.Old) != 2 || len(a.New) != 2 || !slices.Equal(a.Old, b.Old) || !slices.Equal(a.New, b.New) {
		t.Fatalf("results %+v and %+v, want the same two workers replaced", a, b)
	}
	if n := tp.count("started."); n != 4 {
		t.Errorf("%d workers started, want 2 + 2 replacements", n)
	}
}

// TestQueueLengthLive: queueLength changed on a running pool applies to
// the next request.
func TestQueueLengthLive(t *testing.T) {
	tp := newWorkerPool(t, 1, true)
	s := testSettings(tp.Pool)
	s.MaxConcurrent, s.QueueLength = 1, 1
	testReconfigure(tp.Pool, s)
	startPool(t, tp.Pool)
	waitFor(t, "one worker serving", func() bool { n, _ := tp.serving(); return n == 1 })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	busy := &Request{}
	w, err := tp.Acquire(ctx, busy)
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Release(w, busy)
	queued := func() { // a queued request, released when it gets the worker
		r := &Request{}
		if w, err := tp.Acquire(ctx, r); err == nil {
			tp.Release(w, r)
		}
	}
	go queued()
	waitFor(t, "one request queued", func() bool { return tp.Status().Queue == 1 })
	if _, err := tp.Acquire(ctx, &Request{}); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("Acquire with queueLength 1 full = %v, want ErrQueueFull", err)
	}
	s.QueueLength = 2
	testReconfigure(tp.Pool, s)
	waitFor(t, "queueLength 2 applied", func() bool {
		tp.mu.Lock()
		defer tp.mu.Unlock()
		return tp.settings.QueueLength == 2
	})
	go queued()
	waitFor(t, "two requests queued", func() bool { return tp.Status().Queue == 2 })
}
