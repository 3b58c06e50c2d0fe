// Package metrics exposes the host's state and counters in the Prometheus
// text format: per pool (state, workers, queue depth, requests by status
// class, refusals by reason, a latency histogram, recycles by reason,
// worker crashes), per worker (memory, CPU time, requests, age), and the
// access logs' dropped lines. Values are read from the pools at scrape
// time, so the series of a removed pool or an ended worker disappear with
// it and cardinality stays bounded by what runs.
package metrics
