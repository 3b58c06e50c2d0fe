package apppool

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/poolctl/poolctl/events"
	"github.com/poolctl/poolctl/store"
)

// Rapid-fail protection (failure.rapidFailProtection,
// rapidFailProtectionInterval, rapidFailProtectionMaxCrashes,
// autoShutdownExe, autoShutdownParams).
//
// A worker failure is a crash (an unexpected exit, event 5009, counted in
// onExit), a worker that cannot be launched (5059), exits during start-up
// (5009) or is not ready within startupTimeLimit (5012), all counted by
// the loop when the launch reports (launchFailed), or a failed health
// check (5010, counted in onPing). noteFailure keeps the failures of the
// last rapidFailProtectionInterval (a sliding window; the decision is
// rapidFailPolicy's, policy_rapidfail.go). When their number reaches
// rapidFailProtectionMaxCrashes, no further worker is
// launched, and the loop disables the pool: event 5002, stop(reason,
// disable) (state Stopped, every request answered at once with 503
// AppOffline, or a TCP reset with TcpLevel), then autoShutdownExe runs in
// the background. Start clears the failures.

// failure is one worker failure.
type failure struct {
	at   time.Time
	what string
}

// noteFailure counts a worker failure and reports whether it disables the
// pool. The pool is then disabled on the loop shortly after; until then
// launch refuses to start workers, so the failures stop at exactly
// rapidFailProtectionMaxCrashes. Safe from any goroutine; p.mu must not be
// held.
func (p *Pool) noteFailure(what string) bool {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	pol := rapidFailPolicyOf(&p.settings)
	h := &p.health
	var trip bool
	h.failures, trip = pol.add(h.failures, failure{at: now, what: what})
	if !trip || h.tripping || p.state != Started {
		return false
	}
	h.tripping = true
	reason := fmt.Sprintf("rapid-fail protection: %d worker failures within %s (rapidFailProtectionMaxCrashes %d, rapidFailProtectionInterval %s; these came in %s); last: %s",
		len(h.failures), store.TimeSpan(pol.window), pol.limit, store.TimeSpan(pol.window), now.Sub(h.failures[0].at).Round(time.Millisecond), what)
	go func() {
		_ = p.do(context.Background(), func() error {
			p.disableRapidFail(reason)
			return nil
		})
	}()
	return true
}

// disableRapidFail disables the pool after rapid failures. Called on the
// actor.
func (p *Pool) disableRapidFail(reason string) {
	p.mu.Lock()
	tripping, started := p.health.tripping, p.state == Started
	if !started {
		// Stopped by hand meanwhile: it stays stopped, and Start
		// clears the failures anyway.
		p.health.tripping = false
	}
	f := p.settings.Resolved.Failure
	p.mu.Unlock()
	if !tripping || !started {
		return
	}
	if f == nil {
		f = &store.Failure{}
	}
	p.events.Record(events.Event{ID: events.RapidFail, Pool: p.name,
		Reason: reason + "; the pool is disabled until it is started (poolctl start apppool)"})
	if _, err := p.stop(reason, true); err != nil {
		p.logger.Error("rapid-fail protection: stop the pool", "pool", p.name, "err", err)
	}
	if f.AutoShutdownExe == nil || *f.AutoShutdownExe == "" {
		return
	}
	params := ""
	if f.AutoShutdownParams != nil {
		params = *f.AutoShutdownParams
	}
	go p.runAction("autoShutdownExe", *f.AutoShutdownExe, params, strings.NewReplacer("%1%", p.name),
		[]string{"POOLCTL_APPPOOL=" + p.name, "POOLCTL_REASON=" + reason})
}

// launchAllowed refuses to launch workers while rapid-fail protection is
// disabling the pool. Called by launch.
func (p *Pool) launchAllowed() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.health.tripping {
		return fmt.Errorf("apppool %q: %w", p.name, ErrPoolDisabled)
	}
	return nil
}

// resetFailures forgets the pool's worker failures when it starts. Called
// with p.mu held.
func (p *Pool) resetFailures() {
	p.health.failures, p.health.tripping = nil, false
}
