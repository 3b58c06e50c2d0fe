package forward

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/poolctl/poolctl/internal/nettest"
)

// echo is a backend handler that reports what it received in headers and
// echoes the body.
func echo(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h := w.Header()
	h.Set("X-Method", r.Method)
	h.Set("X-Uri", r.RequestURI)
	h.Set("X-Host", r.Host)
	h.Set("X-Content-Length", strconv.FormatInt(r.ContentLength, 10))
	h.Set("X-Chunked", strconv.FormatBool(len(r.TransferEncoding) > 0 && r.TransferEncoding[0] == "chunked"))
	for _, k := range []string{"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "Expect", "Te"} {
		if v, ok := r.Header[k]; ok {
			h.Set("X-Got-"+k, strings.Join(v, "|"))
		}
	}
	for k, v := range r.Trailer {
		h.Set("X-Trailer-"+k, strings.Join(v, "|"))
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

func TestForwardMethodsAndBodies(t *testing.T) {
	b := newBackend(t, echo)
	f := newFront(t, b.addr())
	client := newClient(t)
	big := make([]byte, 1<<20)
	_, _ = rand.Read(big)
	tests := []struct {
		name, method, path string
		body               []byte
		wantCL             string
	}{
		{"get", "GET", "/a/b?x=1&y=%20z", nil, "0"},
		{"get escaped path", "GET", "/a%2Fb/c%20d", nil, "0"},
		{"delete", "DELETE", "/thing/1", nil, "0"},
		{"post small", "POST", "/form", []byte("a=1&b=2"), "7"},
		{"post empty", "POST", "/empty", []byte{}, "0"},
		{"put 100k", "PUT", "/blob", big[:100<<10], strconv.Itoa(100 << 10)},
		{"post 1M", "POST", "/big", big, strconv.Itoa(1 << 20)},
		{"patch", "PATCH", "/p", []byte("{}"), "2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != nil {
				body = bytes.NewReader(tt.body)
			}
			req, err := http.NewRequest(tt.method, f.URL+tt.path, body)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, got)
			}
			if g := resp.Header.Get("X-Method"); g != tt.method {
				t.Errorf("backend method %q, want %q", g, tt.method)
			}
			if g := resp.Header.Get("X-Uri"); g != tt.path {
				t.Errorf("backend URI %q, want %q", g, tt.path)
			}
			if g := resp.Header.Get("X-Content-Length"); g != tt.wantCL {
				t.Errorf("backend Content-Length %s, want %s", g, tt.wantCL)
			}
			if !bytes.Equal(got, tt.body) {
				t.Errorf("body: got %d bytes, want %d", len(got), len(tt.body))
			}
			if resp.ContentLength != int64(len(tt.body)) {
				t.Errorf("response Content-Length %d, want %d", resp.ContentLength, len(tt.body))
			}
		})
	}
	f.noErr(t)
}

func TestChunkedRequestWithTrailers(t *testing.T) {
	b := newBackend(t, echo)
	f := newFront(t, b.addr())
	pr, pw := io.Pipe()
	req, err := http.NewRequest("POST", f.URL+"/up", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Trailer = http.Header{"X-Sum": nil}
	go func() {
		for i := range 5 {
			fmt.Fprintf(pw, "part %d;", i)
		}
		req.Trailer.Set("X-Sum", "abc123")
		pw.Close()
	}()
	resp, err := newClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(got) != "part 0;part 1;part 2;part 3;part 4;" {
		t.Errorf("body %q", got)
	}
	if g := resp.Header.Get("X-Chunked"); g != "true" {
		t.Errorf("backend saw chunked=%s", g)
	}
	if g := resp.Header.Get("X-Trailer-X-Sum"); g != "abc123" {
		t.Errorf("backend trailer X-Sum = %q", g)
	}
	f.noErr(t)
}

func TestStreamingResponseIsFlushed(t *testing.T) {
	release := make(chan struct{})
	b := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", r.URL.Query().Get("type"))
		_, _ = io.WriteString(w, "first\n")
		http.NewResponseController(w).Flush()
		select {
		case <-release:
		case <-time.After(testTimeout):
		}
		_, _ = io.WriteString(w, "second\n")
	})
	f := newFront(t, b.addr())
	client := newClient(t)
	for _, typ := range []string{"text/plain", "text/event-stream"} {
		t.Run(typ, func(t *testing.T) {
			resp, err := client.Get(f.URL + "/s?type=" + typ)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			br := bufio.NewReader(resp.Body)
			line, err := br.ReadString('\n')
			if err != nil || line != "first\n" {
				t.Fatalf("first line %q, %v", line, err)
			}
			release <- struct{}{}
			rest, err := io.ReadAll(br)
			if err != nil || string(rest) != "second\n" {
				t.Fatalf("rest %q, %v", rest, err)
			}
		})
	}
	f.noErr(t)
}

