package apppool

import (
	"sync"
	"testing"
	"time"

	"github.com/poolctl/poolctl/events"
)

func TestStatsCounts(t *testing.T) {
	s := newStats()
	s.ObserveRequest(200, 300*time.Microsecond) // first bucket (0.5 ms)
	s.ObserveRequest(204, 2*time.Millisecond)   // 2.5 ms bucket
	s.ObserveRequest(404, time.Second)          // exactly on the 1 s bound
	s.ObserveRequest(503, 2*time.Minute)        // past the last bound: +Inf only
	s.ObserveRequest(99, 0)                     // no class, still timed
	s.Refused(RefusedQueueFull)
	s.Refused(RefusedQueueFull)
	s.Refused(Refusal(42)) // ignored
	s.recycled(events.RecycleOnDemand)
	s.recycled(events.PingFailure)
	s.recycled(12345)
	s.crashed()

	got := s.Snapshot()
	if got.ByClass != [5]uint64{0, 2, 0, 1, 1} {
		t.Errorf("by class = %v", got.ByClass)
	}
	if got.Refused[RefusedQueueFull] != 2 || got.Refused[RefusedStopped] != 0 {
		t.Errorf("refused = %v", got.Refused)
	}
	if got.Count != 5 {
		t.Errorf("count = %d, want 5", got.Count)
	}
	for bound, want := range map[float64]uint64{0.0005: 2, 0.001: 2, 0.0025: 3, 0.5: 3, 1: 4, 60: 4} {
		if got.Buckets[bound] != want {
			t.Errorf("bucket %v = %d, want %d", bound, got.Buckets[bound], want)
		}
	}
	if want := 0.0003 + 0.002 + 1 + 120; got.Sum < want-1e-6 || got.Sum > want+1e-6 {
		t.Errorf("sum = %v, want %v", got.Sum, want)
	}
	if got.Recycles["on_demand"] != 1 || got.Recycles["ping_failure"] != 1 || got.Recycles["other"] != 1 || got.Recycles["time"] != 0 {
		t.Errorf("recycles = %v", got.Recycles)
	}
	if len(got.Recycles) != len(RecycleReasonNames) {
		t.Errorf("recycle reasons %v, want all of %v", got.Recycles, RecycleReasonNames)
	}
	if got.Crashes != 1 {
		t.Errorf("crashes = %d", got.Crashes)
	}
}

func TestStatsConcurrent(t *testing.T) {
	s := newStats()
	const goroutines, each = 8, 1000
	var wg sync.WaitGroup
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				s.ObserveRequest(200+i%400, time.Duration(i)*time.Microsecond)
			}
		}()
	}
	wg.Wait()
	got := s.Snapshot()
	var classes uint64
	for _, n := range got.ByClass {
		classes += n
	}
	if got.Count != goroutines*each || classes != goroutines*each {
		t.Errorf("count %d, classes %d, want %d", got.Count, classes, goroutines*each)
	}
}

func BenchmarkObserveRequest(b *testing.B) {
	s := newStats()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		d := 1500 * time.Microsecond
		for pb.Next() {
			s.ObserveRequest(200, d)
		}
	})
}

// TestStatsSizes: the counters' arrays have one slot per latency bound
// (and +Inf) and per recycle reason.
func TestStatsSizes(t *testing.T) {
	if len(LatencyBuckets) != numLatencyBuckets || len(RecycleReasonNames) != numRecycleReasons {
		t.Errorf("%d latency bounds, %d recycle reasons; the arrays hold %d and %d",
			len(LatencyBuckets), len(RecycleReasonNames), numLatencyBuckets, numRecycleReasons)
	}
	var sink *Stats
	if n := testing.AllocsPerRun(10, func() { sink = newStats() }); n > 1 {
		t.Errorf("newStats allocates %v times, want 1", n)
	}
	_ = sink
}
