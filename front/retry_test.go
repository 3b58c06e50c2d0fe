package front

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/poolctl/poolctl/internal/nettest"

	"github.com/poolctl/poolctl/store"
)

// retryFixture is a front serving one site whose application "/" runs on
// a fake pool of real backends on 127.0.0.1, with an access log and a
// captured host log.
type retryFixture struct {
	f    *Front
	pool *fakePool
	url  string
	mu   sync.Mutex
	log  bytes.Buffer
	dir  string
	shut bool
}

func newRetryFixture(t *testing.T, addrs ...string) *retryFixture {
	t.Helper()
	cfg, addr := oneSite(t)
	cfg.Sites[0].Applications = []store.Application{{Path: "/", ApplicationPool: "P"}}
	fx := &retryFixture{pool: newFakePool(addrs...), url: "http://" + addr + "/", dir: t.TempDir()}
	t.Cleanup(fx.pool.close)
	logger := slog.New(slog.NewTextHandler(syncBuffer{&fx.mu, &fx.log}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	fx.f = New(fakePools{fx.pool}, logger)
	fx.f.LogDir = fx.dir
	if err := fx.f.Apply(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fx.shutdown(t) })
	return fx
}

// shutdown stops the front: requests in flight finish and the access log
// is closed.
func (fx *retryFixture) shutdown(t *testing.T) {
	t.Helper()
	if fx.shut {
		return
	}
	fx.shut = true
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := fx.f.Shutdown(ctx); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

func (fx *retryFixture) logged() string {
	fx.mu.Lock()
	defer fx.mu.Unlock()
	return fx.log.String()
}

// accessLog stops the front and returns the access log's entries, each
// as its W3C fields.
func (fx *retryFixture) accessLog(t *testing.T) [][]string {
	t.Helper()
	fx.shutdown(t)
	raw, err := os.ReadFile(filepath.Join(fx.dir, "W3SVC1", "access.log"))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for line := range strings.Lines(string(raw)) {
		if !strings.HasPrefix(line, "#") {
			out = append(out, strings.Fields(line))
		}
	}
	return out
}

// W3C field positions (0-based) of sc-status and sc-win32-status.
const (
	w3cStatus = 11
	w3cWin32  = 13
)

// deadAddr returns a loopback address that refuses connections.
func deadAddr(t *testing.T) string {
	t.Helper()
	return fmt.Sprintf("127.0.0.1:%d", nettest.FreePort(t))
}

// echoBackend answers "ok <body>" and counts its requests.
func echoBackend(t *testing.T) (string, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		b, _ := io.ReadAll(r.Body)
		_, _ = io.WriteString(w, "ok "+string(b))
	}))
	t.Cleanup(s.Close)
	return s.Listener.Addr().String(), &n
}

// rawBackend reads each request (body included) and then does answer with
// it: writes bytes or nothing, and closes. It counts the requests read.
func rawBackend(t *testing.T, answer string) (string, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var n atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				_, _ = io.Copy(io.Discard, req.Body)
				n.Add(1)
				_, _ = io.WriteString(c, answer)
			}()
		}
	}()
	return ln.Addr().String(), &n
}

func do(t *testing.T, method, url, body string) (int, string, error) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// TestRetryDialRefused: a worker that refuses the connection is replaced
// (Discard) and the request, body included, goes to another worker; this
// holds for a POST too, since nothing of it reached the first worker.
func TestRetryDialRefused(t *testing.T) {
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		t.Run(method, func(t *testing.T) {
			ok, served := echoBackend(t)
			fx := newRetryFixture(t, deadAddr(t), ok)
			body := ""
			if method == http.MethodPost {
				body = "payload"
			}
			code, got, err := do(t, method, fx.url, body)
			if err != nil || code != http.StatusOK || got != "ok "+body {
				t.Fatalf("%s = %d %q %v, want 200 %q", method, code, got, err, "ok "+body)
			}
			acquired, released, discarded, _ := fx.pool.snapshot()
			if !slices.Equal(discarded, []int{1000}) || served.Load() != 1 || acquired[1000] != 1 || acquired[1001] != 1 || released != 2 {
				t.Errorf("discarded %v, acquired %v, released %d, served %d; want the refusing worker discarded and one try on each", discarded, acquired, released, served.Load())
			}
			fx.accessLog(t)
			if _, _, _, observed := fx.pool.snapshot(); !slices.Equal(observed, []int{200}) {
				t.Errorf("counted statuses %v, want [200]", observed)
			}
		})
	}
}

