package apppool

import (
	"testing"
	"time"

	"github.com/poolctl/poolctl/events"
	"github.com/poolctl/poolctl/store"
)

func TestScheduleBetween(t *testing.T) {
	day := func(d, h, m, s int) time.Time { return time.Date(2026, 3, d, h, m, s, 0, time.Local) }
	ts := func(h, m, s int) store.TimeSpan {
		return store.TimeSpan(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second)
	}
	sched := []store.TimeSpan{ts(3, 0, 0), ts(23, 59, 59)}
	tests := []struct {
		name     string
		from, to time.Time
		want     []time.Time
	}{
		{"tick on the second", day(10, 2, 59, 59), day(10, 3, 0, 0), []time.Time{day(10, 3, 0, 0)}},
		{"tick skips the second", day(10, 2, 59, 59), day(10, 3, 0, 2), []time.Time{day(10, 3, 0, 0)}},
		{"from is exclusive", day(10, 3, 0, 0), day(10, 3, 0, 1), nil},
		{"nothing due", day(10, 4, 0, 0), day(10, 4, 0, 1), nil},
		{"across midnight", day(10, 23, 59, 58), day(11, 0, 0, 1), []time.Time{day(10, 23, 59, 59)}},
		{"a long gap sees both", day(10, 2, 0, 0), day(11, 0, 0, 0), []time.Time{day(10, 3, 0, 0), day(10, 23, 59, 59)}},
		{"empty window", day(10, 3, 0, 0), day(10, 3, 0, 0), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := scheduleBetween(sched, tc.from, tc.to)
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if !got[i].Equal(tc.want[i]) {
					t.Errorf("[%d] = %v, want %v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestRecycleLogged(t *testing.T) {
	flags := func(v string) *Settings {
		s := &Settings{}
		s.Resolved.Recycling = &store.Recycling{LogEventOnRecycle: &v}
		return s
	}
	all := "Time,Requests,Schedule,Memory,IsapiUnhealthy,OnDemand,ConfigChange,PrivateMemory"
	tests := []struct {
		flags string
		id    int
		want  bool
	}{
		{all, events.RecycleRequests, true},
		{"Time,Memory", events.RecycleRequests, false},
		{"Time,Memory", events.RecycleTime, true},
		{"Time,Memory", events.RecycleMemory, true},
		{"Time,Memory", events.RecyclePrivateMemory, false},
		{"", events.RecycleOnDemand, false},
		{"OnDemand", events.RecycleOnDemand, true},
		{"ConfigChange", events.RecycleConfigChange, true},
		{"Schedule", events.RecycleSchedule, true},
		{"", events.PingFailure, true}, // no flag: always recorded
	}
	for _, tc := range tests {
		if got := recycleLogged(flags(tc.flags), tc.id); got != tc.want {
			t.Errorf("flags %q, event %d: logged = %v, want %v", tc.flags, tc.id, got, tc.want)
		}
	}
}
