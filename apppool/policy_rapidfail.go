package apppool

import "time"

// rapidFailPolicy decides when worker failures disable the pool
// (failure.rapidFailProtection, rapidFailProtectionInterval,
// rapidFailProtectionMaxCrashes): limit failures within a sliding window.
type rapidFailPolicy struct {
	on     bool
	window time.Duration
	limit  int
}

// rapidFailPolicyOf reads the policy from the pool's settings, with IIS's
// defaults (on, 5 failures in 5 minutes) for what is not resolved.
func rapidFailPolicyOf(s *Settings) rapidFailPolicy {
	pol := rapidFailPolicy{on: true, window: 5 * time.Minute, limit: 5}
	f := s.Resolved.Failure
	if f == nil {
		return pol
	}
	if f.RapidFailProtection != nil {
		pol.on = *f.RapidFailProtection
	}
	if f.RapidFailProtectionInterval != nil {
		pol.window = f.RapidFailProtectionInterval.Duration()
	}
	if f.RapidFailProtectionMaxCrashes != nil {
		pol.limit = int(min(*f.RapidFailProtectionMaxCrashes, 1<<31-1))
	}
	return pol
}

// add appends failure x (the newest) to the failures of the window, drops
// those older than the window (relative to x), and reports whether their
// number reaches the limit with protection on.
func (pol rapidFailPolicy) add(failures []failure, x failure) ([]failure, bool) {
	keep := failures[:0]
	for _, f := range failures {
		if x.at.Sub(f.at) < pol.window {
			keep = append(keep, f)
		}
	}
	keep = append(keep, x)
	return keep, pol.on && len(keep) >= pol.limit
}
