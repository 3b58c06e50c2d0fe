package apppool

import (
	"testing"
	"time"

	"github.com/poolctl/poolctl/events"
	"github.com/poolctl/poolctl/store"
)

var t0 = time.Date(2026, 3, 10, 12, 0, 0, 0, time.Local)

// TestBackoffDoubles: 100 ms doubling to 10 s, then from the start again
// after a reset.
func TestBackoffDoubles(t *testing.T) {
	var b backoff
	want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond,
		1600 * time.Millisecond, 3200 * time.Millisecond, 6400 * time.Millisecond, 10 * time.Second, 10 * time.Second}
	for i, w := range want {
		if got := b.next(); got != w {
			t.Fatalf("delay %d = %s, want %s", i+1, got, w)
		}
	}
	b.reset()
	if got := b.next(); got != backoffFirst {
		t.Fatalf("delay after reset = %s", got)
	}
}

// TestRapidFailPolicy: the Nth failure within the window disables the
// pool; N failures spread wider than the window do not; off never does.
func TestRapidFailPolicy(t *testing.T) {
	pol := rapidFailPolicy{on: true, window: time.Minute, limit: 3}
	var fs []failure
	var trip bool
	for i, at := range []time.Duration{0, 20 * time.Second, 40 * time.Second} {
		fs, trip = pol.add(fs, failure{at: t0.Add(at)})
		if trip != (i == 2) {
			t.Fatalf("failure %d at +%s: trip %v", i+1, at, trip)
		}
	}
	fs = nil
	for i := range 6 {
		if fs, trip = pol.add(fs, failure{at: t0.Add(time.Duration(i) * 31 * time.Second)}); trip {
			t.Fatalf("failures 31 s apart tripped at the %dth (window 1 min, limit 3)", i+1)
		}
	}
	if len(fs) != 2 {
		t.Errorf("%d failures kept, want the 2 within the window", len(fs))
	}
	off := rapidFailPolicy{on: false, window: time.Minute, limit: 1}
	if _, trip := off.add(nil, failure{at: t0}); trip {
		t.Error("tripped with protection off")
	}
	if d := rapidFailPolicyOf(&Settings{}); !d.on || d.limit != 5 || d.window != 5*time.Minute {
		t.Errorf("defaults without resolved settings = %+v", d)
	}
}

// TestRestartPolicy: the time trigger fires once per period of a
// worker's life (its replacement starts the period again); the request
// count fires at the count; a schedule time owed fires.
func TestRestartPolicy(t *testing.T) {
	hour := store.TimeSpan(time.Hour)
	var reqs uint64 = 100
	pol := restartPolicyOf(&store.PeriodicRestart{Time: &hour, Requests: &reqs})
	started := t0
	fired := 0
	for now := t0; now.Before(t0.Add(3*time.Hour + time.Second)); now = now.Add(time.Second) {
		if id, _ := pol.due(1, 0, started, "", now); id != 0 {
			if id != events.RecycleTime {
				t.Fatalf("event %d, want %d", id, events.RecycleTime)
			}
			fired++
			started = now // the replacement
		}
	}
	if fired != 3 {
		t.Errorf("time trigger fired %d times in 3 h with a 1 h period, want 3", fired)
	}
	if id, _ := pol.due(1, 99, t0, "", t0); id != 0 {
		t.Error("fired below the request count")
	}
	if id, _ := pol.due(1, 100, t0, "", t0); id != events.RecycleRequests {
		t.Errorf("at the request count: event %d", id)
	}
	if id, r := pol.due(1, 0, t0, "03:00:00", t0); id != events.RecycleSchedule || r == "" {
		t.Errorf("schedule owed: event %d %q", id, r)
	}
	if id, _ := restartPolicyOf(nil).due(1, 1<<40, time.Time{}, "", t0); id != 0 {
		t.Error("fired without settings")
	}
}