func TestResponseTrailers(t *testing.T) {
	b := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Declared")
		_, _ = io.WriteString(w, "body")
		http.NewResponseController(w).Flush()
		w.Header().Set("X-Declared", "d1")
		w.Header().Set(http.TrailerPrefix+"X-Undeclared", "u1")
	})
	f := newFront(t, b.addr())
	resp, err := newClient(t).Get(f.URL)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(got) != "body" {
		t.Errorf("body %q", got)
	}
	if g := resp.Trailer.Get("X-Declared"); g != "d1" {
		t.Errorf("trailer X-Declared = %q (trailer %v)", g, resp.Trailer)
	}
	if g := resp.Trailer.Get("X-Undeclared"); g != "u1" {
		t.Errorf("trailer X-Undeclared = %q (trailer %v)", g, resp.Trailer)
	}
	f.noErr(t)
}

func TestNoBodyResponses(t *testing.T) {
	b := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/204":
			w.WriteHeader(http.StatusNoContent)
		case "/304":
			w.Header().Set("Etag", `"v1"`)
			w.WriteHeader(http.StatusNotModified)
		default:
			w.Header().Set("Content-Length", "11")
			if r.Method != http.MethodHead {
				_, _ = io.WriteString(w, "hello world")
			}
		}
	})
	f := newFront(t, b.addr())
	client := newClient(t)
	tests := []struct {
		method, path string
		status       int
		cl           int64
	}{
		{"HEAD", "/", 200, 11},
		{"GET", "/204", 204, 0},
		{"GET", "/304", 304, -1},
		{"HEAD", "/204", 204, 0},
		{"GET", "/", 200, 11}, // after the no-body answers, framing is intact
	}
	for _, tt := range tests {
		t.Run(tt.method+tt.path, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, f.URL+tt.path, nil)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.method == "HEAD" || tt.status != 200 {
				if len(body) != 0 {
					t.Errorf("body %q, want none", body)
				}
			} else if string(body) != "hello world" {
				t.Errorf("body %q", body)
			}
			if tt.method == "HEAD" && tt.status == 200 && resp.ContentLength != tt.cl {
				t.Errorf("Content-Length %d, want %d", resp.ContentLength, tt.cl)
			}
		})
	}
	if conns, _ := b.counts(); conns != 1 {
		t.Errorf("backend saw %d connections, want 1", conns)
	}
	f.noErr(t)
}

func TestExpectContinue(t *testing.T) {
	b := newBackend(t, echo)
	f := newFront(t, b.addr())
	c, br := dialFront(t, f)
	body := "the body after 100"
	fmt.Fprintf(c, "POST /c HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n", len(body))
	line, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100") {
		t.Fatalf("first line %q, %v; want 100 Continue", line, err)
	}
	if blank, err := br.ReadString('\n'); err != nil || blank != "\r\n" {
		t.Fatalf("after 100: %q, %v", blank, err)
	}
	if _, err := io.WriteString(c, body); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(got) != body {
		t.Fatalf("status %d body %q", resp.StatusCode, got)
	}
	if g, ok := resp.Header["X-Got-Expect"]; ok {
		t.Errorf("backend got Expect: %q", g)
	}
	f.noErr(t)
}

