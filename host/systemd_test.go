package host

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/poolctl/poolctl/hostapi"
)

// lockedBuffer is a log sink safe for the watchdog goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// fakeSystemd records messages instead of sending them.
func fakeSystemd(fail error) (*systemd, chan string, *lockedBuffer) {
	msgs := make(chan string, 1000)
	logs := &lockedBuffer{}
	s := &systemd{logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		notify: func(state string) (bool, error) {
			msgs <- state
			return fail == nil, fail
		}}
	return s, msgs, logs
}

// TestNotifyMessages: READY=1 carries the status and the pid, STOPPING=1
// the status, each as one message.
func TestNotifyMessages(t *testing.T) {
	s, msgs, _ := fakeSystemd(nil)
	s.ready("serving: 1 listener(s)")
	s.stopping("shutting down")
	want := []string{"READY=1\nSTATUS=serving: 1 listener(s)\nMAINPID=" + strconv.Itoa(os.Getpid()), "STOPPING=1\nSTATUS=shutting down"}
	for _, w := range want {
		if got := <-msgs; got != w {
			t.Errorf("message %q, want %q", got, w)
		}
	}
}

// TestNotifyErrorLoggedOnce: failures to send never stop the host and are
// logged once, at debug.
func TestNotifyErrorLoggedOnce(t *testing.T) {
	s, _, logs := fakeSystemd(errors.New("connection refused"))
	for range 3 {
		s.ready("x")
	}
	if n := strings.Count(logs.String(), "sd_notify failed"); n != 1 || !strings.Contains(logs.String(), "level=DEBUG") {
		t.Fatalf("logged %d times, want once at debug:\n%s", n, logs)
	}
}

// TestWatchdogPingsOnlyWhileHealthy: a ping follows each passing check; no
// ping while the check fails; pings resume with it; ctx stops the loop.
func TestWatchdogPingsOnlyWhileHealthy(t *testing.T) {
	s, msgs, logs := fakeSystemd(nil)
	var failing atomic.Bool
	checks := make(chan error, 1000)
	check := func(ctx context.Context) error {
		if _, ok := ctx.Deadline(); !ok {
			t.Error("check without a deadline")
		}
		var err error
		if failing.Load() {
			err = errors.New("control API does not answer")
		}
		checks <- err
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.watchdog(ctx, 20*time.Millisecond, check) }()
	wait := func(what string, ch <-chan string) string {
		t.Helper()
		select {
		case m := <-ch:
			return m
		case <-time.After(5 * time.Second):
			t.Fatalf("no %s within 5s", what)
			return ""
		}
	}
	for range 3 {
		if m := wait("ping", msgs); m != "WATCHDOG=1" {
			t.Fatalf("message %q, want WATCHDOG=1", m)
		}
	}
	failing.Store(true)
	failed := func() {
		t.Helper()
		deadline := time.After(5 * time.Second)
		for {
			select {
			case err := <-checks:
				if err != nil {
					return
				}
			case <-deadline:
				t.Fatal("no failing check within 5s")
			}
		}
	}
	failed()
	for len(msgs) > 0 { // pings of checks that passed before the switch
		<-msgs
	}
	for range 3 {
		failed()
	}
	if n := len(msgs); n != 0 {
		t.Fatalf("%d messages while the check failed", n)
	}
	failing.Store(false)
	if m := wait("ping after recovery", msgs); m != "WATCHDOG=1" {
		t.Fatalf("message %q, want WATCHDOG=1", m)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("watchdog did not stop with ctx")
	}
	out := logs.String()
	if strings.Count(out, "watchdog: the host does not answer") != 1 || strings.Count(out, "watchdog: the host answers again") != 1 {
		t.Errorf("want one failure and one recovery logged:\n%s", out)
	}
}

// TestWatchdogOff: without an interval there is no loop and no message.
func TestWatchdogOff(t *testing.T) {
	s, msgs, _ := fakeSystemd(nil)
	s.watchdog(context.Background(), 0, func(context.Context) error { return nil })
	if len(msgs) != 0 {
		t.Fatalf("%d messages", len(msgs))
	}
}

// TestAliveCheck: alive passes while the control API answers on the
// socket, and fails (ErrNotHealthy) within its deadline when the socket
// accepts but nobody answers (a wedged server), and when nothing listens.
func TestAliveCheck(t *testing.T) {
	dir, err := os.MkdirTemp("", "pcsd")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ln, err := net.Listen("unix", filepath.Join(dir, "api.sock"))
	if err != nil {
		t.Fatal(err)
	}
	h := &Host{ctl: ln}
	api := hostapi.NewServer(hostapi.ServerOptions{HostUID: os.Geteuid(), OperatorGroup: -1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- api.Serve(ctx, ln) }()
	cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.alive(cctx); err != nil {
		t.Fatalf("alive with the API serving: %v", err)
	}
	stop()
	<-served

	wedged, err := net.Listen("unix", filepath.Join(dir, "wedged.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer wedged.Close()
	h.ctl = wedged
	wctx, wcancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer wcancel()
	start := time.Now()
	if err := h.alive(wctx); !errors.Is(err, ErrNotHealthy) {
		t.Fatalf("alive on a socket nobody answers: %v, want ErrNotHealthy", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("alive took %s past its 200ms deadline", d)
	}

	h.ctl = ln // closed by Serve: the path is gone
	if err := h.alive(cctx); !errors.Is(err, ErrNotHealthy) {
		t.Fatalf("alive with no socket: %v, want ErrNotHealthy", err)
	}
}
