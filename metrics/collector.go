package metrics

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/poolctl/poolctl/apppool"
	"github.com/poolctl/poolctl/hostapi"
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
	descPoolState = prometheus.NewDesc("poolctl_pool_state",
		"The pool's state: 1 for the current one (Disabled: stopped by rapid-fail protection; Inactive: Legacy isolation mode).", []string{"pool", "state"}, nil)
	descPoolWorkers = prometheus.NewDesc("poolctl_pool_workers",
		"Worker processes of the pool, serving or draining.", []string{"pool"}, nil)
	descPoolQueue = prometheus.NewDesc("poolctl_pool_queue_depth",
		"Requests waiting in the pool's queue for a worker.", []string{"pool"}, nil)
	descPoolInFlight = prometheus.NewDesc("poolctl_pool_requests_in_flight",
		"Requests the pool's workers are serving now.", []string{"pool"}, nil)
	descRequests = prometheus.NewDesc("poolctl_requests_total",
		"Requests answered for the pool, by status class (1xx ... 5xx), refusals included.", []string{"pool", "class"}, nil)
	descRefused = prometheus.NewDesc("poolctl_requests_refused_total",
		"Requests the pool turned away with 503 (or a TCP reset) without a worker, by reason.", []string{"pool", "reason"}, nil)
	descLatency = prometheus.NewDesc("poolctl_request_duration_seconds",
		"Time from a request's arrival at the front to the end of its response.", []string{"pool"}, nil)
	descRecycles = prometheus.NewDesc("poolctl_worker_recycles_total",
		"Workers replaced, by reason (time, requests, schedule, memory, private_memory, on_demand, config_change, ping_failure, other).", []string{"pool", "reason"}, nil)
	descCrashes = prometheus.NewDesc("poolctl_worker_crashes_total",
		"Workers that ended unexpectedly, at start-up or later.", []string{"pool"}, nil)
	descPrivate = prometheus.NewDesc("poolctl_worker_private_memory_bytes",
		"The worker's private memory: anonymous resident plus swapped.", []string{"pool", "pid"}, nil)
	descVirtual = prometheus.NewDesc("poolctl_worker_virtual_memory_bytes",
		"The worker's address space size.", []string{"pool", "pid"}, nil)
	descCPU = prometheus.NewDesc("poolctl_worker_cpu_seconds_total",
		"User and system CPU time the worker process has used.", []string{"pool", "pid"}, nil)
	descServed = prometheus.NewDesc("poolctl_worker_requests_total",
		"Requests the worker has served.", []string{"pool", "pid"}, nil)
	descAge = prometheus.NewDesc("poolctl_worker_age_seconds",
		"Time since the worker started.", []string{"pool", "pid"}, nil)
	descLogWritten = prometheus.NewDesc("poolctl_access_log_lines_total",
		"Access-log lines handed to the site's log file.", []string{"site"}, nil)
	descLogDropped = prometheus.NewDesc("poolctl_access_log_dropped_total",
		"Access-log lines dropped because the disk could not keep up (writing never blocks requests).", []string{"site"}, nil)
	descUnrouted = prometheus.NewDesc("poolctl_requests_unrouted_total",
		"Requests answered 404 because no site or application matched them.", nil, nil)
	descConnRefused = prometheus.NewDesc("poolctl_connections_refused_total",
		"Client connections the front refused or cut, by reason (max_connections, max_connections_per_client, site_max_connections, connection_timeout, body_timeout, min_bytes_per_second).", []string{"reason"}, nil)
)

// collector is a prometheus.Collector over the running pools.
type collector struct {
	src  Source
	logs LogSource // nil for none
	now  func() time.Time
}

// Describe sends every descriptor.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPoolState, descPoolWorkers, descPoolQueue, descPoolInFlight, descRequests,
		descRefused, descLatency, descRecycles, descCrashes, descPrivate, descVirtual, descCPU, descServed, descAge,
		descLogWritten, descLogDropped, descUnrouted, descConnRefused} {
		ch <- d
	}
}