// TestRetrySentOnlyWhenRepeatable: a worker that read the request and
// closed without an answer. When the host took that worker down (hung),
// a GET without a body is sent again to another worker; a POST with a
// body is not (502). When the worker died on its own, even the GET is not
// sent again (502): the request may be what killed it, and one bad
// request must not kill every worker in turn. No worker is discarded (the
// first did not refuse a connection).
func TestRetrySentOnlyWhenRepeatable(t *testing.T) {
	t.Run("taken down by the host", func(t *testing.T) {
		silent, got := rawBackend(t, "")
		ok, served := echoBackend(t)
		fx := newRetryFixture(t, silent, ok)
		fx.pool.mu.Lock()
		fx.pool.hung[1000] = true
		fx.pool.mu.Unlock()

		if code, body, err := do(t, http.MethodGet, fx.url, ""); err != nil || code != http.StatusOK || body != "ok " {
			t.Fatalf("GET = %d %q %v, want 200 from the second worker", code, body, err)
		}
		if got.Load() != 1 || served.Load() != 1 {
			t.Fatalf("silent worker read %d, good worker served %d; want 1 and 1", got.Load(), served.Load())
		}
		// Round robin: the POST goes to the silent worker first.
		if code, _, err := do(t, http.MethodPost, fx.url, "once"); err != nil || code != http.StatusBadGateway {
			t.Fatalf("POST = %d %v, want 502", code, err)
		}
		if got.Load() != 2 || served.Load() != 1 {
			t.Errorf("silent worker read %d, good worker served %d; want 2 and 1 (a POST is not sent twice)", got.Load(), served.Load())
		}
		_, _, discarded, _ := fx.pool.snapshot()
		if len(discarded) != 0 {
			t.Errorf("discarded %v, want none", discarded)
		}
		if !strings.Contains(fx.logged(), "worker failed to answer") {
			t.Error("no warning for the POST the worker never answered")
		}
	})
	t.Run("died on its own", func(t *testing.T) {
		silent, got := rawBackend(t, "")
		ok, served := echoBackend(t)
		fx := newRetryFixture(t, silent, ok)
		if code, _, err := do(t, http.MethodGet, fx.url, ""); err != nil || code != http.StatusBadGateway {
			t.Fatalf("GET = %d %v, want 502 (not sent to the next worker)", code, err)
		}
		if got.Load() != 1 || served.Load() != 0 {
			t.Errorf("silent worker read %d, good worker served %d; want 1 and 0", got.Load(), served.Load())
		}
	})
}

// TestRetryNeverPartlyAnswered: a worker that started to answer is never
// asked again, whether the answer broke before reaching the client (502)
// or after (the response is cut off).
func TestRetryNeverPartlyAnswered(t *testing.T) {
	for _, tc := range []struct{ name, answer string }{
		{"malformed head", "HTTP/1.1 2xx nonsense\r\n\r\n"},
		{"cut body", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a little"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad, got := rawBackend(t, tc.answer)
			ok, served := echoBackend(t)
			fx := newRetryFixture(t, bad, ok)
			code, _, err := do(t, http.MethodGet, fx.url, "")
			if err == nil && code != http.StatusBadGateway {
				t.Errorf("GET = %d, want 502 or a broken response", code)
			}
			if got.Load() != 1 || served.Load() != 0 {
				t.Errorf("first worker read %d, second served %d; want 1 and 0", got.Load(), served.Load())
			}
			if _, _, discarded, _ := fx.pool.snapshot(); len(discarded) != 0 {
				t.Errorf("discarded %v, want none", discarded)
			}
		})
	}
}

// TestClientGoneNotBlamed: a client that gives up while a slow worker
// works (and one that gives up while its dial hangs) never gets the
// worker discarded, is not warned about as a worker failure, is not
// counted as a 5xx (not counted at all: nothing was answered), and is in
// the access log with no status and sc-win32-status 64, as the README
// says.
func TestClientGoneNotBlamed(t *testing.T) {
	t.Run("slow worker", func(t *testing.T) {
		started := make(chan struct{}, 1)
		slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			started <- struct{}{}
			select {
			case <-r.Context().Done():
			case <-time.After(30 * time.Second):
			}
		}))
		t.Cleanup(slow.Close)
		clientGives(t, slow.Listener.Addr().String(), started)
	})
	t.Run("dial hangs", func(t *testing.T) {
		// A worker that does not accept, its accept queue full: the
		// front's dial hangs until the client gives up.
		ln := nettest.ListenBacklog(t, 0)
		for range 4 {
			c, err := net.DialTimeout("tcp", ln.Addr().String(), 200*time.Millisecond)
			if err != nil {
				break // the queue is full
			}
			t.Cleanup(func() { c.Close() })
		}
		clientGives(t, ln.Addr().String(), nil)
	})
}

// clientGives sends a GET through a front whose only worker is at addr,
// gives up once started is signalled (or at once when nil, after a
// moment), and checks what the front made of it.
func clientGives(t *testing.T, addr string, started chan struct{}) {
	t.Helper()
	fx := newRetryFixture(t, addr)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fx.url+"page", nil)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	if started != nil {
		select {
		case <-started:
		case <-time.After(30 * time.Second):
			t.Fatal("the worker never got the request")
		}
	} else {
		deadline := time.Now().Add(30 * time.Second)
		for {
			acquired, _, _, _ := fx.pool.snapshot()
			if acquired[1000] == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the request never reached the pool")
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("client: %v, want cancelled", err)
	}
	entries := fx.accessLog(t) // waits for the request to end
	acquired, released, discarded, observed := fx.pool.snapshot()
	if len(discarded) != 0 {
		t.Errorf("discarded %v after a client left, want none", discarded)
	}
	if acquired[1000] != 1 || released != 1 {
		t.Errorf("acquired %v released %d, want one try", acquired, released)
	}
	for _, s := range observed {
		if s >= 500 {
			t.Errorf("counted status %d for a client that left", s)
		}
	}
	if l := fx.logged(); strings.Contains(l, "worker failed to answer") || strings.Contains(l, "level=WARN") {
		t.Errorf("warning logged for a client that left:\n%s", l)
	}
	if len(entries) != 1 || entries[0][w3cStatus] != "0" || entries[0][w3cWin32] != "64" {
		t.Errorf("access log %v, want one entry with sc-status 0 and sc-win32-status 64", entries)
	}
}
