package expo

import (
	"runtime"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"time"
)

// The Go runtime's families, with the names and help texts of
// client_golang's Go collector.
var (
	goGCDuration = &Desc{Name: "go_gc_duration_seconds", Kind: Summary,
		Help: "A summary of the wall-time pause (stop-the-world) duration in garbage collection cycles."}
	goGOGC = &Desc{Name: "go_gc_gogc_percent", Kind: Gauge,
		Help: "Heap size target percentage configured by the user, otherwise 100. This value is set by the GOGC environment variable, and the runtime/debug.SetGCPercent function. Sourced from /gc/gogc:percent."}
	goMemLimit = &Desc{Name: "go_gc_gomemlimit_bytes", Kind: Gauge,
		Help: "Go runtime memory limit configured by the user, otherwise math.MaxInt64. This value is set by the GOMEMLIMIT environment variable, and the runtime/debug.SetMemoryLimit function. Sourced from /gc/gomemlimit:bytes."}
	goGoroutines = &Desc{Name: "go_goroutines", Kind: Gauge, Help: "Number of goroutines that currently exist."}
	goInfo       = &Desc{Name: "go_info", Kind: Gauge, Help: "Information about the Go environment.", Labels: []string{"version"}}
	goMaxProcs   = &Desc{Name: "go_sched_gomaxprocs_threads", Kind: Gauge,
		Help: "The current runtime.GOMAXPROCS setting, or the number of operating system threads that can execute user-level Go code simultaneously. Sourced from /sched/gomaxprocs:threads."}
	goThreads = &Desc{Name: "go_threads", Kind: Gauge, Help: "Number of OS threads created."}
)

// memStat is one go_memstats_* family and how to read it.
type memStat struct {
	desc *Desc
	read func(*runtime.MemStats) float64
}

func ms(name string, kind Kind, help string, read func(*runtime.MemStats) float64) memStat {
	return memStat{&Desc{Name: "go_memstats_" + name, Help: help, Kind: kind}, read}
}

