package hosttest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/poolctl/poolctl/hostapi"
)

// launchSystemdHost starts `poolctl host` as systemd would: with extra
// environment variables and inherited files (fd 3 on). With listenPID, it
// goes through sh so that LISTEN_PID is the host's own pid, which is not
// known before it starts. It waits until the host answers on its control
// socket.
func (e *hostEnv) launchSystemdHost(env []string, files []*os.File, listenPID bool) {
	e.t.Helper()
	args := []string{"--config", e.store, "--socket", e.socket, "host", "--state-dir", e.state, "--log-level", "debug"}
	cmd := exec.Command(e.bin, args...)
	if listenPID {
		cmd = exec.Command("/bin/sh", append([]string{"-c", `LISTEN_PID=$$ exec "$0" "$@"`, e.bin}, args...)...)
	}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if name == "NOTIFY_SOCKET" || strings.HasPrefix(name, "LISTEN_") || strings.HasPrefix(name, "WATCHDOG_") {
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.ExtraFiles = files
	cmd.Stdout = syncWriter{e.logMu, e.hostLog}
	cmd.Stderr = syncWriter{e.logMu, e.hostLog}
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.host = cmd
	done := make(chan error, 1)
	e.hostDone = done
	go func() { done <- cmd.Wait() }()
	waitFor(e.t, 15*time.Second, "host ready", func() error {
		select {
		case err := <-done:
			done <- err
			return fmt.Errorf("host exited: %v\n%s", err, e.log())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return hostapi.NewClient(e.socket).Ping(ctx)
	})
}

// notifySocket listens where the host sends sd_notify messages and
// returns the NOTIFY_SOCKET variable and the messages as they arrive.
func notifySocket(t *testing.T) (env string, msgs <-chan string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ch := make(chan string, 1024)
	go func() {
		defer close(ch)
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			select {
			case ch <- string(buf[:n]):
			default: // the test stopped reading; drop
			}
		}
	}()
	return "NOTIFY_SOCKET=" + path, ch
}

// waitMsg returns the first message that has the line want, within d.
func waitMsg(t *testing.T, msgs <-chan string, want string, d time.Duration) string {
	t.Helper()
	d = guard(d)
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		select {
		case m, ok := <-msgs:
			if !ok {
				t.Fatalf("notify socket closed before %q", want)
			}
			for _, line := range strings.Split(m, "\n") {
				if line == want {
					return m
				}
			}
		case <-deadline.C:
			t.Fatalf("no %q within %s", want, d)
		}
	}
}

// TestSystemdNotifyReadyAndStopping: READY=1 comes once the site answers
// (a request right after it succeeds, with no retry), with a status and
// the host's pid; SIGTERM brings STOPPING=1.
func TestSystemdNotifyReadyAndStopping(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	e.addTestPool("Sd", "/")
	env, msgs := notifySocket(t)
	e.launchSystemdHost([]string{env}, nil, false)
	ready := waitMsg(t, msgs, "READY=1", 15*time.Second)
	resp, err := http.Get(e.url("/"))
	if err != nil {
		t.Fatalf("GET / right after READY=1: %v\n%s", err, e.log())
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET / right after READY=1: %d, want 200", resp.StatusCode)
	}
	if !strings.Contains(ready, "\nSTATUS=serving: 1 listener(s), ") || !strings.Contains(ready, "MAINPID="+strconv.Itoa(e.host.Process.Pid)) {
		t.Errorf("READY message %q: want a STATUS and MAINPID=%d", ready, e.host.Process.Pid)
	}
	if err := e.host.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitMsg(t, msgs, "STOPPING=1", 15*time.Second)
	e.stopHost()
}

// TestSystemdWatchdog: with WATCHDOG_USEC the host pings every half
// interval while its control API answers on the socket path; with the
// socket moved away the check fails for real and the pings stop, and they
// resume once it is back.
func TestSystemdWatchdog(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	env, msgs := notifySocket(t)
	e.launchSystemdHost([]string{env, "WATCHDOG_USEC=200000"}, nil, false)
	for range 3 {
		waitMsg(t, msgs, "WATCHDOG=1", 2*time.Second)
	}
	moved := e.socket + ".moved"
	if err := os.Rename(e.socket, moved); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "watchdog check failing", func() error {
		if !strings.Contains(e.log(), "watchdog: the host does not answer") {
			return errors.New("not logged yet")
		}
		return nil
	})
	// A ping sent before the failure was logged may be queued: drop them.
	for len(msgs) > 0 {
		<-msgs
	}
	// Five periods (2.5 intervals) without a ping: systemd would restart.
	quiet := time.NewTimer(500 * time.Millisecond)
	for done := false; !done; {
		select {
		case m := <-msgs:
			if strings.Contains(m, "WATCHDOG=1") {
				t.Fatalf("WATCHDOG=1 while the control socket is gone\n%s", e.log())
			}
		case <-quiet.C:
			done = true
		}
	}
	if err := os.Rename(moved, e.socket); err != nil {
		t.Fatal(err)
	}
	waitMsg(t, msgs, "WATCHDOG=1", 2*time.Second)
	waitFor(t, 5*time.Second, "recovery logged", func() error {
		if !strings.Contains(e.log(), "watchdog: the host answers again") {
			return errors.New("not logged yet")
		}
		return nil
	})
}

