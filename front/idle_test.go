package front

import (
	"log/slog"
	"net"
	"net/netip"
	"testing"
	"time"
)

// idleConn is a tracked connection on one end of a pipe, and a check of
// whether the front closed it.
func idleConn(t *testing.T) (*Front, *trackedConn) {
	t.Helper()
	f := New(noPools{}, slog.New(slog.DiscardHandler))
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	tc := newTrackedConn(a, f, netip.MustParseAddr("127.0.0.1"))
	f.conns.admit(tc.ip, hostLimits{})
	t.Cleanup(func() { tc.Close() })
	return f, tc
}

func isClosed(tc *trackedConn) bool {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return tc.closed
}

// waitClosed waits until tc is closed; the deadline only guards a failure.
func waitClosed(t *testing.T, tc *trackedConn, what string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !isClosed(tc) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: the connection was not closed", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func idleRefusals(f *Front) uint64 { return f.ConnectionsRefused()[RefusedIdleTimeout] }

// TestIdleTimerSparesBusyConnection: a connection serving a request for
// longer than the idle timeout is not closed; once idle again it is, after
// the timeout, and counted once.
func TestIdleTimerSparesBusyConnection(t *testing.T) {
	f, tc := idleConn(t)
	const d = 40 * time.Millisecond
	tc.armIdle(d) // new
	tc.disarmIdle()
	time.Sleep(4 * d) // a long request
	if isClosed(tc) {
		t.Fatal("a connection serving a request was closed as idle")
	}
	idleAt := time.Now()
	tc.armIdle(d) // idle after the request
	waitClosed(t, tc, "idle after a request")
	if waited := time.Since(idleAt); waited < d {
		t.Errorf("closed %v after it went idle, want at least %v", waited, d)
	}
	if n := idleRefusals(f); n != 1 {
		t.Errorf("connection_timeout refusals = %d, want 1", n)
	}
}

// TestIdleTimerKeepsActiveConnection: a connection whose requests follow
// each other within the timeout stays open however long it lives.
func TestIdleTimerKeepsActiveConnection(t *testing.T) {
	f, tc := idleConn(t)
	const d = 60 * time.Millisecond
	tc.armIdle(d)
	tc.disarmIdle()
	var longestIdle time.Duration // a loaded machine may stretch an idle moment
	for end := time.Now().Add(5 * d); time.Now().Before(end); {
		time.Sleep(d / 3) // serving a request
		idleAt := time.Now()
		tc.armIdle(d) // the next request follows at once
		tc.disarmIdle()
		longestIdle = max(longestIdle, time.Since(idleAt))
	}
	if isClosed(tc) && longestIdle < d {
		t.Fatalf("a connection idle for at most %v at a time was closed (timeout %v)", longestIdle, d)
	}
	if isClosed(tc) {
		t.Skipf("the machine stretched an idle moment to %v, past the %v timeout", longestIdle, d)
	}
	tc.armIdle(d)
	waitClosed(t, tc, "idle at the end")
	if n := idleRefusals(f); n != 1 {
		t.Errorf("connection_timeout refusals = %d, want 1", n)
	}
}

// TestIdleTimerShorterTimeoutApplies: when the timeout shrinks (a site's
// limits.connectionTimeout lowered), the next idle period uses the new
// one, not what the timer was set to before.
func TestIdleTimerShorterTimeoutApplies(t *testing.T) {
	_, tc := idleConn(t)
	tc.armIdle(time.Hour)
	tc.disarmIdle()
	tc.armIdle(20 * time.Millisecond)
	waitClosed(t, tc, "after the timeout shrank from an hour") // not an hour
}

// TestIdleTimerNewConnection: a connection that never sends a request is
// closed after the timeout.
func TestIdleTimerNewConnection(t *testing.T) {
	f, tc := idleConn(t)
	tc.armIdle(20 * time.Millisecond)
	waitClosed(t, tc, "a new connection with no request")
	if n := idleRefusals(f); n != 1 {
		t.Errorf("connection_timeout refusals = %d, want 1", n)
	}
}

// TestIdleTimerNotResetPerRequest (issue 12): requests on a kept-alive
// connection change no timer: the idle clock is two atomic stores per
// request.
func TestIdleTimerNotResetPerRequest(t *testing.T) {
	_, tc := idleConn(t)
	tc.armIdle(time.Minute)
	for range 1000 {
		tc.disarmIdle()
		tc.armIdle(time.Minute)
	}
	if n := tc.rearms.Load(); n != 0 {
		t.Errorf("the idle timer was set again %d times for 1000 requests, want 0", n)
	}
	if isClosed(tc) {
		t.Fatal("closed")
	}
}