var memStats = []memStat{
	ms("alloc_bytes", Gauge, "Number of bytes allocated in heap and currently in use. Equals to /memory/classes/heap/objects:bytes.",
		func(m *runtime.MemStats) float64 { return float64(m.Alloc) }),
	ms("alloc_bytes_total", Counter, "Total number of bytes allocated in heap until now, even if released already. Equals to /gc/heap/allocs:bytes.",
		func(m *runtime.MemStats) float64 { return float64(m.TotalAlloc) }),
	ms("buck_hash_sys_bytes", Gauge, "Number of bytes used by the profiling bucket hash table. Equals to /memory/classes/profiling/buckets:bytes.",
		func(m *runtime.MemStats) float64 { return float64(m.BuckHashSys) }),
	ms("frees_total", Counter, "Total number of heap objects frees. Equals to /gc/heap/frees:objects + /gc/heap/tiny/allocs:objects.",
		func(m *runtime.MemStats) float64 { return float64(m.Frees) }),
	ms("gc_sys_bytes", Gauge, "Number of bytes used for garbage collection system metadata. Equals to /memory/classes/metadata/other:bytes.",
		func(m *runtime.MemStats) float64 { return float64(m.GCSys) }),
	ms("heap_alloc_bytes", Gauge, "Number of heap bytes allocated and currently in use, same as go_memstats_alloc_bytes. Equals to /memory/classes/heap/objects:bytes.",
		func(m *runtime.MemStats) float64 { return float64(m.HeapAlloc) }),
	ms("heap_idle_bytes", Gauge, "Number of heap bytes waiting to be used. Equals to /memory/classes/heap/released:bytes + /memory/classes/heap/free:bytes.",
		func(m *runtime.MemStats) float64 { return float64(m.HeapIdle) }),
	ms("heap_inuse_bytes", Gauge, "Number of heap bytes that are in use. Equals to /memory/classes/heap/objects:bytes + /memory/classes/heap/unused:bytes",
		func(m *runtime.MemStats) float64 { return float64(m.HeapInuse) }),
	ms("heap_objects", Gauge, "Number of currently allocated objects. Equals to /gc/heap/objects:objects.",
		func(m *runtime.MemStats) float64 { return float64(m.HeapObjects) }),
	ms("heap_released_bytes", Gauge, "Number of heap bytes released to OS. Equals to /memory/classes/heap/released:bytes.",
		func(m *runtime.MemStats) float64 { return float64(m.HeapReleased) }),
	ms("heap_sys_bytes", Gauge, "Number of heap bytes obtained from system. Equals to /memory/classes/heap/objects:bytes + /memory/classes/heap/unused:bytes + /memory/classes/heap/released:bytes + /memory/classes/heap/free:bytes.",
		func(m *runtime.MemStats) float64 { return float64(m.HeapSys) }),
	ms("last_gc_time_seconds", Gauge, "Number of seconds since 1970 of last garbage collection.",
		func(m *runtime.MemStats) float64 { return float64(m.LastGC) / 1e9 }),
	ms("mallocs_total", Counter, "Total number of heap objects allocated, both live and gc-ed. Semantically a counter version for go_memstats_heap_objects gauge. Equals to /gc/heap/allocs:objects + /gc/heap/tiny/allocs:objects.",
		func(m *runtime.MemStats) float64 { return float64(m.Mallocs) }),
	ms("mcache_inuse_bytes", Gauge, "Number of bytes in use by mcache structures. Equals to /memory/classes/metadata/mcache/inuse:bytes.",
		func(m *runtime.MemStats) float64 { return float64(m.MCacheInuse) }),
	ms("mcache_sys_bytes", Gauge, "Number of bytes used for mcache structures obtained from system. Equals to /memory/classes/metadata/mcache/inuse:bytes + /memory/classes/metadata/mcache/free:bytes.",
		func(m *runtime.MemStats) float64 { return float64(m.MCacheSys) }),
	ms("mspan_inuse_bytes", Gauge, "Number of bytes in use by mspan structures. Equals to /memory/classes/metadata/mspan/inuse:bytes.",
		func(m *runtime.MemStats) float64 { return float64(m.MSpanInuse) }),
	ms("mspan_sys_bytes", Gauge, "Number of bytes used for mspan structures obtained from system. Equals to /memory/classes/metadata/mspan/inuse:bytes + /memory/classes/metadata/mspan/free:bytes.",
		func(m *runtime.MemStats) float64 { return float64(m.MSpanSys) }),
	ms("next_gc_bytes", Gauge, "Number of heap bytes when next garbage collection will take place. Equals to /gc/heap/goal:bytes.",
		func(m *runtime.MemStats) float64 { return float64(m.NextGC) }),
	ms("other_sys_bytes", Gauge, "Number of bytes used for other system allocations. Equals to /memory/classes/other:bytes.",
		func(m *runtime.MemStats) float64 { return float64(m.OtherSys) }),
	ms("stack_inuse_bytes", Gauge, "Number of bytes obtained from system for stack allocator in non-CGO environments. Equals to /memory/classes/heap/stacks:bytes.",
		func(m *runtime.MemStats) float64 { return float64(m.StackInuse) }),
	ms("stack_sys_bytes", Gauge, "Number of bytes obtained from system for stack allocator. Equals to /memory/classes/heap/stacks:bytes + /memory/classes/os-stacks:bytes.",
		func(m *runtime.MemStats) float64 { return float64(m.StackSys) }),
	ms("sys_bytes", Gauge, "Number of bytes obtained from system. Equals to /memory/classes/total:byte.",
		func(m *runtime.MemStats) float64 { return float64(m.Sys) }),
}

// CollectGo adds the Go runtime's families.
func CollectGo(b *Builder) {
	var st debug.GCStats
	st.PauseQuantiles = make([]time.Duration, 5)
	debug.ReadGCStats(&st)
	q := map[float64]float64{}
	for i, at := range []float64{0, 0.25, 0.5, 0.75, 1} {
		q[at] = st.PauseQuantiles[i].Seconds()
	}
	b.AddSummary(goGCDuration, uint64(st.NumGC), st.PauseTotal.Seconds(), q)

	gogc := []rtmetrics.Sample{{Name: "/gc/gogc:percent"}}
	rtmetrics.Read(gogc)
	if gogc[0].Value.Kind() == rtmetrics.KindUint64 {
		b.Add(goGOGC, float64(gogc[0].Value.Uint64()))
	}
	b.Add(goMemLimit, float64(debug.SetMemoryLimit(-1))) // a negative limit reads it
	b.Add(goGoroutines, float64(runtime.NumGoroutine()))
	b.Add(goInfo, 1, runtime.Version())
	b.Add(goMaxProcs, float64(runtime.GOMAXPROCS(0)))
	threads, _ := runtime.ThreadCreateProfile(nil)
	b.Add(goThreads, float64(threads))

	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	for _, s := range memStats {
		b.Add(s.desc, s.read(&m))
	}
}
