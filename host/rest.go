package host

import (
	"net"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// Memory at rest. Once the host comes to rest (apppool's Manager: no
// launch, request or control command for apppool.RestQuiet), the free pages
// of its heap go back to the system at once (two garbage collections, then
// every free page released: debug.FreeOSMemory), rather than over minutes by
// the runtime's background scavenger: what the start-up, a burst of
// requests or a large listing left behind. At rest the pools make no
// garbage but for the health checks' connections, and the collector's
// target is lowered (restGCPercent) until the next activity, so the host
// stays near what it holds. The release is skipped when the host allocated
// less than releaseMin since the last release: a trickle of requests does
// not cost a collection per quiet second.

// releaseMin is how much the host must have allocated since the last
// release for the next rest to release again.
const releaseMin = 1 << 20

// restGCPercent is the garbage collector's target (GOGC) while the host is
// at rest: the little garbage left at rest (the health checks' connections)
// is collected at a quarter of the live heap rather than at all of it, so
// the resident heap stays near what the host holds. The first activity
// restores the target the host ran with (GOGC, 100 by default); a lower
// one, or GOGC=off, is left alone.
const restGCPercent = 25

// memRelease hands the heap's free pages back when the host comes to rest
// and keeps a lower GC target while it stays there.
type memRelease struct {
	mu     sync.Mutex
	last   uint64 // bytes allocated by the host at the last release
	sample [1]metrics.Sample
	busyGC int  // the GC target to restore when the host is busy again
	lowGC  bool // the rest's target is set
	// free and setGC replace debug.FreeOSMemory and debug.SetGCPercent in
	// tests.
	free  func()
	setGC func(int) int
}

// setGCPercent is debug.SetGCPercent, or its stand-in in tests.
func (r *memRelease) setGCPercent(p int) int {
	if r.setGC != nil {
		return r.setGC(p)
	}
	return debug.SetGCPercent(p)
}

// atBusy restores the GC target the host ran with; it is the Manager's
// OnBusy.
func (r *memRelease) atBusy() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lowGC {
		r.setGCPercent(r.busyGC)
		r.lowGC = false
	}
}

// atRest lowers the GC target to restGCPercent and releases the heap's
// free pages if the host allocated at least releaseMin since the last
// release. It is the Manager's OnRest.
func (r *memRelease) atRest() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.lowGC {
		if prev := r.setGCPercent(restGCPercent); prev < 0 || prev <= restGCPercent {
			r.setGCPercent(prev) // GOGC is lower already, or off: left alone
		} else {
			r.busyGC, r.lowGC = prev, true
		}
	}
	r.sample[0].Name = "/gc/heap/allocs:bytes"
	metrics.Read(r.sample[:])
	if r.sample[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	allocated := r.sample[0].Value.Uint64()
	if allocated-r.last < releaseMin && r.last != 0 {
		return
	}
	r.last = allocated
	if r.free != nil {
		r.free()
		return
	}
	// Two collections: what the first finds in sync.Pool caches (buffers
	// of the start-up's readiness checks and /proc samples) is only freed
	// by the next, which also halves again the stacks the first shrank.
	runtime.GC()
	debug.FreeOSMemory()
}

// touchListener reports every control connection accepted to touch (the
// Manager's Touch): a control command is an activity, and the garbage of
// its answer is handed back at the next rest. The connection is the
// listener's own (the control API reads its peer's credentials from it).
type touchListener struct {
	net.Listener
	touch func()
}

// Accept accepts a connection and touches.
func (l touchListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.touch()
	}
	return c, err
}
