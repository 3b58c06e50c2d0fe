package hosttest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// loadSpec describes a closed-loop HTTP load: Conns connections, each
// sending one GET at a time, back to back.
type loadSpec struct {
	// Base is the URL prefix, e.g. "http://127.0.0.1:8080".
	Base string
	// Path returns the path of the n-th request (0-based) of connection c.
	Path func(c, n int) string
	// Conns is the number of concurrent keep-alive connections.
	Conns int
	// Duration is how long the load runs unless Stop is closed first
	// (then Stop ends it) — see run.
	Duration time.Duration
	// MaxRequests is a hard cap on the number of requests, all
	// connections together.
	MaxRequests int64
	// RequestTimeout bounds each request (default 10s).
	RequestTimeout time.Duration
	// Start is the origin of sample.start (default: when the load starts),
	// so that other events can be placed on the same time line.
	Start time.Time
}

// sample is the outcome of one request.
type sample struct {
	path    string
	start   time.Duration // since the load started
	latency time.Duration
	status  int    // 0 when the request failed at transport level
	err     string // transport error, or a note about the body
	pid     int    // the worker pid the body names, 0 if none
}

// loadResult is the outcome of a load run.
type loadResult struct {
	Elapsed  time.Duration
	Samples  []sample // in no particular order
	Requests int
	OK       int // 2xx with a body naming a worker
	Non2xx   int
	Errors   int // transport errors and unreadable bodies
	// Statuses counts responses by status code.
	Statuses map[int]int
	// PIDs lists the distinct worker pids seen, in order of first sight.
	PIDs []int
	// Failures holds up to 20 failure descriptions, for the log.
	Failures []string
}

// Failed is the number of requests that did not get a 2xx answer.
func (r *loadResult) Failed() int { return r.Non2xx + r.Errors }

// percentile returns the q-quantile (0..1) of the latencies of the samples
// accepted by keep (all when keep is nil).
func (r *loadResult) percentile(q float64, keep func(sample) bool) time.Duration {
	var ls []time.Duration
	for _, s := range r.Samples {
		if keep == nil || keep(s) {
			ls = append(ls, s.latency)
		}
	}
	return quantile(ls, q)
}

// quantile returns the q-quantile of ds (nearest rank), 0 when empty.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	ds = slices.Clone(ds)
	slices.Sort(ds)
	i := int(q*float64(len(ds))+0.5) - 1
	i = max(0, min(i, len(ds)-1))
	return ds[i]
}

// Summary is a one-line account of the run for t.Logf.
func (r *loadResult) Summary() string {
	rps := float64(r.Requests) / r.Elapsed.Seconds()
	return fmt.Sprintf("%d requests in %s (%.0f req/s): %d ok, %d non-2xx, %d errors; latency p50 %s p99 %s p99.9 %s max %s; %d worker pids seen",
		r.Requests, r.Elapsed.Round(time.Millisecond), rps, r.OK, r.Non2xx, r.Errors,
		fmtMS(r.percentile(0.50, nil)), fmtMS(r.percentile(0.99, nil)), fmtMS(r.percentile(0.999, nil)),
		fmtMS(r.percentile(1, nil)), len(r.PIDs))
}

// fmtMS prints a duration in milliseconds with two decimals.
func fmtMS(d time.Duration) string {
	return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
}

// runLoad runs the load until spec.Duration has passed, or, when stop is
// not nil, until stop is closed (spec.Duration is then the hard limit), or
// until spec.MaxRequests requests were sent. Each connection has its own
// http.Transport with a single connection, so the load is exactly Conns
// keep-alive connections (a connection the server closes is redialled).
func runLoad(spec loadSpec, stop <-chan struct{}) *loadResult {
	if spec.RequestTimeout <= 0 {
		spec.RequestTimeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), spec.Duration)
	defer cancel()
	if stop != nil {
		go func() {
			select {
			case <-stop:
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	var sent atomic.Int64
	per := make([][]sample, spec.Conns)
	began := time.Now()
	start := spec.Start
	if start.IsZero() {
		start = began
	}
	var wg sync.WaitGroup
	for c := range spec.Conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := &http.Transport{
				Proxy:               nil,
				DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
				MaxIdleConns:        1,
				MaxIdleConnsPerHost: 1,
				MaxConnsPerHost:     1,
				DisableCompression:  true,
			}
			defer tr.CloseIdleConnections()
			cl := &http.Client{Transport: tr, Timeout: spec.RequestTimeout}
			for n := 0; ctx.Err() == nil; n++ {
				if sent.Add(1) > spec.MaxRequests {
					return
				}
				path := spec.Path(c, n)
				s := oneRequest(cl, spec.Base+path, start)
				s.path = path
				per[c] = append(per[c], s)
			}
		}()
	}
	wg.Wait()
	res := &loadResult{Elapsed: time.Since(began), Statuses: map[int]int{}}
	seen := map[int]bool{}
	for _, ss := range per {
		res.Samples = append(res.Samples, ss...)
	}
	slices.SortFunc(res.Samples, func(a, b sample) int { return int(a.start - b.start) })
	for _, s := range res.Samples {
		res.Requests++
		switch {
		case s.status == 0 || s.err != "":
			res.Errors++
		case s.status < 200 || s.status > 299:
			res.Non2xx++
		default:
			res.OK++
		}
		if s.status != 0 {
			res.Statuses[s.status]++
		}
		if (s.status == 0 || s.status > 299 || s.err != "") && len(res.Failures) < 20 {
			res.Failures = append(res.Failures, fmt.Sprintf("at %s: status %d %s", s.start.Round(time.Millisecond), s.status, s.err))
		}
		if s.pid != 0 && !seen[s.pid] {
			seen[s.pid] = true
			res.PIDs = append(res.PIDs, s.pid)
		}
	}
	return res
}

// oneRequest sends one GET and reads the whole answer.
func oneRequest(cl *http.Client, url string, t0 time.Time) sample {
	begin := time.Now()
	s := sample{start: begin.Sub(t0)}
	resp, err := cl.Get(url)
	if err != nil {
		s.latency = time.Since(begin)
		s.err = err.Error()
		return s
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	s.latency = time.Since(begin)
	s.status = resp.StatusCode
	switch {
	case err != nil:
		s.err = "reading the body: " + err.Error()
	case resp.StatusCode >= 200 && resp.StatusCode <= 299:
		s.pid = pidOf(string(body))
		if s.pid == 0 {
			s.err = fmt.Sprintf("2xx body names no worker: %q", body)
		}
	default:
		s.err = fmt.Sprintf("%s %q", resp.Header.Get("X-Poolctl-Reason"), strings.TrimSpace(string(body)))
	}
	return s
}

// pidOf returns N from a test worker's "pid=N worker=ID pool=P" answer.
func pidOf(body string) int {
	rest, ok := strings.CutPrefix(body, "pid=")
	if !ok {
		return 0
	}
	num, _, _ := strings.Cut(rest, " ")
	n, err := strconv.Atoi(num)
	if err != nil {
		return 0
	}
	return n
}
