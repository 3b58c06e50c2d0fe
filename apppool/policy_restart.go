package apppool

import (
	"fmt"
	"time"

	"github.com/poolctl/poolctl/events"
	"github.com/poolctl/poolctl/store"
)

// restartPolicy decides the periodic recycles of one worker
// (recycling.periodicRestart requests, time; schedule times come from
// scheduleBetween and are owed per worker). Memory is sampled
// separately (memoryTrigger).
type restartPolicy struct {
	requests uint64         // 0 = off
	period   time.Duration  // 0 = off
	span     store.TimeSpan // the period as configured, formatted only for the reason
}

// restartPolicyOf reads the policy from resolved periodicRestart settings.
func restartPolicyOf(pr *store.PeriodicRestart) restartPolicy {
	if pr == nil {
		return restartPolicy{}
	}
	pol := restartPolicy{}
	if pr.Requests != nil {
		pol.requests = *pr.Requests
	}
	if pr.Time != nil {
		pol.period, pol.span = pr.Time.Duration(), *pr.Time // formatted only when due: this runs every second
	}
	return pol
}

// due returns the recycle event and reason for worker pid, which has
// served requests, started at started and is owed the schedule time
// scheduled ("" for none), at now; 0 when nothing is due. A worker
// replaced for its age is replaced by a younger one, so the time trigger
// fires once per period of each worker's life.
func (pol restartPolicy) due(pid int, served uint64, started time.Time, scheduled string, now time.Time) (int, string) {
	switch {
	case pol.requests > 0 && served >= pol.requests:
		return events.RecycleRequests, fmt.Sprintf("worker %d served %d requests (recycling.periodicRestart.requests %d)", pid, served, pol.requests)
	case pol.period > 0 && now.Sub(started) >= pol.period:
		return events.RecycleTime, fmt.Sprintf("worker %d has run for %s (recycling.periodicRestart.time %s)", pid, now.Sub(started).Round(time.Second), pol.span.String())
	case scheduled != "":
		return events.RecycleSchedule, fmt.Sprintf("worker %d reached the scheduled recycle time %s (recycling.periodicRestart.schedule)", pid, scheduled)
	}
	return 0, ""
}
