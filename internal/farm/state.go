package farm

import (
	"time"
)

// HostState is what `poolctl list host` says of a farm member.
type HostState int

// The states of a farm member.
const (
	// HostReady: alive, connected to etcd, and running the store's
	// current version (or catching up on a change made moments ago).
	HostReady HostState = iota
	// HostStale: alive but behind the store for longer than
	// CatchUpGrace, or cut off from etcd (serving what it applied last).
	HostStale
	// HostGone: no alive key; the record is the host's last report.
	HostGone
)

// String returns the state's name as list host prints it.
func (s HostState) String() string {
	switch s {
	case HostReady:
		return "Ready"
	case HostStale:
		return "Stale"
	case HostGone:
		return "Gone"
	}
	return "Unknown"
}

// CatchUpGrace is how long a live host may be behind the store before it
// counts as Stale: a change takes a host a moment to apply.
const CatchUpGrace = 5 * time.Second

// HostView is a host's record judged against the store's current version.
type HostView struct {
	HostRecord
	State HostState
	// Lag is how long the host has been behind the store: since its
	// PendingSince; for a host cut off from etcd, since its last report.
	// Zero when it is up to date (or has not yet said it saw the change).
	Lag time.Duration
}

// Judge returns the view of rec: alive says whether its alive key exists,
// current is the store's version now ("" when unknown: then only
// liveness and the connection count).
func Judge(rec HostRecord, alive bool, current string, now time.Time) HostView {
	v := HostView{HostRecord: rec}
	behind := current != "" && rec.StoreVersion != current
	cutOff := !rec.Connected || rec.Offline
	since := rec.PendingSince
	if cutOff && since.IsZero() {
		since = rec.Updated
	}
	if (behind || cutOff) && !since.IsZero() && now.After(since) {
		v.Lag = now.Sub(since)
	}
	switch {
	case !alive:
		v.State = HostGone
	case cutOff:
		v.State = HostStale
	case behind && v.Lag > CatchUpGrace:
		v.State = HostStale
	default:
		// Up to date, or connected and given the grace to apply a change
		// it saw moments ago (or is about to report seeing).
		v.State = HostReady
	}
	return v
}