func TestForwardedHeadersAndHost(t *testing.T) {
	b := newBackend(t, echo)
	for _, useTLS := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", useTLS), func(t *testing.T) {
			f := newFrontTarget(t, NewTarget("tcp", b.addr(), Options{}), useTLS)
			client := f.Client()
			client.Timeout = testTimeout
			proto := "http"
			if useTLS {
				proto = "https"
			}
			tests := []struct {
				name, prior, wantXFF string
			}{
				{"fresh", "", "127.0.0.1"},
				{"append", "10.1.2.3", "10.1.2.3, 127.0.0.1"},
				{"append list", "10.1.2.3, 10.4.5.6", "10.1.2.3, 10.4.5.6, 127.0.0.1"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					req, _ := http.NewRequest("GET", f.URL+"/h", nil)
					req.Host = "app.example.test:8443"
					if tt.prior != "" {
						req.Header.Set("X-Forwarded-For", tt.prior)
					}
					req.Header.Set("X-Forwarded-Proto", "gopher") // overwritten
					req.Header.Set("X-Forwarded-Host", "spoofed") // overwritten
					resp, err := client.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
					want := map[string]string{
						"X-Host":                  "app.example.test:8443",
						"X-Got-X-Forwarded-For":   tt.wantXFF,
						"X-Got-X-Forwarded-Proto": proto,
						"X-Got-X-Forwarded-Host":  "app.example.test:8443",
					}
					for k, v := range want {
						if g := resp.Header.Get(k); g != v {
							t.Errorf("%s = %q, want %q", k, g, v)
						}
					}
				})
			}
			f.noErr(t)
		})
	}
}

// readRequestLines reads a request head from br and returns its header
// lines (without the request line).
func readRequestLines(br *bufio.Reader) ([]string, error) {
	var lines []string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return lines, err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return lines[1:], nil
		}
		lines = append(lines, line)
	}
}

func TestHopByHopHeaders(t *testing.T) {
	gotReq := make(chan []string, 1)
	addr := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		lines, err := readRequestLines(br)
		if err != nil {
			return
		}
		gotReq <- lines
		io.WriteString(c, "HTTP/1.1 200 OK\r\n"+
			"Connection: X-Bar, keep-alive\r\n"+
			"X-Bar: secret\r\n"+
			"Keep-Alive: timeout=5\r\n"+
			"Proxy-Authenticate: Basic\r\n"+
			"Proxy-Connection: keep-alive\r\n"+
			"Upgrade: foo/1\r\n"+
			"X-End: kept\r\n"+
			"Content-Length: 2\r\n\r\nok")
	})
	f := newFront(t, addr)
	req, _ := http.NewRequest("GET", f.URL+"/", nil)
	req.Header.Set("Connection", "X-Foo, keep-alive")
	req.Header.Set("X-Foo", "should go")
	req.Header.Set("Keep-Alive", "timeout=5")
	req.Header.Set("Proxy-Authorization", "Basic eA==")
	req.Header.Set("Proxy-Connection", "keep-alive")
	req.Header.Set("Upgrade", "foo/1") // no "upgrade" token in Connection: not an upgrade
	req.Header.Set("Te", "trailers, deflate")
	req.Header.Set("X-Kept", "yes")
	resp, err := newClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "ok" {
		t.Fatalf("body %q", body)
	}
	lines := wait(t, gotReq, "backend request")
	has := func(prefix string) bool {
		for _, l := range lines {
			if strings.HasPrefix(strings.ToLower(l), strings.ToLower(prefix)) {
				return true
			}
		}
		return false
	}
	for _, gone := range []string{"Connection:", "X-Foo:", "Keep-Alive:", "Proxy-Authorization:", "Proxy-Connection:", "Upgrade:"} {
		if has(gone) {
			t.Errorf("backend got %s (request: %q)", gone, lines)
		}
	}
	for _, kept := range []string{"X-Kept: yes", "Te: trailers", "Host: 127.0.0.1"} {
		if !has(kept) {
			t.Errorf("backend did not get %q (request: %q)", kept, lines)
		}
	}
	if has("Te: trailers, deflate") {
		t.Errorf("TE passed as is: %q", lines)
	}
	for _, k := range []string{"X-Bar", "Keep-Alive", "Proxy-Authenticate", "Proxy-Connection", "Upgrade"} {
		if v, ok := resp.Header[k]; ok {
			t.Errorf("client got %s: %q", k, v)
		}
	}
	if resp.Header.Get("X-End") != "kept" {
		t.Errorf("client lost X-End: %v", resp.Header)
	}
	f.noErr(t)
}

