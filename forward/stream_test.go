package forward

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestFullDuplexStreaming sends a chunked request body piece by piece and
// reads each piece's echo before sending the next: the forwarder must
// stream both ways at once.
func TestFullDuplexStreaming(t *testing.T) {
	b := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.EnableFullDuplex(); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.WriteHeader(200)
		_ = rc.Flush()
		buf := make([]byte, 64)
		for {
			n, err := r.Body.Read(buf)
			if n > 0 {
				_, _ = w.Write(buf[:n])
				_ = rc.Flush()
			}
			if err != nil {
				return
			}
		}
	})
	f := newFront(t, b.addr())
	c, br := dialFront(t, f)
	if _, err := io.WriteString(c, "POST /duplex HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	body := bufio.NewReader(resp.Body)
	for i := range 5 {
		msg := fmt.Sprintf("message-%d;", i)
		if _, err := fmt.Fprintf(c, "%x\r\n%s\r\n", len(msg), msg); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(body, got); err != nil || string(got) != msg {
			t.Fatalf("echo %d: %q, %v", i, got, err)
		}
	}
	if _, err := io.WriteString(c, "0\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if rest, err := io.ReadAll(body); err != nil || len(rest) != 0 {
		t.Fatalf("after the end: %q, %v", rest, err)
	}
	f.noErr(t)
}

func TestUnixSocketTarget(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "worker.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(echo)}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	f := newFrontTarget(t, NewTarget("unix", sock, Options{MaxIdleConns: 4}), false)
	client := newClient(t)
	for i := range 3 {
		resp, err := client.Post(f.URL+"/u", "text/plain", strings.NewReader(fmt.Sprint("unix ", i)))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(got) != fmt.Sprint("unix ", i) {
			t.Fatalf("got %q", got)
		}
		if g := resp.Header.Get("X-Got-X-Forwarded-For"); g != "127.0.0.1" {
			t.Errorf("X-Forwarded-For %q", g)
		}
	}
	f.noErr(t)
}

func TestStrayBytesAfterResponse(t *testing.T) {
	conns := make(chan struct{}, 16)
	addr := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		conns <- struct{}{}
		for {
			if _, err := http.ReadRequest(br); err != nil {
				return
			}
			// Two bytes more than announced.
			if _, err := io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokXX"); err != nil {
				return
			}
		}
	})
	f := newFront(t, addr)
	client := newClient(t)
	for i := range 3 {
		resp, err := client.Get(f.URL)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(got) != "ok" {
			t.Fatalf("request %d: status %d body %q", i, resp.StatusCode, got)
		}
	}
	f.noErr(t)
	if n := len(conns); n < 2 {
		t.Errorf("backend saw %d connections: a connection with stray bytes was reused", n)
	}
}

func TestBackend100ContinueSkipped(t *testing.T) {
	addr := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 100 Continue\r\n\r\n")
		body, _ := io.ReadAll(req.Body)
		fmt.Fprintf(c, "HTTP/1.1 201 Created\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	})
	f := newFront(t, addr)
	resp, err := newClient(t).Post(f.URL, "text/plain", strings.NewReader("payload"))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 || string(got) != "payload" {
		t.Fatalf("status %d body %q", resp.StatusCode, got)
	}
	f.noErr(t)
}

func TestSlowBackendAndIdleConnection(t *testing.T) {
	b := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			// Slower than watchDelay: the client watch gets armed.
			<-time.After(2 * watchDelay)
		}
		echo(w, r)
	})
	f := newFront(t, b.addr())
	client := newClient(t)
	do := func(method, path, body string) {
		t.Helper()
		req, _ := http.NewRequest(method, f.URL+path, strings.NewReader(body))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(got) != body {
			t.Fatalf("%s %s: status %d body %q", method, path, resp.StatusCode, got)
		}
	}
	do("GET", "/fast", "")
	do("POST", "/slow", "slow body")
	do("GET", "/fast", "")
	// Idle for longer than watchDelay: a deadline left from the last
	// request expires while the connection is idle.
	<-time.After(2 * watchDelay)
	do("GET", "/fast", "")
	<-time.After(2 * watchDelay)
	do("POST", "/fast", "after idle")
	if conns, _ := b.counts(); conns != 1 {
		t.Errorf("backend saw %d connections, want 1", conns)
	}
	f.noErr(t)
}
