package apppool

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/poolctl/poolctl/store"
)

// newRapidPool returns a started pool (with its actor, no workers) whose
// rapid-fail protection allows max failures within window.
func newRapidPool(t *testing.T, on bool, max uint64, window time.Duration) *Pool {
	t.Helper()
	span := store.TimeSpan(window)
	s := Settings{Name: "R", MaxProcesses: 1, QueueLength: 10, ShutdownTimeLimit: time.Second,
		Resolved: store.PoolSettings{Failure: &store.Failure{RapidFailProtection: &on,
			RapidFailProtectionMaxCrashes: &max, RapidFailProtectionInterval: &span}}}
	p := newPool(s, Launcher{}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		p.close(ctx)
	})
	return p
}

// waitDisabled waits (bounded) for the actor to disable the pool.
func waitDisabled(t *testing.T, p *Pool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		p.mu.Lock()
		st, dis, reason := p.state, p.disabled, p.reason
		p.mu.Unlock()
		if st == Stopped && dis {
			if !strings.Contains(reason, "rapid-fail protection: 3 worker failures within 00:05:00") {
				t.Errorf("reason %q, want the count and the window", reason)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pool not disabled within 5s: state %s disabled %v", st, dis)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRapidFailTripsAtCount: the third failure within the window trips
// protection, launches are refused from then on, the actor disables the
// pool, and Start forgets the failures.
func TestRapidFailTripsAtCount(t *testing.T) {
	p := newRapidPool(t, true, 3, 5*time.Minute)
	for i := 1; i <= 2; i++ {
		if p.noteFailure("crash") {
			t.Fatalf("failure %d tripped rapid-fail protection (limit 3)", i)
		}
		if err := p.launchAllowed(); err != nil {
			t.Fatalf("launch refused after %d failures: %v", i, err)
		}
	}
	if !p.noteFailure("crash") {
		t.Fatal("the third failure did not trip rapid-fail protection")
	}
	if err := p.launchAllowed(); !errors.Is(err, ErrPoolDisabled) {
		t.Fatalf("launchAllowed after the trip = %v, want ErrPoolDisabled", err)
	}
	if p.noteFailure("crash") {
		t.Error("a fourth failure tripped it again")
	}
	waitDisabled(t, p)
	if _, err := p.Acquire(context.Background(), &Request{}); !errors.Is(err, ErrPoolDisabled) {
		t.Errorf("Acquire on the disabled pool = %v, want ErrPoolDisabled", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.launchAllowed(); err != nil {
		t.Errorf("launch refused after Start: %v", err)
	}
	p.mu.Lock()
	n := len(p.health.failures)
	p.mu.Unlock()
	if n != 0 {
		t.Errorf("%d failures remembered after Start, want 0", n)
	}
}

// TestRapidFailWindowSlides: failures older than the window do not count.
func TestRapidFailWindowSlides(t *testing.T) {
	p := newRapidPool(t, true, 2, time.Minute)
	if p.noteFailure("crash") {
		t.Fatal("one failure tripped it")
	}
	p.mu.Lock()
	p.health.failures[0].at = time.Now().Add(-61 * time.Second) // out of the window
	p.mu.Unlock()
	if p.noteFailure("crash") {
		t.Fatal("a failure out of the window was counted")
	}
	if !p.noteFailure("crash") {
		t.Fatal("two failures within the window did not trip it (limit 2)")
	}
}

// TestRapidFailOff: with rapidFailProtection false nothing trips.
func TestRapidFailOff(t *testing.T) {
	p := newRapidPool(t, false, 1, time.Minute)
	for range 5 {
		if p.noteFailure("crash") {
			t.Fatal("tripped with rapidFailProtection false")
		}
	}
	if err := p.launchAllowed(); err != nil {
		t.Fatal(err)
	}
}
