package apppool

import (
	"sort"
	"sync/atomic"
	"time"

	"github.com/poolctl/poolctl/events"
)

// Refusal is why the front turned a request away without a worker.
type Refusal int

// The refusal reasons counted per pool.
const (
	RefusedQueueFull Refusal = iota // the pool's queue was full
	RefusedStopped                  // the pool was stopped by an operator
	RefusedRapidFail                // rapid-fail protection disabled the pool
	RefusedCPULimit                 // the pool's workers were killed for the rest of a CPU interval
	numRefusals
)

// RefusalNames are the metric label values of the refusal reasons, in
// Refusal order.
var RefusalNames = [numRefusals]string{"queue_full", "stopped", "rapid_fail", "cpu_limit"}

// LatencyBuckets are the upper bounds, in seconds, of the request latency
// histogram: from half a millisecond to a minute.
var LatencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// recycleReasons are the recycle reasons counted, by event id; any other
// id counts as "other".
var recycleReasons = map[int]string{
	events.RecycleTime:          "time",
	events.RecycleRequests:      "requests",
	events.RecycleSchedule:      "schedule",
	events.RecycleMemory:        "memory",
	events.RecyclePrivateMemory: "private_memory",
	events.RecycleOnDemand:      "on_demand",
	events.RecycleConfigChange:  "config_change",
	events.PingFailure:          "ping_failure",
}

// RecycleReasonNames lists every recycle reason label, sorted, "other"
// included, so a scrape always shows the full, bounded set.
var RecycleReasonNames = func() []string {
	out := []string{"other"}
	for _, n := range recycleReasons {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}()

// Stats counts what happened to one pool's requests and workers, for the
// metrics endpoint. Every method is lock-free and safe for concurrent use;
// the counters live as long as the pool, so a removed pool's series go with
// it.
type Stats struct {
	byClass   [5]atomic.Uint64 // responses 1xx ... 5xx
	refused   [numRefusals]atomic.Uint64
	buckets   [numLatencyBuckets + 1]atomic.Uint64 // per LatencyBuckets bound, plus +Inf
	sumMicros atomic.Uint64
	count     atomic.Uint64
	recycles  [numRecycleReasons]atomic.Uint64 // in RecycleReasonNames order
	crashes   atomic.Uint64
}

// Sizes of the counters' arrays: one allocation per pool for all of them
// (TestStatsSizes checks them against LatencyBuckets and the reasons).
const (
	numLatencyBuckets = 16
	numRecycleReasons = 9 // the reasons of recycleReasons, and "other"
)

// recycleIndex is the index in RecycleReasonNames of each recycle event id;
// "other" is otherIndex.
var recycleIndex, otherIndex = func() (map[int]int, int) {
	at := map[string]int{}
	for i, n := range RecycleReasonNames {
		at[n] = i
	}
	idx := map[int]int{}
	for id, n := range recycleReasons {
		idx[id] = at[n]
	}
	return idx, at["other"]
}()

func newStats() *Stats { return &Stats{} }

// Stats returns the pool's counters.
func (p *Pool) Stats() *Stats { return p.stats }

// ObserveRequest counts one answered request: its status class and how long
// it took from arrival to the end of the response.
func (s *Stats) ObserveRequest(status int, took time.Duration) {
	if c := status/100 - 1; c >= 0 && c < len(s.byClass) {
		s.byClass[c].Add(1)
	}
	sec := took.Seconds()
	i := sort.SearchFloat64s(LatencyBuckets, sec) // first bound >= sec
	s.buckets[i].Add(1)
	s.sumMicros.Add(uint64(max(took, 0) / time.Microsecond))
	s.count.Add(1)
}

// Refused counts a request turned away for the reason.
func (s *Stats) Refused(r Refusal) {
	if r >= 0 && r < numRefusals {
		s.refused[r].Add(1)
	}
}

func (s *Stats) recycled(eventID int) {
	i, ok := recycleIndex[eventID]
	if !ok {
		i = otherIndex
	}
	s.recycles[i].Add(1)
}

func (s *Stats) crashed() { s.crashes.Add(1) }

// StatsSnapshot is a point-in-time copy of a pool's Stats.
type StatsSnapshot struct {
	ByClass  [5]uint64 // responses 1xx ... 5xx
	Refused  [numRefusals]uint64
	Count    uint64             // requests observed by the latency histogram
	Sum      float64            // their total latency in seconds
	Buckets  map[float64]uint64 // cumulative counts per upper bound (seconds)
	Recycles map[string]uint64  // by reason, every reason present
	Crashes  uint64
}

// Snapshot copies the counters. The histogram is read bucket by bucket
// while requests go on, so its count is derived from the buckets to stay
// consistent with them.
func (s *Stats) Snapshot() StatsSnapshot {
	out := StatsSnapshot{Buckets: make(map[float64]uint64, len(LatencyBuckets)), Recycles: make(map[string]uint64, len(s.recycles)),
		Crashes: s.crashes.Load(), Sum: float64(s.sumMicros.Load()) / 1e6}
	for i := range s.byClass {
		out.ByClass[i] = s.byClass[i].Load()
	}
	for i := range s.refused {
		out.Refused[i] = s.refused[i].Load()
	}
	var cum uint64
	for i, b := range LatencyBuckets {
		cum += s.buckets[i].Load()
		out.Buckets[b] = cum
	}
	cum += s.buckets[len(LatencyBuckets)].Load()
	out.Count = cum
	for i, n := range RecycleReasonNames {
		out.Recycles[n] = s.recycles[i].Load()
	}
	return out
}
