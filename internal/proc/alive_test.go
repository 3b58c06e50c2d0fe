package proc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestCheckDefaultDetectsHang: without a pingPath, a listener whose
// process never reads (the kernel completes the handshake from the
// backlog) fails the check when its time is up; it passed the old TCP
// connect check. TCPCheck keeps the old behaviour.
func TestCheckDefaultDetectsHang(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close() // never accepted from
	addr := ln.Addr().String()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := Check(ctx, addr, ""); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("default check of a listener that never answers = %v, want DeadlineExceeded", err)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	if err := Check(ctx2, addr, TCPCheck); err != nil {
		t.Errorf("TCP-only check of a listening socket = %v, want success", err)
	}
}

// TestCheckDefaultStoppedWorker: a SIGSTOPped worker fails the default
// check and passes again once continued.
func TestCheckDefaultStoppedWorker(t *testing.T) {
	t.Parallel()
	port := reservePort(t)
	p, _ := startSleeper(t, "-listen", strconv.Itoa(port))
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.WaitReady(ctx, addr, ""); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	if err := p.Suspend(); err != nil {
		t.Fatal(err)
	}
	waitAllStopped(t, p.Pid)
	hctx, hcancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer hcancel()
	if err := Check(hctx, addr, ""); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("default check of a stopped worker = %v, want DeadlineExceeded", err)
	}
	if err := p.Resume(); err != nil {
		t.Fatal(err)
	}
	if err := Check(ctx, addr, ""); err != nil {
		t.Errorf("default check after SIGCONT = %v", err)
	}
}

// TestCheckDefaultAnyReaction: any status, a non-HTTP reply and a closed
// connection all count as alive; a refused connection does not.
func TestCheckDefaultAnyReaction(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" || r.Method != http.MethodGet {
			t.Errorf("check sent %s %s", r.Method, r.URL)
		}
		w.WriteHeader(http.StatusNotFound)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := Check(ctx, srv.Listener.Addr().String(), ""); err != nil {
		t.Errorf("a 404 on / = %v, want alive", err)
	}
	for _, reply := range []string{"hello, not HTTP\n", ""} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte(reply))
			c.Close()
		}()
		if err := Check(ctx, ln.Addr().String(), ""); err != nil {
			t.Errorf("reply %q then close = %v, want alive", reply, err)
		}
		ln.Close()
	}
	if err := Check(ctx, net.JoinHostPort("127.0.0.1", strconv.Itoa(closedPort(t))), ""); err == nil {
		t.Error("a refused connection passed the default check")
	}
}

// waitAllStopped waits until every thread of pid is stopped (SIGSTOP is
// delivered asynchronously, thread by thread).
func waitAllStopped(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
		if err != nil {
			t.Fatal(err)
		}
		running := 0
		for _, task := range tasks {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/stat", pid, task.Name()))
			if err != nil {
				continue
			}
			s := string(b)
			if i := strings.LastIndexByte(s, ')'); i < 0 || i+2 >= len(s) || s[i+2] != 'T' {
				running++
			}
		}
		if running == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d threads of %d still not stopped", running, pid)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