// Collect reads every pool and worker now.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	now := c.now()
	inactive := c.src.Legacy()
	collect := func(p *apppool.Pool, inactive bool) {
		st := p.Status()
		if inactive {
			st.State = apppool.InactiveState
		}
		c.collectPool(ch, st, p.Stats().Snapshot())
		for _, w := range st.Workers {
			c.collectWorker(ch, st.Name, w, now)
		}
	}
	for _, p := range c.src.Pools() {
		collect(p, inactive)
	}
	for _, p := range c.src.LegacyPools() {
		collect(p, false)
	}
	if c.logs != nil {
		for site, s := range c.logs.AccessLogStats() {
			ch <- prometheus.MustNewConstMetric(descLogWritten, prometheus.CounterValue, float64(s.Written), site)
			ch <- prometheus.MustNewConstMetric(descLogDropped, prometheus.CounterValue, float64(s.Dropped), site)
		}
		ch <- prometheus.MustNewConstMetric(descUnrouted, prometheus.CounterValue, float64(c.logs.Unrouted()))
		if cs, ok := c.logs.(ConnSource); ok {
			for reason, n := range cs.ConnectionsRefused() {
				ch <- prometheus.MustNewConstMetric(descConnRefused, prometheus.CounterValue, float64(n), reason)
			}
		}
	}
}

func (c *collector) collectPool(ch chan<- prometheus.Metric, st hostapi.PoolStatus, s apppool.StatsSnapshot) {
	pool := st.Name
	state := st.State.String()
	if st.Disabled && st.State != apppool.InactiveState {
		state = "Disabled"
	}
	for _, v := range poolStates {
		ch <- prometheus.MustNewConstMetric(descPoolState, prometheus.GaugeValue, boolValue(v == state), pool, v)
	}
	inFlight := 0
	for _, w := range st.Workers {
		inFlight += w.InFlight
	}
	ch <- prometheus.MustNewConstMetric(descPoolWorkers, prometheus.GaugeValue, float64(len(st.Workers)), pool)
	ch <- prometheus.MustNewConstMetric(descPoolQueue, prometheus.GaugeValue, float64(st.Queue), pool)
	ch <- prometheus.MustNewConstMetric(descPoolInFlight, prometheus.GaugeValue, float64(inFlight), pool)
	for i, n := range s.ByClass {
		ch <- prometheus.MustNewConstMetric(descRequests, prometheus.CounterValue, float64(n), pool, strconv.Itoa(i+1)+"xx")
	}
	for i, n := range s.Refused {
		ch <- prometheus.MustNewConstMetric(descRefused, prometheus.CounterValue, float64(n), pool, apppool.RefusalNames[i])
	}
	ch <- prometheus.MustNewConstHistogram(descLatency, s.Count, s.Sum, s.Buckets, pool)
	for reason, n := range s.Recycles {
		ch <- prometheus.MustNewConstMetric(descRecycles, prometheus.CounterValue, float64(n), pool, reason)
	}
	ch <- prometheus.MustNewConstMetric(descCrashes, prometheus.CounterValue, float64(s.Crashes), pool)
}

func (c *collector) collectWorker(ch chan<- prometheus.Metric, pool string, w hostapi.WorkerStatus, now time.Time) {
	pid := strconv.Itoa(w.PID)
	ch <- prometheus.MustNewConstMetric(descPrivate, prometheus.GaugeValue, float64(w.PrivateKB)*1024, pool, pid)
	ch <- prometheus.MustNewConstMetric(descVirtual, prometheus.GaugeValue, float64(w.VirtualKB)*1024, pool, pid)
	ch <- prometheus.MustNewConstMetric(descCPU, prometheus.CounterValue, w.CPUSeconds, pool, pid)
	ch <- prometheus.MustNewConstMetric(descServed, prometheus.CounterValue, float64(w.Requests), pool, pid)
	ch <- prometheus.MustNewConstMetric(descAge, prometheus.GaugeValue, max(now.Sub(w.Started).Seconds(), 0), pool, pid)
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