// TestSystemdSocketActivationRestart: the host serves a site on the
// listening socket it inherits (fd 3) and its control API on the unix
// socket it inherits (fd 4, named "control"); a new host takes the same
// sockets while a client keeps connecting: no connection is
// refused, every request gets 200, and requests sent while no host ran
// waited in the socket's backlog.
func TestSystemdSocketActivationRestart(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e.port = ln.Addr().(*net.TCPAddr).Port
	e.run("set", "site", "Default Web Site", fmt.Sprintf("/bindings:http/127.0.0.1:%d:", e.port))
	e.addTestPool("Act", "/")
	// The control socket comes last: with it listening, and no host yet,
	// the tool's calls above would wait for an answer.
	ctl, err := net.Listen("unix", e.socket)
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.Close()
	cf, err := ctl.(*net.UnixListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer cf.Close()
	env := []string{"LISTEN_FDS=2", "LISTEN_FDNAMES=http:control"}
	files := []*os.File{f, cf}
	e.launchSystemdHost(env, files, true)
	// The test holds the port: the host can only serve it on the socket
	// it inherited.
	if code, _, _ := e.get("/"); code != 200 {
		t.Fatalf("GET / on the inherited socket: %d\n%s", code, e.log())
	}
	for _, want := range []string{"using an inherited socket", "serving the control API on the socket systemd passed"} {
		if !strings.Contains(e.log(), want) {
			t.Errorf("the host did not log %q\n%s", want, e.log())
		}
	}

	c := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	// One result per attempt; a request that fails otherwise than by a
	// refused connection is sent again on a new connection, up to five
	// times (see the comment at the end).
	type result struct {
		req        int
		start, end time.Time
		code       int
		err        error
	}
	var mu sync.Mutex
	var results []result
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			deadline := time.Now().Add(guard(30 * time.Second))
			for i := 0; i < 2000 && time.Now().Before(deadline); i++ {
				select {
				case <-stop:
					return
				default:
				}
				for attempt := 0; attempt < 5; attempt++ {
					r := result{req: g*10000 + i, start: time.Now()}
					resp, err := c.Get(e.url("/"))
					if err == nil {
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						r.code = resp.StatusCode
					}
					r.err, r.end = err, time.Now()
					mu.Lock()
					results = append(results, r)
					mu.Unlock()
					if r.code == 200 {
						break
					}
				}
			}
		}()
	}
	waitFor(t, 5*time.Second, "requests before the restart", func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(results) < 20 {
			return fmt.Errorf("%d requests", len(results))
		}
		return nil
	})
	termAt := time.Now()
	if err := e.host.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-e.hostDone:
	case <-time.After(guard(30 * time.Second)):
		t.Fatalf("the first host did not stop\n%s", e.log())
	}
	gapStart := time.Now()
	e.host = nil
	e.launchSystemdHost(env, files, true)
	gapEnd := time.Now()
	// The control socket is the inherited one too: the tool reaches the
	// new host on it.
	e.run("list", "apppool")
	waitFor(t, 10*time.Second, "requests after the restart", func() error {
		mu.Lock()
		defer mu.Unlock()
		if n := len(results); n == 0 || !results[n-1].start.After(gapEnd) {
			return errors.New("none yet")
		}
		return nil
	})
	close(stop)
	wg.Wait()

	refused, dropped, queued := 0, 0, 0
	ok := map[int]bool{}
	for _, r := range results {
		ok[r.req] = ok[r.req] || r.code == 200
		switch {
		case errors.Is(r.err, syscall.ECONNREFUSED):
			refused++
		case r.err != nil || r.code != 200:
			dropped++
			t.Logf("request %s-%s: %d %v", r.start.Format(time.StampMicro), r.end.Format(time.StampMicro), r.code, r.err)
		}
		// Sent before the first host exited, answered after the new one
		// was up: it waited in the backlog while no host ran.
		if r.err == nil && r.start.Before(gapStart) && r.end.After(gapEnd) {
			queued++
		}
	}
	t.Logf("SIGTERM %s, exit %s, new host up %s", termAt.Format(time.StampMicro), gapStart.Format(time.StampMicro), gapEnd.Format(time.StampMicro))
	failed := 0
	for _, answered := range ok {
		if !answered {
			failed++
		}
	}
	t.Logf("%d requests in %d attempts, %d waited in the backlog while no host ran (%s), %d attempts refused, %d dropped and sent again, %d requests never answered 200",
		len(ok), len(results), queued, gapEnd.Sub(gapStart).Round(time.Millisecond), refused, dropped, failed)
	// A connection the first host accepted just as its shutdown began can
	// be closed unanswered: net/http's Shutdown drops a request it reads
	// after Shutdown started. That is the old host's doing, not the
	// socket's: the client sends it again, and no connection is refused.
	if refused != 0 || failed != 0 {
		t.Fatalf("%d attempts refused, %d of %d requests never answered 200 across the restart\n%s", refused, failed, len(ok), e.log())
	}
	if queued == 0 {
		t.Fatalf("no request waited while no host ran: the restart was not covered")
	}
}
