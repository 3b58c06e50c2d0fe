package proc

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// serveUnix serves HTTP 200 ("ok") on a unix socket at path until the
// test ends.
func serveUnix(t *testing.T, path string) net.Listener {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln
}

// shortDir is a temporary directory with a path short enough for sockets.
func shortDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ux")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// TestPinUnixSocketChecksAndDials: a socket owned by the expected uid is
// pinned, checked with every kind of health check and dialled through the
// pin; Close makes further dials fail.
func TestPinUnixSocketChecksAndDials(t *testing.T) {
	t.Parallel()
	path := filepath.Join(shortDir(t), "w1.sock")
	serveUnix(t, path)
	s, err := PinUnixSocket(path, os.Geteuid())
	if err != nil {
		t.Fatalf("PinUnixSocket: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, pp := range []string{"", TCPCheck, "/health"} {
		if err := s.Check(ctx, pp); err != nil {
			t.Errorf("Check(%q) = %v", pp, err)
		}
	}
	if err := s.Check(ctx, "/missing"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("Check(/missing) = %v, want the 404", err)
	}
	// The plain Check takes a socket path too.
	if err := Check(ctx, path, "/health"); err != nil {
		t.Errorf("Check(path) = %v", err)
	}
	c, err := s.DialContext(ctx)
	if err != nil {
		t.Fatalf("DialContext: %v", err)
	}
	_ = c.Close()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := s.DialContext(ctx); !errors.Is(err, net.ErrClosed) {
		t.Errorf("DialContext after Close = %v, want net.ErrClosed", err)
	}
}

// TestPinUnixSocketRefuses: a symbolic link (to a real socket the host
// could reach), a regular file, a missing path and a socket of another
// uid are never pinned, so the host never sends a request there.
func TestPinUnixSocketRefuses(t *testing.T) {
	t.Parallel()
	dir := shortDir(t)
	real := filepath.Join(dir, "real.sock")
	serveUnix(t, real)
	link := filepath.Join(dir, "w1.sock")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "w2.sock")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		uid  int
		want error
		text string
	}{
		{link, os.Geteuid(), ErrNotSocket, "symbolic link"},
		{file, os.Geteuid(), ErrNotSocket, "not a socket"},
		{real, os.Geteuid() + 1, ErrNotSocket, "owned by uid"},
		{filepath.Join(dir, "w3.sock"), os.Geteuid(), os.ErrNotExist, ""},
	} {
		s, err := PinUnixSocket(c.path, c.uid)
		if err == nil {
			_ = s.Close()
			t.Errorf("PinUnixSocket(%s, uid %d) succeeded", c.path, c.uid)
			continue
		}
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.text) {
			t.Errorf("PinUnixSocket(%s, uid %d) = %v, want %v mentioning %q", c.path, c.uid, err, c.want, c.text)
		}
	}
	long := "/" + strings.Repeat("a", MaxUnixPath)
	if _, err := PinUnixSocket(long, 0); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("PinUnixSocket(long path) = %v, want a length error", err)
	}
}

// TestPinUnixSocketKeepsTheSocket: once pinned, replacing the path with a
// link to another socket does not redirect the host's connections.
func TestPinUnixSocketKeepsTheSocket(t *testing.T) {
	t.Parallel()
	dir := shortDir(t)
	path := filepath.Join(dir, "w1.sock")
	serveUnix(t, path)
	s, err := PinUnixSocket(path, os.Geteuid())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	other := filepath.Join(dir, "other.sock")
	oln, err := net.Listen("unix", other)
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan struct{}, 16)
	go func() {
		for {
			c, err := oln.Accept()
			if err != nil {
				return
			}
			accepted <- struct{}{}
			_ = c.Close()
		}
	}()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(other, path); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The pinned inode is the original listener's: a check reaches it.
	if err := s.Check(ctx, "/health"); err != nil {
		t.Errorf("Check through the pin after the path was replaced: %v", err)
	}
	// A plain dial of the path would reach the other socket (the proof
	// that the attack is real); afterwards every accept is counted.
	if c, err := net.Dial("unix", path); err == nil {
		_ = c.Close()
	}
	<-accepted
	_ = oln.Close()
	select {
	case <-accepted:
		t.Fatal("the other socket got a connection through the pin")
	default:
	}
}

// TestWaitReadyUnix: readiness waits until the process has bound its
// socket, then returns the pin; a process that exits first ends it with
// ErrExited, and one that never binds times out with ErrNotReady.
func TestWaitReadyUnix(t *testing.T) {
	t.Parallel()
	dir := shortDir(t)
	path := filepath.Join(dir, "w1.sock")
	p, _ := startSleeper(t, "-listen-unix", path, "-listen-delay", "150ms")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := p.WaitReadyUnix(ctx, path, os.Geteuid(), "/health")
	if err != nil {
		t.Fatalf("WaitReadyUnix: %v", err)
	}
	defer s.Close()
	if err := s.Check(ctx, ""); err != nil {
		t.Errorf("Check after ready: %v", err)
	}

	ex, err := Start(Spec{Path: sleeper(t), Args: []string{"-exit-after", "50ms", "-exit-code", "1"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = ex.Stop(context.Background(), 0) })
	if _, err := ex.WaitReadyUnix(ctx, filepath.Join(dir, "w2.sock"), os.Geteuid(), ""); !errors.Is(err, ErrExited) {
		t.Errorf("WaitReadyUnix of an exiting process = %v, want ErrExited", err)
	}

	idle, _ := startSleeper(t)
	sctx, scancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer scancel()
	_, err = idle.WaitReadyUnix(sctx, filepath.Join(dir, "w3.sock"), os.Geteuid(), "")
	if !errors.Is(err, ErrNotReady) || !strings.Contains(err.Error(), "no socket") {
		t.Errorf("WaitReadyUnix without a socket = %v, want ErrNotReady saying there is no socket", err)
	}
}

// TestUnixSocketCloseWaitsForDials: Close never lets the descriptor go
// while a dial uses its number, so a dial never reaches another file that
// reused the number.
func TestUnixSocketCloseWaitsForDials(t *testing.T) {
	t.Parallel()
	path := filepath.Join(shortDir(t), "w1.sock")
	serveUnix(t, path)
	s, err := PinUnixSocket(path, os.Geteuid())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	ctx := context.Background()
	for range 8 {
		wg.Go(func() {
			for range 50 {
				c, err := s.DialContext(ctx)
				if err != nil {
					if !errors.Is(err, net.ErrClosed) {
						t.Errorf("dial: %v", err)
					}
					return
				}
				_ = c.Close()
			}
		})
	}
	time.Sleep(time.Millisecond) // let some dials start; the outcome does not depend on it
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
}
