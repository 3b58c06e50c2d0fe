package http1

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The behaviour tests start a Server on a loopback listener and talk to it
// with the exact bytes a client sends, reading the answers with
// http.ReadResponse (or raw, where the framing itself is tested).

// guard is the failure guard of every wait in these tests: an outcome that
// has not happened by then never will. It is never an expected duration.
const guard = 20 * time.Second

// TestMain fails the run when a goroutine of the server outlives the tests
// (a connection goroutine, a timer) once every server is closed; the
// process-wide hangup watcher is expected to stay.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := waitNoServerGoroutines(); leaked != "" {
			os.Stderr.WriteString("goroutines of package http1 left running after the tests:\n" + leaked)
			code = 1
		}
	}
	os.Exit(code)
}

// waitNoServerGoroutines waits for every goroutine running code of this
// package (other than the caller) to end and returns the stacks of those
// that did not.
func waitNoServerGoroutines() string {
	deadline := time.Now().Add(guard)
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var leaked []string
		for i, g := range strings.Split(string(buf), "\n\n") {
			if i == 0 { // the caller
				continue
			}
			// The hangup watcher lives as long as the process, by design.
			if strings.Contains(g, "poolctl/internal/http1.") && !strings.Contains(g, "waitNoServerGoroutines") &&
				!strings.Contains(g, "(*hangupHub).run") {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 || time.Now().After(deadline) {
			return strings.Join(leaked, "\n\n")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// testServer is a Server serving a loopback listener for one test.
type testServer struct {
	*Server
	addr   string
	served chan error // Serve's result
}

// start serves h on 127.0.0.1:0; configure (optional) sets the Server's
// other fields before Serve. The server is closed when the test ends and
// Serve must then have returned http.ErrServerClosed.
func start(t *testing.T, h http.Handler, configure ...func(*Server)) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Handler: h}
	for _, c := range configure {
		c(s)
	}
	ts := &testServer{Server: s, addr: ln.Addr().String(), served: make(chan error, 1)}
	go func() { ts.served <- s.Serve(ln) }()
	t.Cleanup(func() {
		s.Close()
		ln.Close()
		select {
		case err := <-ts.served:
			if !errors.Is(err, http.ErrServerClosed) {
				t.Errorf("Serve returned %v, want http.ErrServerClosed", err)
			}
			ts.served <- err // for a later reader, if any
		case <-time.After(guard):
			t.Errorf("Serve did not return after Close")
		}
	})
	return ts
}

// waitServe waits for Serve to return and returns its error.
func (ts *testServer) waitServe(t *testing.T) error {
	t.Helper()
	select {
	case err := <-ts.served:
		ts.served <- err
		return err
	case <-time.After(guard):
		t.Fatal("Serve did not return")
		return nil
	}
}

// client is one raw connection to a test server.
type client struct {
	t  *testing.T
	c  *net.TCPConn
	br *bufio.Reader
}

// dial connects to ts; the connection is closed when the test ends and
// every read or write on it fails after the guard.
func (ts *testServer) dial(t *testing.T) *client {
	t.Helper()
	c, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(guard))
	return &client{t: t, c: c.(*net.TCPConn), br: bufio.NewReader(c)}
}

// send writes s as it is.
func (c *client) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.c, s); err != nil {
		c.t.Fatalf("writing request: %v", err)
	}
}

// response reads the final response to a request with the given method
// (skipping informational ones) and its whole body (which stays readable as resp.Body); body read errors are
// returned in bodyErr.
func (c *client) response(method string) (resp *http.Response, body string, bodyErr error) {
	c.t.Helper()
	var err error
	for {
		resp, err = http.ReadResponse(c.br, &http.Request{Method: method})
		if err != nil {
			c.t.Fatalf("reading the response to %s: %v", method, err)
		}
		// Informational responses (100 Continue, 103) come before the
		// final one; 101 is final.
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, string(b), err
}

// ok reads one response, which must be a 200 with a complete body, and
// returns its body.
func (c *client) ok(method string) string {
	c.t.Helper()
	resp, body, err := c.response(method)
	if err != nil {
		c.t.Fatalf("reading the body of the response to %s: %v", method, err)
	}
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("status %q, want 200 (body %q)", resp.Status, body)
	}
	return body
}

// expectClosed reads until the server closes the connection; it fails if
// the server sends anything (more bytes than the responses read so far).
func (c *client) expectClosed() {
	c.t.Helper()
	b, err := io.ReadAll(c.br)
	if len(b) > 0 {
		c.t.Fatalf("read %q where the server should have closed the connection", b)
	}
	if err != nil && !isReset(err) {
		c.t.Fatalf("waiting for the server to close the connection: %v", err)
	}
}

// expectOpen shows that the connection is still served: a GET of
// /still-open must be answered (any status, a complete body).
func (c *client) expectOpen() {
	c.t.Helper()
	c.send("GET /still-open HTTP/1.1\r\nHost: a\r\n\r\n")
	if _, _, err := c.response("GET"); err != nil {
		c.t.Fatalf("reading the response to /still-open: %v", err)
	}
}

// isReset reports whether err is the peer resetting the connection.
func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// reply is a handler answering "ok".
func reply(w http.ResponseWriter, r *http.Request) {
	io.WriteString(w, "ok")
}

// recv waits for a value from ch (failure guard: guard).
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(guard):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

// waitFor polls cond until it holds (failure guard: guard).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(guard)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent use (a log sink).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// debugLog returns a logger writing every record, debug included, to buf.
func debugLog(buf *syncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// gate is a point where a handler waits until the test opens it; it is
// opened at cleanup too so that no handler outlives its test.
type gate struct {
	ch   chan struct{}
	once sync.Once
}

func newGate(t *testing.T) *gate {
	g := &gate{ch: make(chan struct{})}
	t.Cleanup(g.open)
	return g
}

// open lets every waiter go on (idempotent).
func (g *gate) open() { g.once.Do(func() { close(g.ch) }) }

// wait blocks until the gate is open.
func (g *gate) wait() { <-g.ch }

// withTimeout returns a context that ends after the guard.
func withTimeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	t.Cleanup(cancel)
	return ctx
}
