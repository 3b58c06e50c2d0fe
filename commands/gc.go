package commands

import (
	"math"
	"os"
	"runtime/debug"
)

// Garbage collection of a short command (commandGC).
const (
	// commandGCPercent puts the first collection at a 16 MB heap
	// instead of Go's 4 MB, and the next ones at five times the live
	// heap.
	commandGCPercent = 400
	// commandMemoryLimit caps what that costs: past it the collector
	// runs as needed to stay under it.
	commandMemoryLimit = 256 << 20
)

// commandGC sets the garbage collector up for a command that runs for a
// few milliseconds. Go's default starts a collection at a 4 MB heap,
// which `list apppool` at 1,000 pools reaches twice, and collections
// (their workers, mark bits and sweeping) cost more than the memory they
// return to a process about to exit; with commandGCPercent it reaches
// none, and at 10,000 pools one instead of seven. A command's live heap
// is small (5 MB at 10,000 pools), so the cost is a few tens of MB at
// most, and commandMemoryLimit bounds it whatever the command reads (a
// long event history). The long-running commands (host, worker) put Go's
// defaults back (longRunningGC). An operator's GOGC or GOMEMLIMIT is left
// alone.
func commandGC() {
	if gcTunedByEnv() {
		return
	}
	debug.SetGCPercent(commandGCPercent)
	debug.SetMemoryLimit(commandMemoryLimit)
}

// longRunningGC puts back Go's default collector settings, for the
// commands that keep running: the host and the built-in worker.
func longRunningGC() {
	if gcTunedByEnv() {
		return
	}
	debug.SetGCPercent(100)
	debug.SetMemoryLimit(math.MaxInt64)
}

// gcTunedByEnv reports whether the operator set the collector through
// the environment.
func gcTunedByEnv() bool { return os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" }
