package hostapi

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// shortDir returns a fresh directory with a short path: unix socket paths
// must stay under 108 bytes, and t.TempDir's names can exceed that.
func shortDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// staleSocket leaves a socket file at path that nobody listens on, as a
// host killed with SIGKILL does.
func staleSocket(t *testing.T, path string) {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("stale socket not left at %s: %v %v", path, fi, err)
	}
}

// assertAccepts dials path and checks that ln accepts the connection.
func assertAccepts(t *testing.T, ln net.Listener, path string) {
	t.Helper()
	accepted := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.Close()
		}
		accepted <- err
	}()
	c, err := net.DialTimeout("unix", path, 2*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", path, err)
	}
	c.Close()
	select {
	case err := <-accepted:
		if err != nil {
			t.Fatalf("accept: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the listener did not accept the connection within 5s")
	}
}

// TestListenCreatesDirAndSocket: Listen creates missing directories, the
// socket is 0660 and accepts, and closing the listener removes the file.
func TestListenCreatesDirAndSocket(t *testing.T) {
	path := filepath.Join(shortDir(t), "a", "b", "host.sock")
	ln, err := Listen(path, -1)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	di, err := os.Stat(filepath.Dir(path))
	if err != nil || !di.IsDir() {
		t.Fatalf("socket directory not created: %v", err)
	}
	if di.Mode().Perm() != 0o755 {
		t.Errorf("socket directory mode %v, want 0755", di.Mode().Perm())
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 {
		t.Errorf("%s is %v, want a socket", path, fi.Mode())
	}
	if fi.Mode().Perm() != 0o660 {
		t.Errorf("socket mode %v, want 0660", fi.Mode().Perm())
	}
	assertAccepts(t, ln, path)
	ln.Close()
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket file after Close: %v, want it removed", err)
	}
}

// TestListenRefusesLiveSocket: a second Listen on a socket a listener
// answers fails with ErrSocketInUse and leaves the first one working.
func TestListenRefusesLiveSocket(t *testing.T) {
	path := filepath.Join(shortDir(t), "host.sock")
	first, err := Listen(path, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	second, err := Listen(path, -1)
	if err == nil {
		second.Close()
		t.Fatal("second Listen on a live socket succeeded")
	}
	if !errors.Is(err, ErrSocketInUse) {
		t.Fatalf("second Listen: %v, want ErrSocketInUse", err)
	}
	if !strings.Contains(err.Error(), "another poolctl host is listening") || !strings.Contains(err.Error(), path) {
		t.Errorf("message %q should say another host listens on %s", err, path)
	}
	assertAccepts(t, first, path)
}

// TestListenReplacesStaleSocket: a socket file nobody listens on (left by
// a killed host) is replaced by a working socket.
func TestListenReplacesStaleSocket(t *testing.T) {
	path := filepath.Join(shortDir(t), "host.sock")
	staleSocket(t, path)
	if c, err := net.Dial("unix", path); err == nil {
		c.Close()
		t.Fatal("the stale socket still answers")
	}
	ln, err := Listen(path, -1)
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	defer ln.Close()
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o660 {
		t.Fatalf("replaced socket: %v %v, want mode 0660", fi, err)
	}
	assertAccepts(t, ln, path)
}

// TestListenRefusesRegularFile: a file that is not a socket is never
// removed; the error says what is wrong and how to fix it.
func TestListenRefusesRegularFile(t *testing.T) {
	path := filepath.Join(shortDir(t), "host.sock")
	if err := os.WriteFile(path, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := Listen(path, -1)
	if err == nil {
		ln.Close()
		t.Fatal("Listen over a regular file succeeded")
	}
	if errors.Is(err, ErrSocketInUse) {
		t.Errorf("regular file reported as a live host: %v", err)
	}
	for _, want := range []string{path, "is not a socket", "--socket"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	if b, rerr := os.ReadFile(path); rerr != nil || string(b) != "keep me" {
		t.Errorf("the regular file was touched: %q %v", b, rerr)
	}
}

// TestListenGroup: the socket gets the given group (root only: chown to
// another group needs the privilege).
func TestListenGroup(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chown of the socket to gid 65534 needs root")
	}
	path := filepath.Join(shortDir(t), "host.sock")
	ln, err := Listen(path, 65534)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if st.Gid != 65534 {
		t.Errorf("socket gid %d, want 65534", st.Gid)
	}
	if fi.Mode().Perm() != 0o660 {
		t.Errorf("socket mode %v, want 0660", fi.Mode().Perm())
	}
}