func TestKeepAliveReuse(t *testing.T) {
	b := newBackend(t, echo)
	f := newFront(t, b.addr())
	client := newClient(t)
	const n = 50
	for i := range n {
		method := "GET"
		var body io.Reader
		if i%2 == 1 {
			method = "POST"
			body = strings.NewReader("x" + strconv.Itoa(i))
		}
		req, _ := http.NewRequest(method, f.URL+"/"+strconv.Itoa(i), body)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("request %d: status %d", i, resp.StatusCode)
		}
	}
	if conns, _ := b.counts(); conns != 1 {
		t.Errorf("backend saw %d connections for %d sequential requests, want 1", conns, n)
	}
	f.noErr(t)
}

func TestBackendWithoutKeepAlive(t *testing.T) {
	b := newBackend(t, echo)
	b.Config.SetKeepAlivesEnabled(false)
	f := newFront(t, b.addr())
	client := newClient(t)
	for i := range 10 {
		resp, err := client.Get(f.URL + "/" + strconv.Itoa(i))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("request %d: status %d", i, resp.StatusCode)
		}
	}
	f.noErr(t)
}

// closingBackend answers each request on a connection with keep-alive
// framing, then closes the connection after `answer` requests, and reports
// each close on closed. With readOnly set it reads one more request on the
// connection and closes without answering.
func closingBackend(t *testing.T, answer int, readOnly bool, closed chan<- struct{}) (addr string, conns *int, mu *sync.Mutex) {
	mu = new(sync.Mutex)
	conns = new(int)
	addr = rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		mu.Lock()
		*conns++
		mu.Unlock()
		defer func() {
			c.Close() // before telling the test, so the close has happened
			closed <- struct{}{}
		}()
		for range answer {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, req.Body)
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
		if readOnly {
			_, _ = http.ReadRequest(br)
		}
	})
	return addr, conns, mu
}

