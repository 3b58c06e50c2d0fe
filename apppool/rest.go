package apppool

import (
	"sync"
	"sync/atomic"
	"time"
)

// Rest: a host whose pools neither launch workers nor serve requests, and
// whose control socket is quiet, is at rest. Its pools' once-a-second checks
// make no garbage (TestTickNoGarbage), so whatever the start-up or the last
// burst left in the heap stays resident until it is handed back; the
// Manager calls Launcher.OnRest once, when the host comes to rest (no
// activity for RestQuiet), for the host to return that memory to the
// system; and Launcher.OnBusy at the first activity after a rest. The
// watch costs no wake-up at rest: its one-shot timer is armed
// by the first activity after a rest and runs, once every RestQuiet, only
// while activity goes on.

// RestQuiet is how long the host must see no activity to be at rest.
const RestQuiet = time.Second

// restWatch notices when the host comes to rest. Its methods are safe for
// concurrent use; touch is cheap enough for every request.
type restWatch struct {
	quiet  time.Duration
	onRest func()
	onBusy func() // nil: nothing

	work     atomic.Uint64 // bumped by every activity
	launches atomic.Int64  // launches in flight: busy however long they take
	armed    atomic.Bool   // the timer runs

	mu    sync.Mutex
	timer *time.Timer
	seen  uint64 // work at the timer's last look
	looks int    // times the timer looked (tests)
}

// newRestWatch returns a watch calling onRest (nil: no watch at all) after
// quiet without activity, and onBusy (nil: nothing) at the first activity
// after that (and at the very first).
func newRestWatch(quiet time.Duration, onRest, onBusy func()) *restWatch {
	return &restWatch{quiet: quiet, onRest: onRest, onBusy: onBusy}
}

// touch records an activity and arms the timer if it is not running.
func (r *restWatch) touch() {
	if r == nil || r.onRest == nil {
		return
	}
	r.work.Add(1)
	if !r.armed.Load() && r.armed.CompareAndSwap(false, true) {
		r.arm()
	}
}

// launchBegin and launchEnd bracket a launch: the host is not at rest
// while a worker starts, however long it takes to be ready.
func (r *restWatch) launchBegin() {
	if r == nil {
		return
	}
	r.launches.Add(1)
	r.touch()
}

func (r *restWatch) launchEnd() {
	if r == nil {
		return
	}
	r.launches.Add(-1)
	r.touch()
}

// arm starts the timer (the caller set armed): the host is busy.
func (r *restWatch) arm() {
	r.mu.Lock()
	r.seen = r.work.Load()
	if r.timer == nil {
		r.timer = time.AfterFunc(r.quiet, r.fire)
	} else {
		r.timer.Reset(r.quiet)
	}
	r.mu.Unlock()
	if r.onBusy != nil {
		r.onBusy()
	}
}

// fire looks at the activity since its last look: with some, or a launch in
// flight, it looks again after quiet; without, the host is at rest: the
// timer stops and onRest runs.
func (r *restWatch) fire() {
	r.mu.Lock()
	r.looks++
	if w := r.work.Load(); w != r.seen || r.launches.Load() > 0 {
		r.seen = w
		r.timer.Reset(r.quiet)
		r.mu.Unlock()
		return
	}
	r.armed.Store(false)
	seen := r.seen
	r.mu.Unlock()
	r.onRest()
	// An activity between the look and armed.Store found the timer
	// running and did not arm it: arm it now.
	if r.work.Load() != seen && r.armed.CompareAndSwap(false, true) {
		r.arm()
	}
}

// stop stops the timer (host shutdown).
func (r *restWatch) stop() {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.timer != nil {
		r.timer.Stop()
	}
}

// lookCount is how many times the timer looked (tests).
func (r *restWatch) lookCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.looks
}

// Touch records an activity of the host outside the pools (a control
// command): the host is not at rest until RestQuiet after it.
func (m *Manager) Touch() { m.rest.touch() }
