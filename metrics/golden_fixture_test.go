package metrics

import (
	"log/slog"
	"time"

	"github.com/poolctl/poolctl/apppool"
	"github.com/poolctl/poolctl/hostapi"
)

// goldenNow is the fixed scrape time of the exposition fixtures.
var goldenNow = time.Date(2026, 12, 6, 1, 0, 0, 0, time.UTC)

type goldenPool struct {
	st   hostapi.PoolStatus
	snap apppool.StatsSnapshot
}

// goldenPools returns two pools with every counter set: "web" started with
// one worker, "api" disabled by rapid-fail protection.
func goldenPools() []goldenPool {
	buckets := map[float64]uint64{}
	for i, b := range apppool.LatencyBuckets {
		buckets[b] = uint64(i + 1)
	}
	web := goldenPool{
		st: hostapi.PoolStatus{Name: "web", State: apppool.Started, Queue: 3, Workers: []hostapi.WorkerStatus{{
			PID: 101, InFlight: 2, PrivateKB: 1000, VirtualKB: 5000, CPUSeconds: 1.5, Requests: 42,
			Started: goldenNow.Add(-10 * time.Second)}}},
		snap: apppool.StatsSnapshot{ByClass: [5]uint64{1, 2, 3, 4, 5}, Count: uint64(len(apppool.LatencyBuckets) + 2), Sum: 1.25,
			Buckets: buckets, Recycles: map[string]uint64{"time": 1, "memory": 2}, Crashes: 1},
	}
	for i := range web.snap.Refused {
		web.snap.Refused[i] = uint64(i + 1)
	}
	api := goldenPool{
		st:   hostapi.PoolStatus{Name: `a"p\i`, State: apppool.Stopped, Disabled: true},
		snap: apppool.StatsSnapshot{Buckets: map[float64]uint64{}, Recycles: map[string]uint64{}},
	}
	return []goldenPool{web, api}
}

type emptySource struct{}

func (emptySource) Pools() []*apppool.Pool       { return nil }
func (emptySource) LegacyPools() []*apppool.Pool { return nil }
func (emptySource) Legacy() bool                 { return false }

type goldenLogs struct{}

func (goldenLogs) AccessLogStats() map[string]LogStats {
	return map[string]LogStats{"Default Web Site": {Written: 5, Dropped: 1}, "b": {Written: 9}}
}
func (goldenLogs) Unrouted() uint64 { return 7 }
func (goldenLogs) ConnectionsRefused() map[string]uint64 {
	return map[string]uint64{"max_connections": 2, "body_timeout": 1}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
