package metrics

import (
	"strconv"
	"time"

	"github.com/poolctl/poolctl/apppool"
	"github.com/poolctl/poolctl/hostapi"
	"github.com/poolctl/poolctl/metrics/expo"
)

// Source is what the collector reads at each scrape.
type Source interface {
	// Pools returns the store's pools.
	Pools() []*apppool.Pool
	// LegacyPools returns the pools of Legacy isolation mode (none in
	// WorkerProcess mode).
	LegacyPools() []*apppool.Pool
	// Legacy reports whether the host runs in Legacy isolation mode, where
	// the store's pools are inactive.
	Legacy() bool
}

// LogSource reports the access logs' counters by site name.
type LogSource interface {
	// AccessLogStats returns, per site with an access log, the lines
	// written and the lines dropped because the disk could not keep up.
	AccessLogStats() map[string]LogStats
	// Unrouted returns the requests no site or application matched.
	Unrouted() uint64
}

// ConnSource reports the client connections the front refused or cut, by
// reason. A LogSource that also implements it has them exported as
// poolctl_connections_refused_total.
type ConnSource interface {
	ConnectionsRefused() map[string]uint64
}

// LogStats are one access log's counters.
type LogStats struct {
	Written, Dropped uint64
}

// poolStates are the values of poolctl_pool_state, a state set: exactly
// one is 1 for each pool.
var poolStates = []string{"Starting", "Started", "Stopping", "Stopped", "Disabled", "Inactive"}

var (
	descPoolState = expo.NewDesc("poolctl_pool_state",
		"The pool's state: 1 for the current one (Disabled: stopped by rapid-fail protection; Inactive: Legacy isolation mode).", []string{"pool", "state"}, expo.Gauge)
	descPoolWorkers = expo.NewDesc("poolctl_pool_workers",
		"Worker processes of the pool, serving or draining.", []string{"pool"}, expo.Gauge)
	descPoolQueue = expo.NewDesc("poolctl_pool_queue_depth",
		"Requests waiting in the pool's queue for a worker.", []string{"pool"}, expo.Gauge)
	descPoolInFlight = expo.NewDesc("poolctl_pool_requests_in_flight",
		"Requests the pool's workers are serving now.", []string{"pool"}, expo.Gauge)
	descRequests = expo.NewDesc("poolctl_requests_total",
		"Requests answered for the pool, by status class (1xx ... 5xx), refusals included.", []string{"pool", "class"}, expo.Counter)
	descRefused = expo.NewDesc("poolctl_requests_refused_total",
		"Requests the pool turned away with 503 (or a TCP reset) without a worker, by reason.", []string{"pool", "reason"}, expo.Counter)
	descLatency = expo.NewDesc("poolctl_request_duration_seconds",
		"Time from a request's arrival at the front to the end of its response.", []string{"pool"}, expo.Histogram)
	descRecycles = expo.NewDesc("poolctl_worker_recycles_total",
		"Workers replaced, by reason (time, requests, schedule, memory, private_memory, on_demand, config_change, ping_failure, other).", []string{"pool", "reason"}, expo.Counter)
	descCrashes = expo.NewDesc("poolctl_worker_crashes_total",
		"Workers that ended unexpectedly, at start-up or later.", []string{"pool"}, expo.Counter)
	descPrivate = expo.NewDesc("poolctl_worker_private_memory_bytes",
		"The worker's private memory: anonymous resident plus swapped.", []string{"pool", "pid"}, expo.Gauge)
	descVirtual = expo.NewDesc("poolctl_worker_virtual_memory_bytes",
		"The worker's address space size.", []string{"pool", "pid"}, expo.Gauge)
	descCPU = expo.NewDesc("poolctl_worker_cpu_seconds_total",
		"User and system CPU time the worker process has used.", []string{"pool", "pid"}, expo.Counter)
	descServed = expo.NewDesc("poolctl_worker_requests_total",
		"Requests the worker has served.", []string{"pool", "pid"}, expo.Counter)
	descAge = expo.NewDesc("poolctl_worker_age_seconds",
		"Time since the worker started.", []string{"pool", "pid"}, expo.Gauge)
	descLogWritten = expo.NewDesc("poolctl_access_log_lines_total",
		"Access-log lines handed to the site's log file.", []string{"site"}, expo.Counter)
	descLogDropped = expo.NewDesc("poolctl_access_log_dropped_total",
		"Access-log lines dropped because the disk could not keep up (writing never blocks requests).", []string{"site"}, expo.Counter)
	descUnrouted = expo.NewDesc("poolctl_requests_unrouted_total",
		"Requests answered 404 because no site or application matched them.", nil, expo.Counter)
	descConnRefused = expo.NewDesc("poolctl_connections_refused_total",
		"Client connections the front refused or cut, by reason (max_connections, max_connections_per_client, site_max_connections, connection_timeout, body_timeout, min_bytes_per_second).", []string{"reason"}, expo.Counter)
)

