package commands

import (
	"math"
	"os"
	"runtime/debug"
)

// commandMemoryLimit is the heap a short command may reach before the
// garbage collector runs at all (commandGC).
const commandMemoryLimit = 64 << 20

// commandGC sets the garbage collector up for a command that runs for a
// few milliseconds: no collection until the process holds
// commandMemoryLimit. Go's default starts a collection at a 4 MB heap,
// which `list apppool` at 1,000 pools reaches, and the collection (its
// workers, mark bits and sweeping) cost more than the memory it returns
// to a process about to exit. The long-running commands (host, worker)
// put Go's default back (longRunningGC). An operator's GOGC or GOMEMLIMIT
// is left alone.
func commandGC() {
	if gcTunedByEnv() {
		return
	}
	debug.SetGCPercent(-1)
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
