package apppool

import "time"

// idlePolicy decides when a worker has been idle long enough
// (processModel.idleTimeout, idleTimeoutAction): Terminate stops it,
// Suspend SIGSTOPs it until the next request. An AlwaysRunning pool only
// suspends.
type idlePolicy struct {
	limit   time.Duration
	suspend bool
	always  bool
}

// idlePolicyOf reads the policy from the pool's settings.
func idlePolicyOf(s *Settings) idlePolicy {
	return idlePolicy{limit: s.IdleTimeout, suspend: s.IdleSuspend, always: s.AlwaysRunning}
}

// on reports whether idle workers are acted on at all.
func (pol idlePolicy) on() bool {
	return pol.limit > 0 && (!pol.always || pol.suspend)
}

// due reports whether a worker in state st, with inflight requests, last
// used at lastUsed, is idle at now: ready, nothing in flight, unused for
// idleTimeout.
func (pol idlePolicy) due(st WorkerState, inflight int, lastUsed, now time.Time) bool {
	return pol.on() && st == WorkerReady && inflight == 0 && now.Sub(lastUsed) >= pol.limit
}