// TestProbeReplacesClosedIdleConnection: an idle connection the backend
// closed is found dead by the probe before any byte is written and
// replaced, so a GET never fails for it (Forward itself never retries).
func TestProbeReplacesClosedIdleConnection(t *testing.T) {
	closed := make(chan struct{}, 16)
	addr, conns, mu := closingBackend(t, 1, false, closed)
	f := newFront(t, addr)
	client := newClient(t)
	for i := range 4 {
		resp, err := client.Get(f.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "ok" {
			t.Fatalf("request %d: status %d body %q", i, resp.StatusCode, body)
		}
		// The pooled connection is now dead on the backend side.
		wait(t, closed, "backend close")
	}
	f.noErr(t)
	mu.Lock()
	defer mu.Unlock()
	if *conns != 4 {
		t.Errorf("backend saw %d connections, want 4", *conns)
	}
}

func TestPostOnClosedIdleConnection(t *testing.T) {
	t.Run("probe finds the dead connection", func(t *testing.T) {
		closed := make(chan struct{}, 16)
		addr, _, _ := closingBackend(t, 1, false, closed)
		f := newFront(t, addr)
		client := newClient(t)
		for i := range 3 {
			resp, err := client.Post(f.URL, "text/plain", strings.NewReader("data"))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("request %d: status %d", i, resp.StatusCode)
			}
			wait(t, closed, "backend close")
		}
		f.noErr(t)
	})
	t.Run("backend closes after reading", func(t *testing.T) {
		// The connection looks alive but the backend drops the request:
		// a POST is not retried and fails without a hang.
		closed := make(chan struct{}, 16)
		addr, _, _ := closingBackend(t, 1, true, closed)
		f := newFront(t, addr)
		client := newClient(t)
		resp, err := client.Post(f.URL, "text/plain", strings.NewReader("one"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		resp, err = client.Post(f.URL, "text/plain", strings.NewReader("two"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadGateway {
			t.Fatalf("status %d, want 502", resp.StatusCode)
		}
		fe := f.nextErr(t)
		if fe.Committed || fe.Stage != StageRead || fe.Outcome != Sent {
			t.Errorf("error %+v, want Stage read, outcome sent, not committed", fe)
		}
	})
}

func TestBackendDown(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", nettest.FreePort(t))
	f := newFront(t, addr)
	resp, err := newClient(t).Get(f.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("status %d, want 502", resp.StatusCode)
	}
	fe := f.nextErr(t)
	if fe.Stage != StageDial || fe.Committed || fe.Outcome != NotSent {
		t.Errorf("error %+v, want Stage dial, outcome not sent, not committed", fe)
	}
	var opErr *net.OpError
	if !errors.As(fe, &opErr) {
		t.Errorf("error %v does not wrap the dial error", fe)
	}
}

func TestBackendDiesMidResponse(t *testing.T) {
	addr := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly ten..")
	})
	f := newFront(t, addr)
	// The client sees a broken response: either no head at all (the
	// front had not flushed it when the handler aborted) or a short body.
	resp, err := newClient(t).Get(f.URL)
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err == nil {
		t.Error("client read a complete response; want an error")
	}
	fe := f.nextErr(t)
	if !fe.Committed || fe.Stage != StageBody || fe.Outcome != PartlyAnswered || !errors.Is(fe, io.ErrUnexpectedEOF) {
		t.Errorf("error %+v, want Stage body, Sent true, unexpected EOF", fe)
	}
}

func TestClientCancelClosesBackend(t *testing.T) {
	started := make(chan struct{}, 1)
	backendDone := make(chan struct{}, 1)
	b := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		select {
		case <-r.Context().Done():
			backendDone <- struct{}{}
		case <-time.After(testTimeout):
		}
	})
	f := newFront(t, b.addr())
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", f.URL, nil)
	errc := make(chan error, 1)
	go func() {
		resp, err := newClient(t).Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	wait(t, started, "backend request")
	cancel()
	wait(t, backendDone, "backend to see its request context done")
	if err := wait(t, errc, "client"); err == nil {
		t.Error("client request succeeded after cancel")
	}
	fe := f.nextErr(t)
	if !errors.Is(fe, ErrClientGone) || fe.Committed {
		t.Errorf("error %+v, want ErrClientGone, Sent false", fe)
	}
	b.waitClosed(t, 1)
}

func TestTargetCloseAndCloseIdle(t *testing.T) {
	b := newBackend(t, echo)
	f := newFront(t, b.addr())
	client := newClient(t)
	get := func() int {
		resp, err := client.Get(f.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := get(); s != 200 {
		t.Fatalf("status %d", s)
	}
	f.target.CloseIdle()
	b.waitClosed(t, 1)
	if s := get(); s != 200 {
		t.Fatalf("status %d after CloseIdle", s)
	}
	f.target.Close()
	b.waitClosed(t, 2)
	if s := get(); s != http.StatusBadGateway {
		t.Fatalf("status %d after Close, want 502", s)
	}
	if fe := f.nextErr(t); !errors.Is(fe, ErrClosed) || fe.Stage != StageDial {
		t.Errorf("error %+v, want ErrClosed at dial", fe)
	}
}

func TestEarlyResponseToStreamingBody(t *testing.T) {
	// A backend that answers without reading the body (net/http itself
	// would first try to drain it).
	addr := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 413 Request Entity Too Large\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbig")
	})
	f := newFront(t, addr)
	// A client that sends the head, then waits for the answer before
	// sending more: the forwarder must relay the early answer.
	c, br := dialFront(t, f)
	fmt.Fprintf(c, "POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n")
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", resp.StatusCode)
	}
}

func TestLargeChunkedResponse(t *testing.T) {
	data := make([]byte, 3<<20+17)
	_, _ = rand.Read(data)
	b := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		for p := data; len(p) > 0; {
			n := min(len(p), 70000)
			_, _ = w.Write(p[:n])
			http.NewResponseController(w).Flush()
			p = p[n:]
		}
	})
	f := newFront(t, b.addr())
	client := newClient(t)
	for range 2 {
		resp, err := client.Get(f.URL)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("got %d bytes (%v), want %d", len(got), err, len(data))
		}
	}
	if conns, _ := b.counts(); conns != 1 {
		t.Errorf("backend saw %d connections, want 1", conns)
	}
	f.noErr(t)
}

func TestResponseReadUntilClose(t *testing.T) {
	addr := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end")
	})
	f := newFront(t, addr)
	client := newClient(t)
	for range 2 {
		resp, err := client.Get(f.URL)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(got) != "until the end" {
			t.Fatalf("got %q, %v", got, err)
		}
	}
	f.noErr(t)
}