// TestSchedulePolicyFiresAtTimes: walking a day in one-second ticks, each
// schedule time is found exactly once, at its tick.
func TestSchedulePolicyFiresAtTimes(t *testing.T) {
	sched := []store.TimeSpan{store.TimeSpan(12*time.Hour + 30*time.Minute), store.TimeSpan(18 * time.Hour)}
	var got []time.Time
	last := t0
	for now := t0.Add(time.Second); now.Before(t0.Add(24 * time.Hour)); now = now.Add(time.Second) {
		got = append(got, scheduleBetween(sched, last, now)...)
		last = now
	}
	want := []time.Time{t0.Add(30 * time.Minute), t0.Add(6 * time.Hour)}
	if len(got) != len(want) || !got[0].Equal(want[0]) || !got[1].Equal(want[1]) {
		t.Fatalf("fired at %v, want %v", got, want)
	}
}

// TestIdlePolicy: a worker is idle after idleTimeout without requests,
// never while one is in flight, never when not ready; an AlwaysRunning
// pool only suspends.
func TestIdlePolicy(t *testing.T) {
	pol := idlePolicy{limit: time.Minute}
	if pol.due(WorkerReady, 0, t0, t0.Add(59*time.Second)) {
		t.Error("idle before idleTimeout")
	}
	if !pol.due(WorkerReady, 0, t0, t0.Add(time.Minute)) {
		t.Error("not idle at idleTimeout")
	}
	if pol.due(WorkerReady, 1, t0, t0.Add(time.Hour)) {
		t.Error("idle with a request in flight")
	}
	if pol.due(WorkerSuspended, 0, t0, t0.Add(time.Hour)) || pol.due(WorkerDraining, 0, t0, t0.Add(time.Hour)) {
		t.Error("idle while not ready")
	}
	if (idlePolicy{limit: time.Minute, always: true}).on() {
		t.Error("an AlwaysRunning pool terminates idle workers")
	}
	if !(idlePolicy{limit: time.Minute, always: true, suspend: true}).on() {
		t.Error("an AlwaysRunning pool does not suspend idle workers")
	}
	if (idlePolicy{}).on() {
		t.Error("idleTimeout 0 acts")
	}
}

// TestPingPolicy: a check is due every pingInterval (half a tick early
// counts), never with one in flight or pinging off.
func TestPingPolicy(t *testing.T) {
	pol := pingPolicy{enabled: true, interval: 30 * time.Second}
	if pol.due(t0, false, t0.Add(29*time.Second)) {
		t.Error("due 1 s early")
	}
	if !pol.due(t0, false, t0.Add(29*time.Second+600*time.Millisecond)) {
		t.Error("not due within half a tick")
	}
	if pol.due(t0, true, t0.Add(time.Hour)) {
		t.Error("due with a check in flight")
	}
	if (pingPolicy{interval: time.Second}).due(t0, false, t0.Add(time.Hour)) {
		t.Error("due with pinging off")
	}
	if pingPolicyOf(&Settings{}).enabled {
		t.Error("pinging on without resolved settings")
	}
}

// TestCPUWindow: 20 % of one CPU over a minute allows 12 s: the window
// goes over once, at the second that passes it, and a new window starts
// after the interval.
func TestCPUWindow(t *testing.T) {
	pol := cpuPolicy{limit: 20000, interval: time.Minute}
	if pol.allowed() != 12*time.Second {
		t.Fatalf("allowed %s", pol.allowed())
	}
	var w cpuWindow
	var over []int
	for s := range 120 {
		if w.add(pol, t0.Add(time.Duration(s)*time.Second), 500*time.Millisecond) {
			over = append(over, s)
		}
	}
	// 0.5 s a second: over 12 s at the 25th sample of each window.
	if len(over) != 2 || over[0] != 24 || over[1] != 84 {
		t.Fatalf("over at seconds %v, want [24 84]", over)
	}
	if (cpuPolicy{limit: 20000}).on() || (cpuPolicy{interval: time.Minute}).on() {
		t.Error("a limit without an interval (or none) is checked")
	}
}
