package apppool

import "time"

// pingPolicy decides when a worker's health check is due
// (processModel.pingingEnabled, pingInterval; pingResponseTime bounds
// each check). A worker that fails one check is hung (onPing).
type pingPolicy struct {
	enabled  bool
	interval time.Duration
	limit    time.Duration // pingResponseTime
}

// pingPolicyOf reads the policy from the pool's settings; without
// resolved settings pinging is off.
func pingPolicyOf(s *Settings) pingPolicy {
	pm := s.Resolved.ProcessModel
	if pm == nil {
		return pingPolicy{}
	}
	var pol pingPolicy
	pol.enabled = pm.PingingEnabled != nil && *pm.PingingEnabled
	if pm.PingInterval != nil {
		pol.interval = pm.PingInterval.Duration()
	}
	if pm.PingResponseTime != nil {
		pol.limit = pm.PingResponseTime.Duration()
	}
	return pol
}

// due reports whether a check of a worker whose last check started at
// last (none in flight) should start at now. A check that falls due up to
// tickSlack early starts now, so a pingInterval of one second pings on
// every tick.
func (pol pingPolicy) due(last time.Time, inflight bool, now time.Time) bool {
	return pol.enabled && !inflight && now.Add(tickSlack).Sub(last) >= pol.interval
}
