package apppool

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// TestRestAfterStartAndBurst: the host comes to rest (OnRest runs once)
// after its workers have started, and again after requests; at rest, the
// watch's timer is stopped, so an idle host has no wake-up of its own.
func TestRestAfterStartAndBurst(t *testing.T) {
	tp := newWorkerPool(t, 2, true)
	var rests atomic.Int32
	tp.rest = newRestWatch(20*time.Millisecond, func() { rests.Add(1) }, nil)
	t.Cleanup(tp.rest.stop)
	startPool(t, tp.Pool)
	waitFor(t, "the workers", func() bool { k, _ := tp.serving(); return k == 2 })
	waitFor(t, "rest after start-up", func() bool { return rests.Load() >= 1 && !tp.rest.armed.Load() })
	after := rests.Load()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for range 5 {
		if err := tp.get(ctx); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "rest after the requests", func() bool { return rests.Load() > after && !tp.rest.armed.Load() })
}

// TestRestWatchWaitsForLaunches: a launch in flight keeps the host busy
// however long it takes; its end brings the rest.
func TestRestWatchWaitsForLaunches(t *testing.T) {
	var rests, busy atomic.Int32
	r := newRestWatch(5*time.Millisecond, func() { rests.Add(1) }, func() { busy.Add(1) })
	t.Cleanup(r.stop)
	r.launchBegin()
	// Many quiet periods pass with the launch in flight: the timer looks
	// again each time and stays armed.
	deadline := time.Now().Add(30 * time.Second)
	for r.lookCount() < 5 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := rests.Load(); n != 0 || !r.armed.Load() {
		t.Fatalf("with a launch in flight: %d rests, armed %v; want 0, true", n, r.armed.Load())
	}
	r.launchEnd()
	waitFor(t, "rest after the launch", func() bool { return rests.Load() == 1 && !r.armed.Load() })
	if n := busy.Load(); n != 1 {
		t.Errorf("OnBusy ran %d times before the first rest, want 1", n)
	}
	r.touch()
	r.touch()
	waitFor(t, "rest after a touch", func() bool { return rests.Load() == 2 && !r.armed.Load() })
	if n := busy.Load(); n != 2 {
		t.Errorf("OnBusy ran %d times after the second busy spell, want 2", n)
	}
}

// BenchmarkRestTouch: what every request pays for the rest watch (twice:
// Acquire and Release), from every CPU at once, while the timer runs.
func BenchmarkRestTouch(b *testing.B) {
	r := newRestWatch(time.Hour, func() {}, nil)
	b.Cleanup(r.stop)
	r.touch()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r.touch()
		}
	})
}
