package forward

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// listenUnixBacklog listens on a unix socket at path with the given accept
// queue length (net.Listen always asks for the system's maximum).
func listenUnixBacklog(t *testing.T, path string, backlog int) *net.UnixListener {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: path}); err != nil {
		syscall.Close(fd)
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, backlog); err != nil {
		syscall.Close(fd)
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	ln, err := net.FileListener(f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close(); _ = os.Remove(path) })
	return ln.(*net.UnixListener)
}

// TestUnixDialWaitsForAFullAcceptQueue: a unix socket whose accept queue
// is full refuses a connect at once (EAGAIN) where TCP would drop the SYN
// and retry; the forwarder tries again until DialTimeout instead of failing
// the request, and the request is served once the worker accepts.
func TestUnixDialWaitsForAFullAcceptQueue(t *testing.T) {
	dir, err := os.MkdirTemp("", "fw")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "w.sock")
	ln := listenUnixBacklog(t, sock, 0)
	// Fill the accept queue.
	var held []net.Conn
	defer func() {
		for _, c := range held {
			_ = c.Close()
		}
	}()
	for len(held) < 64 {
		c, err := net.Dial("unix", sock)
		if err != nil {
			if !errors.Is(err, syscall.EAGAIN) {
				t.Fatalf("fill the queue: %v", err)
			}
			break
		}
		held = append(held, c)
	}
	if len(held) == 64 {
		t.Skip("the kernel never reported a full accept queue")
	}
	var dials atomic.Int32
	tg := NewTarget("unix", sock, Options{DialTimeout: time.Minute, Dial: func(ctx context.Context) (net.Conn, error) {
		dials.Add(1)
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}})
	f := newFrontTarget(t, tg, false)
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get(f.URL + "/x")
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- string(b)
	}()
	// Wait until the forwarder has been refused and tried again.
	deadline := time.Now().Add(testTimeout)
	for {
		if _, _, redials := tg.DialStats(); redials > 0 && dials.Load() > 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the forwarder never tried again after a full accept queue")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Now the worker accepts: the queued connections are dropped, the
	// forwarder's gets an answer.
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				n, _ := c.Read(buf)
				if n == 0 || !strings.HasPrefix(string(buf[:n]), "GET /x ") {
					return
				}
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nserved")
			}()
		}
	}()
	select {
	case s := <-got:
		if s != "served" {
			t.Fatalf("the request got %q, want it served", s)
		}
	case <-time.After(testTimeout):
		t.Fatal("the request was never served")
	}
}
