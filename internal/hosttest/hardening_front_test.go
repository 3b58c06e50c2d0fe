package hosttest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// hostFDs counts the host process's open descriptors.
func (e *hostEnv) hostFDs() int {
	e.t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", e.host.Process.Pid))
	if err != nil {
		e.t.Fatalf("host descriptors: %v", err)
	}
	return len(ents)
}

// waitFDsAtMost waits until the host holds at most limit descriptors.
func (e *hostEnv) waitFDsAtMost(limit int, what string) {
	e.t.Helper()
	waitFor(e.t, 30*time.Second, what, func() error {
		if n := e.hostFDs(); n > limit {
			return fmt.Errorf("host holds %d descriptors, want at most %d", n, limit)
		}
		return nil
	})
}

// rawDial opens a connection to the site, closed when the test ends.
func (e *hostEnv) rawDial() net.Conn {
	e.t.Helper()
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", e.port), 10*time.Second)
	if err != nil {
		e.t.Fatalf("dial site: %v", err)
	}
	e.t.Cleanup(func() { c.Close() })
	return c
}

// TestMalformedChunkedBodyReleasesBothSides (issue 9 item 1): a POST whose
// chunked body is malformed, sent to an application that reads the body and
// then abandoned by the client, must not pin the client connection nor the
// worker connection: the host's descriptors return to their resting level
// and the site keeps answering.
func TestMalformedChunkedBodyReleasesBothSides(t *testing.T) {
	e := newHostEnv(t)
	e.addTestPool("P", "/")
	e.startHost()
	if code, _, _ := e.get("/"); code != 200 {
		t.Fatalf("GET / = %d, want 200", code)
	}
	client.CloseIdleConnections()
	rest := e.hostFDs()
	const perForm = 15
	forms := map[string]string{
		"bad size":        "zz\r\nhello\r\n",
		"overflowing":     "fffffffffffffffff1\r\nhello\r\n",
		"no CRLF":         "5\r\nhelloXX0\r\n\r\n",
		"truncated chunk": "10\r\nabc",
	}
	for name, body := range forms {
		for range perForm {
			c := e.rawDial()
			req := "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n" + body
			if _, err := io.WriteString(c, req); err != nil {
				t.Fatalf("%s: write: %v", name, err)
			}
			c.Close()
		}
	}
	// Slack for the forwarder's idle keep-alive connections and the
	// event and log files a worker start may open.
	// A request on a new connection is accepted after all of those:
	// once it is answered, each of them holds a descriptor until the
	// host lets it go.
	client.CloseIdleConnections()
	if code, _, _ := e.get("/"); code != 200 {
		t.Fatalf("GET / after the malformed bodies = %d, want 200", code)
	}
	client.CloseIdleConnections()
	e.waitFDsAtMost(rest+4, "descriptors back to rest after malformed bodies")
}

// TestMalformedChunkedBodyAnswersClient: a client that stays connected
// after sending a malformed chunked body gets an answer (a 4xx) and the
// connection is closed, instead of waiting forever.
func TestMalformedChunkedBodyAnswersClient(t *testing.T) {
	e := newHostEnv(t)
	e.addTestPool("P", "/")
	e.startHost()
	c := e.rawDial()
	req := "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(60 * time.Second)) // failure guard only
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to a malformed chunked body: %v\n%s", err, e.log())
	}
	resp.Body.Close()
	if resp.StatusCode < 400 || resp.StatusCode >= 500 {
		t.Fatalf("malformed chunked body answered %d, want a 4xx (the client's fault)", resp.StatusCode)
	}
}