func TestMalformedResponses(t *testing.T) {
	long := strings.Repeat("v", 20000)
	tests := []struct {
		name, resp string
		ok         bool
	}{
		{"long header", "HTTP/1.1 200 OK\r\nX-Long: " + long + "\r\nContent-Length: 2\r\n\r\nok", true},
		{"lower-case names", "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-custom-thing: 1\r\n\r\nok", true},
		{"http/1.0", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", true},
		{"bad status", "HTTP/1.1 2x0 OK\r\n\r\n", false},
		{"not http", "SSH-2.0-OpenSSH\r\n\r\n", false},
		{"obs-fold", "HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 0\r\n\r\n", false},
		{"space before colon", "HTTP/1.1 200 OK\r\nX-A : a\r\nContent-Length: 0\r\n\r\n", false},
		{"conflicting lengths", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok", false},
		{"101 without upgrade", "HTTP/1.1 101 Switching Protocols\r\n\r\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
				if _, err := http.ReadRequest(br); err != nil {
					return
				}
				io.WriteString(c, tt.resp)
			})
			f := newFront(t, addr)
			resp, err := newClient(t).Get(f.URL)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if tt.ok {
				if resp.StatusCode != 200 || string(body) != "ok" {
					t.Fatalf("status %d body %q", resp.StatusCode, body)
				}
				if tt.name == "long header" && resp.Header.Get("X-Long") != long {
					t.Error("long header value damaged")
				}
				f.noErr(t)
				return
			}
			if resp.StatusCode != http.StatusBadGateway {
				t.Fatalf("status %d, want 502", resp.StatusCode)
			}
			if fe := f.nextErr(t); !errors.Is(fe, ErrBadResponse) || fe.Committed {
				t.Errorf("error %+v, want ErrBadResponse, Sent false", fe)
			}
		})
	}
}

func TestInformationalResponse(t *testing.T) {
	addr := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"+
			"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	})
	f := newFront(t, addr)
	c, br := dialFront(t, f)
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 103 || resp.Header.Get("Link") == "" {
		t.Fatalf("first response %d %v, want 103 with Link", resp.StatusCode, resp.Header)
	}
	resp, err = http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(body) != "ok" {
		t.Fatalf("final response %d %q", resp.StatusCode, body)
	}
	if resp.Header.Get("Link") != "" {
		t.Error("103 header leaked into the final response")
	}
}

func TestConcurrentRequests(t *testing.T) {
	b := newBackend(t, echo)
	f := newFront(t, b.addr())
	client := newClient(t)
	const workers, perWorker = 64, 200
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				want := fmt.Sprintf("worker %d request %d %s", g, i, strings.Repeat("z", (g*perWorker+i)%300))
				method := "POST"
				if i%3 == 0 {
					method = "PUT"
				}
				req, _ := http.NewRequest(method, f.URL+"/c", strings.NewReader(want))
				resp, err := client.Do(req)
				if err != nil {
					errc <- err
					return
				}
				got, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || string(got) != want {
					errc <- fmt.Errorf("got %q (%v), want %q", got, err, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	f.noErr(t)
}

// TestGetThatKillsBackend: a GET on a reused connection that closes before
// an answer is not retried by Forward: it reports outcome Sent (the
// request went out, no answer came), and the caller decides.
func TestGetThatKillsBackend(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted := make(chan int, 4)
	go func() {
		n := 0
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n++
			accepted <- n
			br := bufio.NewReader(c)
			if _, err := http.ReadRequest(br); err != nil {
				c.Close()
				continue
			}
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			_, _ = http.ReadRequest(br) // the request it "dies" of
			c.Close()                   // no answer
		}
	}()
	f := newFront(t, ln.Addr().String())
	client := newClient(t)
	for i, want := range []int{http.StatusOK, http.StatusBadGateway} {
		resp, err := client.Get(f.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("request %d: status %d, want %d", i, resp.StatusCode, want)
		}
	}
	fe := f.nextErr(t)
	if fe.Stage != StageRead || fe.Committed || fe.Outcome != Sent {
		t.Errorf("error %+v, want Stage read, outcome sent, not committed", fe)
	}
	if n := len(accepted); n != 1 {
		t.Errorf("backend accepted %d connections, want 1 (no retry in Forward)", n)
	}
}
