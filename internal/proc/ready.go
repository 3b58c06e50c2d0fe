package proc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ErrNotReady is wrapped by WaitReady when the deadline passes.
var ErrNotReady = errors.New("worker not ready")

// ErrExited is wrapped by WaitReady when the process exits before it is
// ready.
var ErrExited = errors.New("worker exited before it was ready")

// DefaultStartupTimeLimit bounds WaitReady when its context has no deadline
// (IIS's startupTimeLimit default).
const DefaultStartupTimeLimit = 90 * time.Second

// DefaultCheckTimeout bounds Check when its context has no deadline (IIS's
// pingResponseTime default).
const DefaultCheckTimeout = 90 * time.Second

// Poll backoff of WaitReady.
const (
	pollFirst = 2 * time.Millisecond
	pollMax   = 50 * time.Millisecond
)

// maxBodyDrain is how much of a health response body is read before the
// connection is closed.
const maxBodyDrain = 4 << 10

// checkClient is the HTTP client of health checks: no proxy, no keep-alive
// (each check proves that the worker accepts a new connection), no redirect
// following (a 3xx answer counts as healthy), and no timeout of its own (the
// context carries it).
var checkClient = &http.Client{
	Transport: &http.Transport{
		Proxy:             nil,
		DialContext:       (&net.Dialer{}).DialContext,
		DisableKeepAlives: true,
	},
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// TCPCheck is the pingPath that asks for the TCP-only check: the worker is
// healthy when it accepts a connection, even if it never answers (the
// default before hang detection; a suspended process still passes it).
const TCPCheck = "tcp:"

// WaitReady waits until a health check of addr ("127.0.0.1:port") passes:
// see [Check] for what pingPath selects. It polls with a short backoff
// (start 2 ms, doubling, cap 50 ms) until ctx is done, returns early with an
// error wrapping ErrExited if exited is closed (the process died; nil means
// never), and wraps ErrNotReady and ctx's error, with the last failure, when
// ctx is done first. Without a deadline in ctx, DefaultStartupTimeLimit
// applies. It does not prove who listens on addr: [Process.WaitReady] does.
func WaitReady(ctx context.Context, addr, pingPath string, exited <-chan struct{}) error {
	return waitReady(ctx, addr, pingPath, exited, nil)
}

// WaitReady is the package's [WaitReady] for this process: it ends early
// when the process exits, and before each check it proves that every socket
// listening on addr's port belongs to this process, a process of its group
// or one of its descendants (listeners from sock_diag, or /proc/net/tcp{,6},
// and their holders from /proc/<pid>/fd; owner.go).
// While nothing listens, nothing is sent; while another process listens on
// the port, the check fails with an error wrapping ErrNotOwner and nothing
// is sent to it either, so an answer from someone else's listener can never
// make the worker ready. addr must be 127.0.0.1:port.
func (p *Process) WaitReady(ctx context.Context, addr, pingPath string) error {
	_, ps, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("wait for %s: %w", addr, err)
	}
	port, err := strconv.Atoi(ps)
	if err != nil {
		return fmt.Errorf("wait for %s: port %q: %w", addr, ps, err)
	}
	return waitReady(ctx, addr, pingPath, p.Done(), func() error { return checkOwner(p.Pid, port) })
}

// waitReady is WaitReady with an optional proof of ownership run before
// each check.
func waitReady(ctx context.Context, addr, pingPath string, exited <-chan struct{}, owner func() error) error {
	return waitUntil(ctx, addr, exited, func(ctx context.Context) error {
		if owner != nil {
			if err := owner(); err != nil {
				return err
			}
		}
		return Check(ctx, addr, pingPath)
	})
}

// waitUntil polls probe with the readiness backoff until it passes, the
// process exits (exited is closed) or ctx is done; what names the
// worker's address in errors.
func waitUntil(ctx context.Context, what string, exited <-chan struct{}, probe func(context.Context) error) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultStartupTimeLimit)
		defer cancel()
	}
	// Checks run under runCtx, which also ends when the process exits, so
	// a check in flight does not outlive the process.
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if exited != nil {
		go func() {
			select {
			case <-exited:
				cancel()
			case <-runCtx.Done():
			}
		}()
	}

	start := time.Now()
	delay := pollFirst
	var lastErr error
	checks := 0
	timer := time.NewTimer(pollMax)
	timer.Stop() // armed by Reset below; since Go 1.23 Stop leaves no stale tick
	defer timer.Stop()
	// The loop ends when a check passes, the process exits or ctx is done
	// (which always has a deadline here).
	for {
		if isClosed(exited) {
			return exitedError(what, lastErr)
		}
		if ctx.Err() != nil {
			return notReadyError(ctx, what, start, checks, lastErr)
		}
		checks++
		err := probe(runCtx)
		if err == nil {
			return nil
		}
		if lastErr == nil || !cutShort(runCtx) {
			// A check cut short by the end of the wait says less than
			// the failure before it.
			lastErr = err
		}
		timer.Reset(delay)
		select {
		case <-timer.C:
		case <-runCtx.Done():
			// Either ctx or exited; the top of the loop says which.
		}
		delay = min(2*delay, pollMax)
	}
}

