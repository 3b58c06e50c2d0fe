package apppool

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/poolctl/poolctl/store"
)

// newFailingPool returns a started AlwaysRunning pool whose every launch
// fails at once, and the times of the launches. Rapid-fail protection
// allows maxCrashes failures within an hour.
func newFailingPool(t *testing.T, maxCrashes uint64, always bool) (*Pool, func() []time.Time) {
	on, window := true, store.TimeSpan(time.Hour)
	s := Settings{Name: "F", AlwaysRunning: always, MaxProcesses: 1, QueueLength: 10, StartupTimeLimit: 5 * time.Second,
		ShutdownTimeLimit: time.Second, Resolved: store.PoolSettings{Failure: &store.Failure{RapidFailProtection: &on,
			RapidFailProtectionMaxCrashes: &maxCrashes, RapidFailProtectionInterval: &window}}}
	p := newPool(s, Launcher{}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	var mu sync.Mutex
	var at []time.Time
	p.launchFn = func(context.Context, *Settings) (*Worker, error) {
		mu.Lock()
		at = append(at, time.Now())
		mu.Unlock()
		return nil, errors.New("worker 1 exited during start-up (exit status 3)")
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return p, func() []time.Time {
		mu.Lock()
		defer mu.Unlock()
		return append([]time.Time{}, at...)
	}
}

// TestLaunchBackoffInLoop: a started pool whose workers cannot start
// tries again after 100 ms, 200 ms, 400 ms ... (fake clock: synctest).
func TestLaunchBackoffInLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, launches := newFailingPool(t, 1000, true)
		start := time.Now()
		time.Sleep(3200 * time.Millisecond) // fake time: attempts at 0, .1, .3, .7, 1.5, 3.1 s
		synctest.Wait()
		var got []time.Duration
		for _, at := range launches() {
			got = append(got, at.Sub(start))
		}
		want := []time.Duration{0, 100 * time.Millisecond, 300 * time.Millisecond, 700 * time.Millisecond,
			1500 * time.Millisecond, 3100 * time.Millisecond}
		if len(got) != len(want) {
			t.Fatalf("launches at %v, want %v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("launches at %v, want %v", got, want)
			}
		}
		p.Close(context.Background())
	})
}

// TestStartFailureQueuedRequest: a request queued while the pool cannot
// start a worker keeps waiting for the retries until it has waited
// startupTimeLimit, then gets ErrStartFailed; rapid-fail protection
// disabling the pool answers it at once with ErrPoolDisabled.
func TestStartFailureQueuedRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, launches := newFailingPool(t, 1000, false) // on demand: the request starts the launches
		start := time.Now()
		_, err := p.Acquire(context.Background(), &Request{})
		if !errors.Is(err, ErrStartFailed) {
			t.Fatalf("Acquire = %v, want ErrStartFailed", err)
		}
		// synctest's clock: the bubble's time moves only as its timers
		// fire, so this measures the pool's own deadline, not the machine.
		if waited := time.Since(start); waited < 5*time.Second {
			t.Errorf("the request was refused after %s, before startupTimeLimit (5s)", waited)
		}
		if n := len(launches()); n < 5 {
			t.Errorf("%d launches before the request was refused, want the retries", n)
		}
		p.Close(context.Background())
	})
	synctest.Test(t, func(t *testing.T) {
		p, launches := newFailingPool(t, 3, false)
		_, err := p.Acquire(context.Background(), &Request{})
		if !errors.Is(err, ErrPoolDisabled) {
			t.Fatalf("Acquire = %v, want ErrPoolDisabled", err)
		}
		synctest.Wait()
		if n := len(launches()); n != 3 {
			t.Errorf("%d launches, want 3 (rapidFailProtectionMaxCrashes)", n)
		}
		if st := p.State(); st != Stopped {
			t.Errorf("state %s, want Stopped", st)
		}
		p.Close(context.Background())
	})
}