// Collector adds its families to a scrape.
type Collector interface {
	Collect(b *expo.Builder)
}

// collector reads the running pools at each scrape.
type collector struct {
	src  Source
	logs LogSource // nil for none
	now  func() time.Time
}

// Collect reads every pool and worker now.
func (c *collector) Collect(b *expo.Builder) {
	now := c.now()
	inactive := c.src.Legacy()
	collect := func(p *apppool.Pool, inactive bool) {
		st := p.Status()
		if inactive {
			st.State = apppool.InactiveState
		}
		collectPool(b, st, p.Stats().Snapshot())
		for _, w := range st.Workers {
			collectWorker(b, st.Name, w, now)
		}
	}
	for _, p := range c.src.Pools() {
		collect(p, inactive)
	}
	for _, p := range c.src.LegacyPools() {
		collect(p, false)
	}
	if c.logs != nil {
		collectLogs(b, c.logs)
	}
}

// collectLogs adds the access logs' and the front's counters.
func collectLogs(b *expo.Builder, logs LogSource) {
	for site, s := range logs.AccessLogStats() {
		b.Add(descLogWritten, float64(s.Written), site)
		b.Add(descLogDropped, float64(s.Dropped), site)
	}
	b.Add(descUnrouted, float64(logs.Unrouted()))
	if cs, ok := logs.(ConnSource); ok {
		for reason, n := range cs.ConnectionsRefused() {
			b.Add(descConnRefused, float64(n), reason)
		}
	}
}

func collectPool(b *expo.Builder, st hostapi.PoolStatus, s apppool.StatsSnapshot) {
	pool := st.Name
	state := st.State.String()
	if st.Disabled && st.State != apppool.InactiveState {
		state = "Disabled"
	}
	for _, v := range poolStates {
		b.Add(descPoolState, boolValue(v == state), pool, v)
	}
	inFlight := 0
	for _, w := range st.Workers {
		inFlight += w.InFlight
	}
	b.Add(descPoolWorkers, float64(len(st.Workers)), pool)
	b.Add(descPoolQueue, float64(st.Queue), pool)
	b.Add(descPoolInFlight, float64(inFlight), pool)
	for i, n := range s.ByClass {
		b.Add(descRequests, float64(n), pool, strconv.Itoa(i+1)+"xx")
	}
	for i, n := range s.Refused {
		b.Add(descRefused, float64(n), pool, apppool.RefusalNames[i])
	}
	b.AddHistogram(descLatency, s.Count, s.Sum, s.Buckets, pool)
	for reason, n := range s.Recycles {
		b.Add(descRecycles, float64(n), pool, reason)
	}
	b.Add(descCrashes, float64(s.Crashes), pool)
}

func collectWorker(b *expo.Builder, pool string, w hostapi.WorkerStatus, now time.Time) {
	pid := strconv.Itoa(w.PID)
	b.Add(descPrivate, float64(w.PrivateKB)*1024, pool, pid)
	b.Add(descVirtual, float64(w.VirtualKB)*1024, pool, pid)
	b.Add(descCPU, w.CPUSeconds, pool, pid)
	b.Add(descServed, float64(w.Requests), pool, pid)
	b.Add(descAge, max(now.Sub(w.Started).Seconds(), 0), pool, pid)
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
