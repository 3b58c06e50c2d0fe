package proc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestWaitReady(t *testing.T) {
	t.Parallel()
	for _, pingPath := range []string{"", "/health", "/"} {
		t.Run("path="+pingPath, func(t *testing.T) {
			t.Parallel()
			port := reservePort(t)
			// The delay makes WaitReady poll a few times first.
			p, err := Start(Spec{Path: sleeper(t), Args: []string{"-listen", strconv.Itoa(port), "-listen-delay", "150ms"}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _, _ = p.Stop(context.Background(), 0) })
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
			if err := WaitReady(ctx, addr, pingPath, p.Done()); err != nil {
				t.Fatalf("WaitReady: %v", err)
			}
			if err := Check(ctx, addr, pingPath); err != nil {
				t.Errorf("Check after ready: %v", err)
			}
		})
	}
}

func TestWaitReadyBadStatusTimesOut(t *testing.T) {
	t.Parallel()
	port := reservePort(t)
	p, _ := startSleeper(t, "-listen", strconv.Itoa(port))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := WaitReady(ctx, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), "/missing", p.Done())
	if !errors.Is(err, ErrNotReady) || !strings.Contains(err.Error(), "404") {
		t.Fatalf("WaitReady = %v, want ErrNotReady mentioning the 404", err)
	}
}

func TestWaitReadyProcessExits(t *testing.T) {
	t.Parallel()
	port := closedPort(t)
	p, err := Start(Spec{Path: sleeper(t), Args: []string{"-exit-after", "50ms", "-exit-code", "1"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = p.Stop(context.Background(), 0) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	begin := time.Now()
	err = WaitReady(ctx, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), "/health", p.Done())
	if !errors.Is(err, ErrExited) || errors.Is(err, ErrNotReady) {
		t.Fatalf("WaitReady = %v, want ErrExited", err)
	}
	if elapsed := time.Since(begin); elapsed > 5*time.Second {
		t.Errorf("WaitReady noticed the exit after %v", elapsed)
	}
}

func TestWaitReadyTimeout(t *testing.T) {
	t.Parallel()
	port := closedPort(t)
	const limit = 200 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	begin := time.Now()
	err := WaitReady(ctx, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), "", nil)
	elapsed := time.Since(begin)
	if !errors.Is(err, ErrNotReady) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitReady = %v, want ErrNotReady and DeadlineExceeded", err)
	}
	if !strings.Contains(err.Error(), "refused") {
		t.Errorf("WaitReady error %q does not carry the last failure", err)
	}
	if elapsed < limit-10*time.Millisecond {
		t.Errorf("WaitReady returned after %v, before its %v limit", elapsed, limit)
	}
	t.Logf("WaitReady returned after %v (limit %v)", elapsed, limit)
}

func TestWaitReadyDoneContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := WaitReady(ctx, "127.0.0.1:1", "", nil); !errors.Is(err, ErrNotReady) || !errors.Is(err, context.Canceled) {
		t.Errorf("WaitReady with a done context = %v", err)
	}
	exited := make(chan struct{})
	close(exited)
	if err := WaitReady(context.Background(), "127.0.0.1:1", "", exited); !errors.Is(err, ErrExited) {
		t.Errorf("WaitReady with a closed exited = %v", err)
	}
}

func TestCheckClosedPortFailsFast(t *testing.T) {
	t.Parallel()
	port := closedPort(t)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for _, pingPath := range []string{"", "/health"} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		begin := time.Now()
		err := Check(ctx, addr, pingPath)
		cancel()
		if err == nil {
			t.Errorf("Check(%q) of a closed port succeeded", pingPath)
		}
		if elapsed := time.Since(begin); elapsed > time.Second {
			t.Errorf("Check(%q) of a closed port took %v", pingPath, elapsed)
		}
	}
}

func TestCheckStatus(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	for _, code := range []int{200, 204, 301, 302, 404, 500, 503} {
		mux.HandleFunc(fmt.Sprintf("/%d", code), func(w http.ResponseWriter, r *http.Request) {
			if code/100 == 3 {
				// A followed redirect would fail the check.
				http.Redirect(w, r, "/500", code)
				return
			}
			w.WriteHeader(code)
		})
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	for _, code := range []int{200, 204, 301, 302, 404, 500, 503} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := Check(ctx, addr, fmt.Sprintf("/%d", code))
		cancel()
		if ok := code < 400; ok != (err == nil) {
			t.Errorf("Check of a %d answer: %v", code, err)
		}
	}
	if err := Check(context.Background(), addr, "health"); err == nil {
		t.Error("Check accepted a ping path without a leading slash")
	}
}

func TestCheckTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	begin := time.Now()
	err := Check(ctx, srv.Listener.Addr().String(), "/slow")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Check of a hung server = %v, want DeadlineExceeded", err)
	}
	if elapsed := time.Since(begin); elapsed > 5*time.Second {
		t.Errorf("Check returned after %v", elapsed)
	}
}

// reservePort leases a loopback port for the rest of the test.
func reservePort(t *testing.T) int {
	t.Helper()
	l, err := HostPorts.Reserve()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Release)
	return l.Port
}

// closedPort returns a loopback port that refuses connections for the rest
// of the test: it is bound by a socket that never listens, without
// SO_REUSEADDR, so no other test can listen on it meanwhile.
func closedPort(t *testing.T) int {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return sa.(*unix.SockaddrInet4).Port
}
