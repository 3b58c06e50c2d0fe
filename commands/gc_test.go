package commands

import (
	"math"
	"runtime/debug"
	"testing"
)

// gcSettings reads the collector's percent and memory limit without
// changing them.
func gcSettings() (percent int, limit int64) {
	percent = debug.SetGCPercent(100)
	debug.SetGCPercent(percent)
	return percent, debug.SetMemoryLimit(-1)
}

// TestCommandGC: a short command collects late (commandGCPercent) under
// commandMemoryLimit, the host and worker put Go's defaults back, and an
// operator's GOGC is never overridden.
func TestCommandGC(t *testing.T) {
	p0, l0 := gcSettings()
	t.Cleanup(func() { debug.SetGCPercent(p0); debug.SetMemoryLimit(l0) })
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")

	commandGC()
	if p, l := gcSettings(); p != commandGCPercent || l != commandMemoryLimit {
		t.Fatalf("after commandGC: GC percent %d, memory limit %d; want %d and %d", p, l, commandGCPercent, commandMemoryLimit)
	}
	longRunningGC()
	if p, l := gcSettings(); p != 100 || l != math.MaxInt64 {
		t.Fatalf("after longRunningGC: GC percent %d, memory limit %d; want Go's defaults", p, l)
	}

	t.Setenv("GOGC", "50")
	debug.SetGCPercent(50)
	commandGC()
	longRunningGC()
	if p, _ := gcSettings(); p != 50 {
		t.Fatalf("with GOGC=50 set: GC percent %d after commandGC and longRunningGC; want 50 left alone", p)
	}
}
