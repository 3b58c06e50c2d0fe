package runstate

import (
	"encoding/json"
	"testing"
)

func TestPoolMachine(t *testing.T) {
	cases := []struct {
		from, to Pool
		ok       bool
	}{
		{PoolStopped, PoolStarting, true},
		{PoolStopped, PoolStarted, false},
		{PoolStopped, PoolStopping, false},
		{PoolStarting, PoolStarted, true},
		{PoolStarted, PoolStopping, true},
		{PoolStarted, PoolStarting, false},
		{PoolStopping, PoolStopped, true},
		{PoolStopping, PoolStarted, false},
		{PoolInactive, PoolStarting, false},
	}
	for _, c := range cases {
		if got := c.from.CanMove(c.to); got != c.ok {
			t.Errorf("%s → %s: allowed %v, want %v", c.from, c.to, got, c.ok)
		}
	}
}

func TestWorkerMachine(t *testing.T) {
	// Every state but Exited may die; nothing leaves Exited.
	for s := WorkerStarting; s < WorkerExited; s++ {
		if !s.CanMove(WorkerExited) {
			t.Errorf("%s cannot move to Exited", s)
		}
	}
	for s := WorkerStarting; s <= WorkerExited; s++ {
		if WorkerExited.CanMove(s) {
			t.Errorf("Exited → %s allowed", s)
		}
	}
	illegal := [][2]Worker{
		{WorkerStarting, WorkerDraining}, // not yet serving: stop it instead
		{WorkerDraining, WorkerReady},    // a drain is never undone
		{WorkerStopping, WorkerReady},
		{WorkerHung, WorkerReady},
		{WorkerOrphaned, WorkerReady},
	}
	for _, m := range illegal {
		if m[0].CanMove(m[1]) {
			t.Errorf("%s → %s allowed", m[0], m[1])
		}
	}
	if !WorkerSuspended.CanMove(WorkerReady) || !WorkerStarting.CanMove(WorkerReady) {
		t.Error("resume or readiness refused")
	}
}

func TestTextRoundTrip(t *testing.T) {
	type doc struct {
		P Pool   `json:"p"`
		W Worker `json:"w"`
		S Site   `json:"s"`
	}
	for p := PoolStopped; p <= PoolInactive; p++ {
		for w := WorkerStarting; w <= WorkerExited; w++ {
			in := doc{p, w, SiteStarted}
			b, err := json.Marshal(in)
			if err != nil {
				t.Fatal(err)
			}
			var out doc
			if err := json.Unmarshal(b, &out); err != nil || out != in {
				t.Fatalf("%s → %+v, %v", b, out, err)
			}
		}
	}
	b, _ := json.Marshal(doc{PoolStarted, WorkerReady, SiteStopped})
	if string(b) != `{"p":"Started","w":"Ready","s":"Stopped"}` {
		t.Errorf("wire form changed: %s", b)
	}
	var p Pool
	if err := p.UnmarshalText([]byte("Running")); err == nil {
		t.Error("an unknown name was accepted")
	}
	if _, err := Pool(99).MarshalText(); err == nil {
		t.Error("an unknown state was written")
	}
}
