package apppool

import (
	"testing"
	"time"

	"github.com/poolctl/poolctl/store"
)

// TestRestartPolicyNoAllocation: reading the periodic restart policy runs
// every second for every pool with workers; it allocates nothing (the
// period is formatted only for the reason of a recycle that is due).
func TestRestartPolicyNoAllocation(t *testing.T) {
	span := store.TimeSpan(29 * time.Hour)
	requests := uint64(1000)
	pr := &store.PeriodicRestart{Time: &span, Requests: &requests}
	started := time.Now()
	if n := testing.AllocsPerRun(100, func() {
		if id, _ := restartPolicyOf(pr).due(1, 1, started, "", started.Add(time.Hour)); id != 0 {
			t.Fatal("due")
		}
	}); n != 0 {
		t.Errorf("restartPolicyOf and due allocate %v times per call, want 0", n)
	}
	if _, reason := restartPolicyOf(pr).due(1, 1, started, "", started.Add(30*time.Hour)); reason == "" {
		t.Error("no reason for a due recycle")
	}
}
