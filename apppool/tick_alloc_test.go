package apppool

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/poolctl/poolctl/store"
)

// TestTickNoGarbage: a pool's once-a-second checks (tick: idle, health,
// CPU, recycling triggers) create no garbage, whatever the number of workers: a host of hundreds of idle pools
// must not allocate its way to a garbage collection every few seconds.
// Each measure is the pool's loop running the tick (through do) minus the
// loop running nothing, so the cost of do itself cancels out.
func TestTickNoGarbage(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	for _, n := range []int{1, 4} {
		tp := newWorkerPool(t, n, true)
		s := testSettings(tp.Pool)
		// The settings every pool of a store with defaults has (pinging
		// on every 30 s, periodic restart every 29 h, no limits), over the
		// test worker's command.
		cfg := &store.Config{ApplicationPools: []store.AppPool{{Name: "W"}}}
		s.Resolved = cfg.Resolved(&cfg.ApplicationPools[0])
		s.startHash = s.digest()
		testReconfigure(tp.Pool, s)
		startPool(t, tp.Pool)
		waitFor(t, "the workers", func() bool { k, _ := tp.serving(); return k == n })

		ctx := context.Background()
		noop := func() error { return nil }
		tick := func() error { tp.tick(time.Now()); return nil }
		_ = tp.do(ctx, tick) // first ticks make the pool's bookkeeping
		_ = tp.do(ctx, tick)
		base := testing.AllocsPerRun(200, func() { _ = tp.do(ctx, noop) })
		got := testing.AllocsPerRun(200, func() { _ = tp.do(ctx, tick) })
		if extra := got - base; extra > 0 {
			t.Errorf("%d workers: a tick allocates %v times, want 0", n, extra)
		}
	}
}

// TestNextTick: a pool ticks at its slot of every second: the first one
// after now, never now itself, and pools share tickSlots slots.
func TestNextTick(t *testing.T) {
	base := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		now   time.Duration
		phase time.Duration
		want  time.Duration
	}{
		{0, 0, time.Second},
		{1, 0, time.Second},
		{999 * time.Millisecond, 0, time.Second},
		{0, 250 * time.Millisecond, 250 * time.Millisecond},
		{250 * time.Millisecond, 250 * time.Millisecond, 1250 * time.Millisecond},
		{300 * time.Millisecond, 250 * time.Millisecond, 1250 * time.Millisecond},
		{1100 * time.Millisecond, 250 * time.Millisecond, 1250 * time.Millisecond},
	} {
		if got := nextTick(base.Add(tt.now), tt.phase); !got.Equal(base.Add(tt.want)) {
			t.Errorf("nextTick(+%v, phase %v) = +%v, want +%v", tt.now, tt.phase, got.Sub(base), tt.want)
		}
	}
	slots := map[time.Duration]bool{}
	for i := range 1000 {
		ph := tickPhaseOf("Pool" + strconv.Itoa(i))
		if ph < 0 || ph >= time.Second || ph%(time.Second/tickSlots) != 0 {
			t.Fatalf("phase %v", ph)
		}
		slots[ph] = true
	}
	if len(slots) != tickSlots {
		t.Errorf("1000 pools use %d slots, want %d", len(slots), tickSlots)
	}
}

// TestLoopHandOverNoGarbage: the loop hands each event to a fresh stack
// (onFresh) without garbage: the goroutine's function and the channel it
// signals on are made once per pool.
func TestLoopHandOverNoGarbage(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	p := &Pool{} // no loop of its own: the test is the loop
	ran := 0
	act := func() { ran++ }
	p.fresh.action = act
	p.onFresh(evAction) // makes the pool's hand-over
	n := testing.AllocsPerRun(100, func() {
		p.fresh.action = act
		p.onFresh(evAction)
	})
	if n != 0 {
		t.Errorf("a hand-over allocates %v times, want 0", n)
	}
	if ran != 102 || p.fresh.action != nil {
		t.Errorf("ran %d actions (want 102), action left %v (want nil)", ran, p.fresh.action != nil)
	}
}
