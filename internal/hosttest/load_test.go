package hosttest

import (
	"bufio"
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
	// Addr is the server's address, e.g. "127.0.0.1:8080".
	Addr string
	// Path returns the path of the n-th request (0-based) of connection c.
	Path func(c, n int) string
	// Conns is the number of concurrent keep-alive connections.
	Conns int
	// Duration is how long the load runs; with a stop channel (see
	// runLoad) it is the hard limit.
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
	newConn bool   // sent on a newly dialled connection
}

// loadResult is the outcome of a load run.
type loadResult struct {
	Elapsed  time.Duration
	Samples  []sample // in order of start
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
	// Dials is the number of connections opened. More than Conns means
	// that connections broke or the server closed them.
	Dials int
	// Redials says when connections were dialled again (up to 20).
	Redials []string
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
	return fmt.Sprintf("%d requests in %s (%.0f req/s) on %d connections: %d ok, %d non-2xx, %d errors; latency p50 %s p99 %s p99.9 %s max %s; %d worker pids seen",
		r.Requests, r.Elapsed.Round(time.Millisecond), rps, r.Dials, r.OK, r.Non2xx, r.Errors,
		fmtMS(r.percentile(0.50, nil)), fmtMS(r.percentile(0.99, nil)), fmtMS(r.percentile(0.999, nil)),
		fmtMS(r.percentile(1, nil)), len(r.PIDs))
}

// fmtMS prints a duration in milliseconds with two decimals.
func fmtMS(d time.Duration) string {
	return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
}

// runLoad runs the load until spec.Duration has passed, or, when stop is
// not nil, until stop is closed (spec.Duration is then the hard limit), or
// until spec.MaxRequests requests were sent. Each of the Conns clients
// keeps one raw HTTP/1.1 keep-alive connection and sends one request at a
// time on it; it never retries, so a connection that breaks is a failed
// request (net/http's client would silently resend a GET whose reused
// connection the server closed), after which it dials a new connection.
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
	var sent, dials atomic.Int64
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
			rc := &rawClient{addr: spec.Addr, timeout: spec.RequestTimeout, dials: &dials}
			defer rc.close()
			for n := 0; ctx.Err() == nil; n++ {
				if sent.Add(1) > spec.MaxRequests {
					return
				}
				path := spec.Path(c, n)
				s := rc.sample(path, start)
				s.path = path
				per[c] = append(per[c], s)
			}
		}()
	}
	wg.Wait()
	res := &loadResult{Elapsed: time.Since(began), Statuses: map[int]int{}, Dials: int(dials.Load())}
	seen := map[int]bool{}
	for c, ss := range per {
		res.Samples = append(res.Samples, ss...)
		for i, s := range ss {
			if i > 0 && s.newConn && len(res.Redials) < 20 {
				res.Redials = append(res.Redials, fmt.Sprintf("connection %d dialled again at %s, after %q sent at %s (status %d %s)",
					c, fmtMS(s.start), ss[i-1].path, fmtMS(ss[i-1].start), ss[i-1].status, ss[i-1].err))
			}
		}
	}
	slices.SortFunc(res.Samples, func(a, b sample) int { return int(a.start - b.start) })
	for _, s := range res.Samples {
		res.Requests++
		switch {
		case s.status == 0:
			res.Errors++
		case s.status < 200 || s.status > 299:
			res.Non2xx++
		case s.err != "":
			res.Errors++ // a 2xx whose body was cut short or names no worker
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

// rawClient is one load client: a raw HTTP/1.1 keep-alive connection,
// dialled when needed.
type rawClient struct {
	addr    string
	timeout time.Duration
	dials   *atomic.Int64
	conn    net.Conn
	br      *bufio.Reader
	dialed  bool // the last get dialled
}

// maxBody bounds the response bodies the load reads.
const maxBody = 1 << 20

// get sends `GET path` and reads the whole answer. After an error or a
// "Connection: close" answer the connection is closed, and the next get
// dials a new one.
func (rc *rawClient) get(path string) (*http.Response, []byte, error) {
	if rc.conn == nil {
		c, err := net.DialTimeout("tcp", rc.addr, 5*time.Second)
		if err != nil {
			return nil, nil, fmt.Errorf("dial: %w", err)
		}
		rc.dials.Add(1)
		rc.dialed = true
		rc.conn, rc.br = c, bufio.NewReader(c)
	}
	if err := rc.conn.SetDeadline(time.Now().Add(rc.timeout)); err != nil {
		rc.close()
		return nil, nil, err
	}
	if _, err := io.WriteString(rc.conn, "GET "+path+" HTTP/1.1\r\nHost: "+rc.addr+"\r\nUser-Agent: poolctl-hosttest-load\r\n\r\n"); err != nil {
		rc.close()
		return nil, nil, fmt.Errorf("write the request: %w", err)
	}
	resp, err := http.ReadResponse(rc.br, nil)
	if err != nil {
		rc.close()
		return nil, nil, fmt.Errorf("read the response: %w", err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	resp.Body.Close()
	switch {
	case err != nil:
		rc.close()
		return resp, body, fmt.Errorf("read the body: %w", err)
	case len(body) > maxBody:
		rc.close()
		return resp, body, fmt.Errorf("body longer than %d bytes", maxBody)
	case resp.Close:
		rc.close()
	}
	return resp, body, nil
}

// close closes the connection, if any.
func (rc *rawClient) close() {
	if rc.conn != nil {
		rc.conn.Close()
		rc.conn, rc.br = nil, nil
	}
}

// sample sends one request and describes its outcome.
func (rc *rawClient) sample(path string, t0 time.Time) sample {
	begin := time.Now()
	s := sample{start: begin.Sub(t0)}
	resp, body, err := rc.get(path)
	s.latency = time.Since(begin)
	if resp != nil {
		s.status = resp.StatusCode
	}
	s.newConn, rc.dialed = rc.dialed, false
	switch {
	case err != nil:
		s.err = err.Error()
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
