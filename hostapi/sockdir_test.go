package hostapi

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// plantFallback points os.TempDir at a fresh directory and makes
// FallbackDir there with plant (which gets its path); it returns the
// socket path inside it.
func plantFallback(t *testing.T, plant func(dir string)) string {
	t.Helper()
	tmp := shortDir(t)
	t.Setenv("TMPDIR", tmp)
	dir := FallbackDir()
	if !strings.HasPrefix(dir, tmp) {
		t.Fatalf("FallbackDir %s is not under TMPDIR %s", dir, tmp)
	}
	if plant != nil {
		plant(dir)
	}
	return filepath.Join(dir, "poolctl", "host.sock")
}

// unsafeDirs are the ways someone else's directory can stand in for ours.
func unsafeDirs(t *testing.T) map[string]func(dir string) {
	mk := func(mode os.FileMode) func(string) {
		return func(dir string) {
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, mode); err != nil {
				t.Fatal(err)
			}
		}
	}
	cases := map[string]func(string){
		"mode 0777": mk(0o777),
		"mode 0750": mk(0o750),
		"symlink": func(dir string) {
			target := filepath.Join(filepath.Dir(dir), "elsewhere")
			if err := os.Mkdir(target, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, dir); err != nil {
				t.Fatal(err)
			}
		},
		"a file": func(dir string) {
			if err := os.WriteFile(dir, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		},
	}
	if os.Geteuid() == 0 {
		cases["owned by another user"] = func(dir string) {
			mk(0o700)(dir)
			if err := os.Chown(dir, 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}
	}
	return cases
}

// TestClientRefusesUnsafeFallbackDir: the tool does not connect to a
// socket inside a fallback directory that is not ours and private, and
// says why in terms of the control socket, not the store.
func TestClientRefusesUnsafeFallbackDir(t *testing.T) {
	for name, plant := range unsafeDirs(t) {
		t.Run(name, func(t *testing.T) {
			var accepted atomic.Int32
			sock := plantFallback(t, func(dir string) {
				plant(dir)
				// The impostor listens where the tool would connect.
				if err := os.MkdirAll(filepath.Join(dir, "poolctl"), 0o777); err != nil {
					return // a file: nothing can be below it
				}
				ln, err := net.Listen("unix", filepath.Join(dir, "poolctl", "host.sock"))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { ln.Close() })
				go func() {
					for {
						c, err := ln.Accept()
						if err != nil {
							return
						}
						accepted.Add(1)
						c.Close()
					}
				}()
			})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := NewClient(sock).Ping(ctx)
			if !errors.Is(err, ErrUnsafeSocketDir) || !errors.Is(err, ErrForbidden) {
				t.Fatalf("ping through %s: %v, want ErrUnsafeSocketDir", name, err)
			}
			msg := err.Error()
			for _, want := range []string{"control socket directory", "XDG_RUNTIME_DIR", "--socket"} {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q lacks %q", msg, want)
				}
			}
			if strings.Contains(msg, "store") {
				t.Errorf("message %q talks about the store", msg)
			}
			if n := accepted.Load(); n != 0 {
				t.Errorf("the tool connected to the impostor %d times", n)
			}
		})
	}
}

// TestListenRefusesUnsafeFallbackDir: the host does not put its socket
// into a fallback directory someone else made or opened up.
func TestListenRefusesUnsafeFallbackDir(t *testing.T) {
	for name, plant := range unsafeDirs(t) {
		t.Run(name, func(t *testing.T) {
			sock := plantFallback(t, plant)
			ln, err := Listen(sock, -1)
			if err == nil {
				ln.Close()
				t.Fatalf("Listen in a fallback directory that is %s succeeded", name)
			}
			if !errors.Is(err, ErrUnsafeSocketDir) {
				t.Fatalf("Listen: %v, want ErrUnsafeSocketDir", err)
			}
			if _, err := os.Lstat(sock); err == nil {
				t.Errorf("a socket was created at %s", sock)
			}
		})
	}
}

// TestListenCreatesPrivateFallbackDir: the host creates the fallback
// directory 0700 and the tool then talks to it.
func TestListenCreatesPrivateFallbackDir(t *testing.T) {
	sock := plantFallback(t, nil)
	ln, err := Listen(sock, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	fi, err := os.Lstat(FallbackDir())
	if err != nil {
		t.Fatal(err)
	}
	if !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Errorf("fallback directory %v, want a directory with mode 0700", fi.Mode())
	}
	if err := CheckSocketPath(sock); err != nil {
		t.Errorf("CheckSocketPath of the host's own socket: %v", err)
	}
	// A socket elsewhere is not this check's business.
	if err := CheckSocketPath("/run/poolctl/host.sock"); err != nil {
		t.Errorf("CheckSocketPath outside the fallback directory: %v", err)
	}
}
