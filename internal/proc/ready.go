package proc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
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

// WaitReady waits until addr ("127.0.0.1:port") accepts a TCP connection,
// or, with a non-empty pingPath, until `GET http://addr<pingPath>` answers
// 2xx or 3xx. It polls with a short backoff (start 2 ms, doubling, cap 50
// ms) until ctx is done, returns early with an error wrapping ErrExited if
// exited is closed (the process died; nil means never), and wraps ErrNotReady
// and ctx's error, with the last failure, when ctx is done first. Without a
// deadline in ctx, DefaultStartupTimeLimit applies.
func WaitReady(ctx context.Context, addr, pingPath string, exited <-chan struct{}) error {
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
			return exitedError(addr, lastErr)
		}
		if ctx.Err() != nil {
			return notReadyError(ctx, addr, start, checks, lastErr)
		}
		checks++
		err := Check(runCtx, addr, pingPath)
		if err == nil {
			return nil
		}
		if lastErr == nil || runCtx.Err() == nil {
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

// Check performs one health check (TCP connect, or with a non-empty pingPath
// an HTTP GET that must answer 2xx or 3xx) with the timeout carried by ctx;
// without a deadline in ctx, DefaultCheckTimeout applies.
func Check(ctx context.Context, addr, pingPath string) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultCheckTimeout)
		defer cancel()
	}
	if pingPath == "" {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", addr)
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
	url := "http://" + addr + pingPath
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("check %s: %w", url, err)
	}
	req.Header.Set("User-Agent", "poolctl-health-check")
	resp, err := checkClient.Do(req)
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	_, _ = io.CopyN(io.Discard, resp.Body, maxBodyDrain)
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 399 {
		return fmt.Errorf("check GET %s: status %s", url, resp.Status)
	}
	return nil
}

// FreePort returns a loopback TCP port that was free a moment ago (listen
// on 127.0.0.1:0, close). The caller passes it to the worker as $PORT;
// another process may take it meanwhile, which the worker reports by
// failing to listen.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	return port, nil
}