// cutShort reports whether a check that just failed may have been ended
// by the wait itself: its context is done, or its deadline has passed (a
// dial fails with "i/o timeout" at the deadline a moment before the
// context's own timer marks it done).
func cutShort(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}

// isClosed reports whether ch is closed (a nil channel never is).
func isClosed(ch <-chan struct{}) bool {
	if ch == nil {
		return false
	}
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// exitedError is WaitReady's error when the process exits first.
func exitedError(addr string, lastErr error) error {
	if lastErr == nil {
		return fmt.Errorf("wait for %s: %w", addr, ErrExited)
	}
	return fmt.Errorf("wait for %s: %w (last check: %v)", addr, ErrExited, lastErr)
}

// notReadyError is WaitReady's error when ctx is done first.
func notReadyError(ctx context.Context, addr string, start time.Time, checks int, lastErr error) error {
	elapsed := time.Since(start).Round(time.Millisecond)
	if lastErr == nil {
		return fmt.Errorf("wait for %s: %w after %v: %w", addr, ErrNotReady, elapsed, ctx.Err())
	}
	return fmt.Errorf("wait for %s: %w after %v (%d checks): %w; last check: %w",
		addr, ErrNotReady, elapsed, checks, ctx.Err(), lastErr)
}

// Check performs one health check with the timeout carried by ctx (without
// a deadline in ctx, DefaultCheckTimeout applies). addr is 127.0.0.1:port,
// or the absolute path of a unix socket (followed like any path: the host
// checks a worker's socket through [UnixSocket.Check]). pingPath selects
// the check:
//
//   - "" (the default): the alive check (see [CheckAlive]): GET / where any
//     reaction of the worker counts, so that a hung worker fails it.
//   - [TCPCheck] ("tcp:"): a connect; a worker whose kernel accepts the
//     connection passes, even if the process is stopped or hung.
//   - a path starting with /: GET pingPath, which must answer 2xx or 3xx.
func Check(ctx context.Context, addr, pingPath string) error {
	return check(ctx, endpointOf(addr), pingPath)
}

// endpoint is where a check connects: label names it in errors, host is
// the Host header of its request, dial opens a connection.
type endpoint struct {
	label, host string
	dial        func(context.Context) (net.Conn, error)
}

// endpointOf is the endpoint of a Check address: a unix socket path or a
// TCP host:port.
func endpointOf(addr string) endpoint {
	network := "tcp"
	host := addr
	if strings.HasPrefix(addr, "/") {
		network, host = "unix", "localhost"
	}
	return endpoint{label: addr, host: host, dial: func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
}

// check is Check of an endpoint.
func check(ctx context.Context, ep endpoint, pingPath string) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultCheckTimeout)
		defer cancel()
	}
	addr := ep.label
	switch pingPath {
	case "":
		return checkAlive(ctx, ep)
	case TCPCheck:
		conn, err := ep.dial(ctx)
		if err != nil {
			return fmt.Errorf("check %s: %w", addr, err)
		}
		if err := conn.Close(); err != nil {
			return fmt.Errorf("check %s: %w", addr, err)
		}
		return nil
	}
	if !strings.HasPrefix(pingPath, "/") {
		return fmt.Errorf("check %s: ping path %q does not start with /", addr, pingPath)
	}
	url := "http://" + ep.host + pingPath
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("check %s: %w", url, err)
	}
	req.Header.Set("User-Agent", "poolctl-health-check")
	client := checkClient
	if ep.host != addr {
		// Not a TCP address: a client of its own that dials the endpoint
		// (no keep-alive, so nothing of it outlives the check).
		client = &http.Client{
			Transport: &http.Transport{
				Proxy:             nil,
				DialContext:       func(ctx context.Context, _, _ string) (net.Conn, error) { return ep.dial(ctx) },
				DisableKeepAlives: true,
			},
			CheckRedirect: checkClient.CheckRedirect,
		}
		url = addr + pingPath
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("check %s: %w", addr, err)
	}
	_, _ = io.CopyN(io.Discard, resp.Body, maxBodyDrain)
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 399 {
		return fmt.Errorf("check GET %s: status %s", url, resp.Status)
	}
	return nil
}
