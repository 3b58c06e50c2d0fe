package farm

import (
	"testing"
	"time"
)

func TestJudge(t *testing.T) {
	now := time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC)
	base := HostRecord{Name: "h1", StoreVersion: "v2", Connected: true, Updated: now.Add(-time.Minute)}
	cases := []struct {
		name  string
		rec   func(HostRecord) HostRecord
		alive bool
		want  HostState
		lag   time.Duration
	}{
		{"up to date", func(r HostRecord) HostRecord { return r }, true, HostReady, 0},
		{"no alive key", func(r HostRecord) HostRecord { return r }, false, HostGone, 0},
		{"catching up within the grace", func(r HostRecord) HostRecord {
			r.StoreVersion, r.PendingSince = "v1", now.Add(-time.Second)
			return r
		}, true, HostReady, time.Second},
		{"behind past the grace", func(r HostRecord) HostRecord {
			r.StoreVersion, r.PendingSince = "v1", now.Add(-time.Minute)
			return r
		}, true, HostStale, time.Minute},
		{"behind, change not seen yet", func(r HostRecord) HostRecord { r.StoreVersion = "v1"; return r }, true, HostReady, 0},
		{"cut off from etcd", func(r HostRecord) HostRecord { r.Connected = false; return r }, true, HostStale, time.Minute},
		{"offline copy", func(r HostRecord) HostRecord { r.Offline = true; return r }, true, HostStale, time.Minute},
		{"gone and behind", func(r HostRecord) HostRecord {
			r.StoreVersion, r.PendingSince = "v1", now.Add(-time.Minute)
			return r
		}, false, HostGone, time.Minute},
	}
	for _, c := range cases {
		v := Judge(c.rec(base), c.alive, "v2", now)
		if v.State != c.want || v.Lag != c.lag {
			t.Errorf("%s: got %s lag %s, want %s lag %s", c.name, v.State, v.Lag, c.want, c.lag)
		}
	}
	if s := HostStale.String(); s != "Stale" {
		t.Errorf("HostStale prints %q", s)
	}
}