// TestClientCannotChooseSite (issue 9 item 2): the header that tells the
// built-in worker which site a request came to cannot be removed by a
// client's Connection header nor forged: a public site never serves a file
// of another site in the same pool.
func TestClientCannotChooseSite(t *testing.T) {
	e := newHostEnv(t)
	private := filepath.Join(e.dir, "private")
	public := filepath.Join(e.dir, "public")
	for _, d := range []string{private, public} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(private, "admin"), []byte("secret admin page\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(public, "index.html"), []byte("public\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The default site (first in the pool's spec) is the private one; the
	// public site shares its pool and port, told apart by host name.
	e.run("set", "app", "Default Web Site/", "/physicalPath:"+private)
	e.run("add", "site", "/name:Public", fmt.Sprintf("/bindings:http/127.0.0.1:%d:public.example", e.port),
		"/physicalPath:"+public, "/applicationPool:DefaultAppPool")
	e.startHost()

	if code, body := do(t, mustRequest(t, "GET", e.url("/admin"), "")); code != 200 || !strings.Contains(body, "secret") {
		t.Fatalf("private site /admin = %d %q, want 200 (setup)", code, body)
	}
	if code, _ := do(t, mustRequest(t, "GET", e.url("/admin"), "public.example")); code != 404 {
		t.Fatalf("public site /admin = %d, want 404 (setup)", code)
	}
	for _, c := range []struct {
		name   string
		header map[string]string
	}{
		{"Connection names the site header", map[string]string{"Connection": "X-Poolctl-Site"}},
		{"Connection names it in lower case", map[string]string{"Connection": "keep-alive, x-poolctl-site"}},
		{"forged site header", map[string]string{"X-Poolctl-Site": "Default Web Site"}},
		{"forged and dropped", map[string]string{"X-Poolctl-Site": "Default Web Site", "Connection": "X-POOLCTL-SITE"}},
		{"forged with underscores", map[string]string{"X_Poolctl_Site": "Default Web Site", "Connection": "X-Poolctl-Site"}},
	} {
		req := mustRequest(t, "GET", e.url("/admin"), "public.example")
		for k, v := range c.header {
			req.Header[k] = []string{v}
		}
		if code, body := do(t, req); code != 404 {
			t.Errorf("%s: public site /admin = %d %q, want 404", c.name, code, body)
		}
	}
}

// errConnClosed is returned by readUntilClosed when the host closed the
// connection.
var errConnClosed = errors.New("closed by the host")

// readUntilClosed reads c until the host closes it (or the guard expires)
// and returns what it read.
func readUntilClosed(c net.Conn, guard time.Duration) (string, error) {
	_ = c.SetReadDeadline(time.Now().Add(guard))
	b, err := io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return string(b), err
	}
	return string(b), errConnClosed
}

// startHostWithMetrics starts the host with a metrics endpoint, waits for
// the site port, and returns the metrics URL.
func (e *hostEnv) startHostWithMetrics() string {
	e.t.Helper()
	mport := freePort(e.t)
	e.launchHost("--metrics", fmt.Sprintf("127.0.0.1:%d", mport))
	waitFor(e.t, 15*time.Second, "site port listening", func() error {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", e.port), time.Second)
		if err != nil {
			return err
		}
		c.Close()
		return nil
	})
	return fmt.Sprintf("http://127.0.0.1:%d/metrics", mport)
}

// waitRefused waits until poolctl_connections_refused_total{reason} is at
// least n.
func waitRefused(t *testing.T, murl, reason string, n float64) {
	t.Helper()
	waitFor(t, 30*time.Second, "refusals counted as "+reason, func() error {
		v, _ := metricValue(scrape(t, murl), "poolctl_connections_refused_total", map[string]string{"reason": reason})
		if v < n {
			return fmt.Errorf("poolctl_connections_refused_total{reason=%q} = %v, want at least %v", reason, v, n)
		}
		return nil
	})
}

// rawGet sends a GET on c and reads the response (keeping c open).
func rawGet(c net.Conn, br *bufio.Reader, path string) (*http.Response, error) {
	_ = c.SetDeadline(time.Now().Add(60 * time.Second)) // failure guard only
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path); err != nil {
		return nil, err
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, nil
}

// TestSlowBodyIsCut (issue 9 item 3): a client trickling its request body
// a byte at a time is cut once limits.connectionTimeout has passed at less
// than limits.minBytesPerSecond, and the cut is counted.
func TestSlowBodyIsCut(t *testing.T) {
	e := newHostEnv(t)
	e.addTestPool("P", "/")
	e.run("set", "site", "Default Web Site", "/limits.connectionTimeout:00:00:02")
	murl := e.startHostWithMetrics()
	c := e.rawDial()
	if _, err := io.WriteString(c, "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	sent := make(chan int, 1)
	go func() {
		n := 0
		defer func() { sent <- n }()
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for n < 100000 {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if _, err := c.Write([]byte("x")); err != nil {
				return
			}
			n++
		}
	}()
	out, err := readUntilClosed(c, 60*time.Second)
	close(stop)
	n := <-sent
	if !errors.Is(err, errConnClosed) {
		t.Fatalf("the host did not cut a body trickling at 5 bytes/s (sent %d bytes): %v\n%s", n, err, e.log())
	}
	if out != "" && !strings.HasPrefix(out, "HTTP/1.1 408") {
		t.Errorf("answer to the slow body: %q, want a 408 or nothing", out)
	}
	waitRefused(t, murl, "min_bytes_per_second", 1)
	if code, _, _ := e.get("/"); code != 200 {
		t.Fatalf("GET / after the cut = %d, want 200", code)
	}
}

// TestIdleConnectionIsClosed (issue 9 item 3): a keep-alive connection
// left idle is closed after limits.connectionTimeout, and counted.
func TestIdleConnectionIsClosed(t *testing.T) {
	e := newHostEnv(t)
	e.addTestPool("P", "/")
	e.run("set", "site", "Default Web Site", "/limits.connectionTimeout:00:00:01")
	murl := e.startHostWithMetrics()
	c := e.rawDial()
	br := bufio.NewReader(c)
	if resp, err := rawGet(c, br, "/"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET / = %v, %v", resp, err)
	}
	if _, err := readUntilClosed(c, 60*time.Second); !errors.Is(err, errConnClosed) {
		t.Fatalf("an idle keep-alive connection was not closed: %v", err)
	}
	waitRefused(t, murl, "connection_timeout", 1)
}

// TestConnectionLimitsPerClientAndHost (issue 9 item 3): the host section's
// maxConnectionsPerClient and maxConnections close connections past them
// at once (counted by reason), and a closed connection frees its place.
func TestConnectionLimitsPerClientAndHost(t *testing.T) {
	e := newHostEnv(t)
	e.addTestPool("P", "/")
	e.run("set", "config", "/section:host", "/maxConnectionsPerClient:3", "/maxConnections:5")
	murl := e.startHostWithMetrics()
	// A connection over a limit is reset as soon as it is accepted: the
	// reset may reach the dial itself.
	dialFrom := func(ip string) (net.Conn, *bufio.Reader, error) {
		d := net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
		c, err := d.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", e.port))
		if err != nil {
			return nil, nil, err
		}
		t.Cleanup(func() { c.Close() })
		return c, bufio.NewReader(c), nil
	}
	var held []net.Conn
	hold := func(ip string) {
		c, br, err := dialFrom(ip)
		if err != nil {
			t.Fatalf("dial from %s: %v", ip, err)
		}
		if resp, err := rawGet(c, br, "/"); err != nil || resp.StatusCode != 200 {
			t.Fatalf("connection %d from %s: %v, %v; want 200", len(held)+1, ip, resp, err)
		}
		held = append(held, c)
	}
	refused := func(ip string) {
		c, br, err := dialFrom(ip)
		if err != nil {
			return // reset before the dial returned
		}
		if resp, err := rawGet(c, br, "/"); err == nil {
			t.Fatalf("connection over the limit from %s answered %d, want it closed", ip, resp.StatusCode)
		}
	}
	for range 3 {
		hold("127.0.0.1")
	}
	refused("127.0.0.1")
	waitRefused(t, murl, "max_connections_per_client", 1)
	for range 2 {
		hold("127.0.0.2")
	}
	refused("127.0.0.2")
	waitRefused(t, murl, "max_connections", 1)
	held[0].Close()
	waitFor(t, 30*time.Second, "a place freed by a closed connection", func() error {
		c, br, err := dialFrom("127.0.0.1")
		if err != nil {
			return err
		}
		defer c.Close()
		resp, err := rawGet(c, br, "/")
		if err != nil {
			return err
		}
		if resp.StatusCode != 200 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
}

// TestSiteMaxConnections (issue 9 item 3): past a site's
// limits.maxConnections, requests get 503 and their connection closes.
func TestSiteMaxConnections(t *testing.T) {
	e := newHostEnv(t)
	e.addTestPool("P", "/")
	e.run("set", "site", "Default Web Site", "/limits.maxConnections:2")
	murl := e.startHostWithMetrics()
	for i := range 2 {
		c := e.rawDial()
		if resp, err := rawGet(c, bufio.NewReader(c), "/"); err != nil || resp.StatusCode != 200 {
			t.Fatalf("connection %d: %v, %v; want 200", i+1, resp, err)
		}
	}
	c := e.rawDial()
	resp, err := rawGet(c, bufio.NewReader(c), "/")
	if err != nil || resp.StatusCode != 503 || resp.Header.Get("X-Poolctl-Reason") != "ConnLimit" {
		t.Fatalf("third connection: %v, %v; want 503 ConnLimit", resp, err)
	}
	if _, err := readUntilClosed(c, 60*time.Second); !errors.Is(err, errConnClosed) {
		t.Fatalf("the refused connection stayed open: %v", err)
	}
	waitRefused(t, murl, "site_max_connections", 1)
}

// TestErrorPagesHideDetail (issue 9 item 4): a loopback client sees the
// detail of a 503 under the default errorMode; under Custom (applied live)
// nobody does: the page has a short reason and a ref, and the host log
// has the detail under that ref.
func TestErrorPagesHideDetail(t *testing.T) {
	e := newHostEnv(t)
	e.addTestPool("Secret-Pool", "/")
	e.startHost()
	e.run("stop", "apppool", "Secret-Pool")
	code, body, _ := e.get("/")
	if code != 503 || !strings.Contains(body, "stopped") {
		t.Fatalf("loopback client: %d %q, want 503 with the detail", code, body)
	}
	e.run("set", "config", "/section:host", "/errorMode:Custom")
	var hdr http.Header
	waitFor(t, 30*time.Second, "errorMode Custom applied", func() error {
		code, body, hdr = e.get("/")
		if code != 503 || strings.Contains(body, "stopped") || strings.Contains(body, "Secret-Pool") {
			return fmt.Errorf("%d %q", code, body)
		}
		return nil
	})
	ref := hdr.Get("X-Poolctl-Ref")
	if ref == "" || !strings.Contains(body, "ref="+ref) {
		t.Fatalf("Custom error page %q (X-Poolctl-Ref %q), want a ref in both", body, ref)
	}
	waitFor(t, 10*time.Second, "detail in the host log", func() error {
		for _, line := range strings.Split(e.log(), "\n") {
			if strings.Contains(line, ref) && strings.Contains(line, "stopped") {
				return nil
			}
		}
		return fmt.Errorf("no log line with ref %s and the detail", ref)
	})
}

// TestWorkerFailureEndsClientSide (issue 9 item 1, the other way): when
// the worker dies while the client is still sending a body, the client
// gets 502 and its connection is closed, instead of the host waiting for
// the rest of a body nobody will read.
func TestWorkerFailureEndsClientSide(t *testing.T) {
	e := newHostEnv(t)
	e.addTestPool("P", "/")
	e.startHost()
	c := e.rawDial()
	req := "POST /die HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	out, err := readUntilClosed(c, 60*time.Second)
	if !errors.Is(err, errConnClosed) {
		t.Fatalf("the client connection stayed open after the worker died (read %q): %v", out, err)
	}
	if !strings.HasPrefix(out, "HTTP/1.1 502") {
		t.Fatalf("answer %q, want a 502", out)
	}
}
