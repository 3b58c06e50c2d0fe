package farm

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
)

// TestRollOneAtATime: with n = 1 the steps never overlap and run in order;
// a failing step does not stop the others.
func TestRollOneAtATime(t *testing.T) {
	var running, most atomic.Int32
	var order []string
	boom := errors.New("boom")
	var results = map[string]error{}
	Roll(context.Background(), []string{"h1", "h2", "h3"}, 1, func(_ context.Context, name string) error {
		cur := running.Add(1)
		defer running.Add(-1)
		if cur > most.Load() {
			most.Store(cur)
		}
		order = append(order, name) // no overlap: no race
		if name == "h2" {
			return boom
		}
		return nil
	}, func(name string, err error) { results[name] = err })
	if most.Load() != 1 {
		t.Fatalf("%d steps ran at once, want 1", most.Load())
	}
	if !slices.Equal(order, []string{"h1", "h2", "h3"}) {
		t.Fatalf("order %v", order)
	}
	if !errors.Is(results["h2"], boom) || results["h1"] != nil || results["h3"] != nil || len(results) != 3 {
		t.Fatalf("results %v", results)
	}
}

// TestRollWindow: with n = 2, two steps run at once and never three.
func TestRollWindow(t *testing.T) {
	var running, most atomic.Int32
	both := make(chan struct{})
	var once sync.Once
	var n atomic.Int32
	Roll(context.Background(), []string{"a", "b", "c", "d"}, 2, func(_ context.Context, _ string) error {
		cur := running.Add(1)
		defer running.Add(-1)
		for {
			m := most.Load()
			if cur <= m || most.CompareAndSwap(m, cur) {
				break
			}
		}
		if n.Add(1) == 2 {
			once.Do(func() { close(both) })
		}
		<-both // the first two wait for each other: both run at once
		return nil
	}, func(string, error) {})
	if most.Load() != 2 {
		t.Fatalf("at most %d steps ran at once, want 2", most.Load())
	}
}

// TestRollCancelled: steps not started when ctx ends are done with its error.
func TestRollCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	got := map[string]error{}
	Roll(ctx, []string{"h1", "h2"}, 1, func(context.Context, string) error {
		cancel()
		return nil
	}, func(name string, err error) { got[name] = err })
	if got["h1"] != nil || !errors.Is(got["h2"], context.Canceled) {
		t.Fatalf("got %v", got)
	}
}
