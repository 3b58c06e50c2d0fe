package worker_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/poolctl/poolctl/internal/nettest"
	"github.com/poolctl/poolctl/worker"
)

// freeAddr returns a loopback address that nothing listens on (Run takes
// an address, not a listener).
func freeAddr(t *testing.T) string {
	t.Helper()
	return fmt.Sprintf("127.0.0.1:%d", nettest.FreePort(t))
}

// waitListening dials addr until it accepts, as the host's TCP health
// check does, for at most limit.
func waitListening(t *testing.T, addr string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("worker never listened on %s: %v", addr, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type result struct {
	status int
	body   string
	err    error
}

func get(url string) result {
	resp, err := http.Get(url)
	if err != nil {
		return result{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return result{status: resp.StatusCode, body: string(b), err: err}
}

func TestRunGracefulShutdown(t *testing.T) {
	f := newFixture(t)
	fifo, started := mkfifo(t, f.dir, "started")
	write(t, f.www, "slow.cgi", script(fmt.Sprintf(`printf x > %q
sleep 0.3
printf 'Content-Type: text/plain\n\nslow done'`, fifo)), 0o755)

	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const grace = 5 * time.Second
	ran := make(chan error, 1)
	logs := &logBuf{}
	go func() { ran <- worker.Run(ctx, addr, f.spec, logs.logger(), grace) }()
	waitListening(t, addr, 5*time.Second)

	if r := get("http://" + addr + "/page.html"); r.err != nil || r.status != 200 || r.body != "<html><body>page</body></html>" {
		t.Fatalf("GET /page.html = %+v", r)
	}

	slow := make(chan result, 1)
	go func() { slow <- get("http://" + addr + "/slow.cgi") }()
	waitByte(t, started, 10*time.Second, "the slow script to start")
	cancel() // SIGTERM, as the CLI turns it into cancellation
	stopping := time.Now()

	select {
	case r := <-slow:
		if r.err != nil || r.status != 200 || r.body != "slow done" {
			t.Fatalf("in-flight request = %+v, want 200 slow done", r)
		}
	case <-time.After(grace + 5*time.Second):
		t.Fatal("the in-flight request never completed")
	}
	select {
	case err := <-ran:
		if err != nil {
			t.Fatalf("Run = %v, want nil", err)
		}
		if d := time.Since(stopping); d > grace {
			t.Errorf("Run took %s to stop, grace is %s", d, grace)
		}
	case <-time.After(grace + 5*time.Second):
		t.Fatal("Run did not return")
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		_ = c.Close()
		t.Error("still accepting connections after Run returned")
	}
	contains(t, logs.String(), "worker stopped", "log")
}

func TestServeGraceExceeded(t *testing.T) {
	f := newFixture(t)
	startedPath, started := mkfifo(t, f.dir, "started")
	gatePath, gate := mkfifo(t, f.dir, "gate")
	write(t, f.www, "stuck.cgi", script(fmt.Sprintf(`printf x > %q
read line < %q
printf 'Content-Type: text/plain\n\nlate'`, startedPath, gatePath)), 0o755)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ran := make(chan error, 1)
	go func() { ran <- worker.Serve(ctx, ln, f.spec, nil, 50*time.Millisecond) }()

	stuck := make(chan result, 1)
	go func() { stuck <- get("http://" + addr + "/stuck.cgi") }()
	waitByte(t, started, 10*time.Second, "the stuck script to start")
	cancel()
	select {
	case err := <-ran:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Serve = %v, want an error wrapping context.DeadlineExceeded", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its grace")
	}
	if _, err := gate.WriteString("go\n"); err != nil { // release the script
		t.Fatal(err)
	}
	if r := <-stuck; r.err == nil && r.status == 200 {
		t.Errorf("a request cut off by the grace limit completed: %+v", r)
	}
}

func TestRunInvalidSpecDoesNotListen(t *testing.T) {
	err := worker.Run(context.Background(), freeAddr(t), worker.Spec{CGIExtensions: []string{""}}, nil, time.Second)
	if err == nil {
		t.Fatal("Run with an invalid spec succeeded")
	}
}

func TestRunListenError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = worker.Run(context.Background(), ln.Addr().String(), worker.Spec{}, nil, time.Second)
	if err == nil {
		t.Fatal("Run on a busy port succeeded")
	}
	contains(t, err.Error(), "listen on", "error")
}

func TestRunUnixSocket(t *testing.T) {
	f := newFixture(t)
	sock := f.dir + "/w.sock"
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- worker.Run(ctx, "unix:"+sock, f.spec, nil, time.Second) }()
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
	}}
	deadline := time.Now().Add(5 * time.Second)
	var resp *http.Response
	var err error
	for {
		if resp, err = client.Get("http://worker/page.html"); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("GET over the unix socket: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("status %d, want 200", resp.StatusCode)
	}
	client.CloseIdleConnections()
	cancel()
	if err := <-ran; err != nil {
		t.Errorf("Run = %v", err)
	}
}

// TestTraversalOverTheWire sends raw request lines, which no client
// library would clean, to a real server.
func TestTraversalOverTheWire(t *testing.T) {
	f := newFixture(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- worker.Serve(ctx, ln, f.spec, nil, time.Second) }()
	defer func() {
		cancel()
		if err := <-ran; err != nil {
			t.Errorf("Serve = %v", err)
		}
	}()
	for _, target := range []string{
		"/../secret.txt", "/img/../../secret.txt", "/%2e%2e/secret.txt", "/img/..%2f..%2fsecret.txt",
		"/..%5csecret.txt", "/.%2e/secret.txt", "/link-out", "/dirlink-out/x.txt", "/secret.txt%00",
	} {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", target); err != nil {
			t.Fatal(err)
		}
		if err := c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(c)
		_ = c.Close()
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		resp := string(raw)
		if !strings.HasPrefix(resp, "HTTP/1.1 400") && !strings.HasPrefix(resp, "HTTP/1.1 404") {
			t.Errorf("%s: got %q, want 400 or 404", target, firstLine(resp))
		}
		if strings.Contains(resp, "SECRET") || strings.Contains(resp, "outside") {
			t.Errorf("%s: served a file outside the root", target)
		}
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\r\n")
	return line
}
