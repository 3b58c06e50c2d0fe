package hosttest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/poolctl/poolctl/accesslog"
)

// readW3C parses the site's W3C access log, or fails the wait.
func readW3C(path string) ([]map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return accesslog.ParseW3C(f)
}

// TestAccessLogW3C checks that each request is one W3C line with IIS's
// default fields: the right status, the time taken, the query and the
// client's headers, including a refused request's 503.
func TestAccessLogW3C(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	e.addTestPool("A", "/")
	e.addTestPool("B", "/b")
	e.startHost()

	req := func(path, ua string) int {
		r, err := http.NewRequest("GET", e.url(path), nil)
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("User-Agent", ua)
		r.Header.Set("Referer", "http://example.test/from")
		r.SetBasicAuth("alice", "secret")
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := req("/sleep?ms=250", "Mozilla/5.0 (X11; Linux) test"); c != 200 {
		t.Fatalf("sleep: %d", c)
	}
	if c := req("/status?code=404", "agent 2"); c != 404 {
		t.Fatalf("status: %d", c)
	}
	// An encoded CR LF in the path must not start a new log line.
	if c := req("/x%0D%0AInjected:%20yes", "agent 3"); c != 200 {
		t.Fatalf("injection: %d", c)
	}
	e.run("stop", "apppool", "B")
	if c := req("/b/x", "curl/8"); c != 503 {
		t.Fatalf("stopped pool: %d", c)
	}

	path := filepath.Join(e.state, "logs", "sites", "W3SVC1", "access.log")
	var lines []map[string]string
	waitFor(t, 10*time.Second, "four access-log lines", func() error {
		var err error
		lines, err = readW3C(path)
		if err != nil {
			return err
		}
		if len(lines) < 4 {
			return fmt.Errorf("%d lines", len(lines))
		}
		return nil
	})
	if len(lines) != 4 {
		t.Fatalf("got %d lines: %v", len(lines), lines)
	}
	slow, missing, injected, refused := lines[0], lines[1], lines[2], lines[3]
	check := func(line map[string]string, field, want string) {
		t.Helper()
		if line[field] != want {
			t.Errorf("%s = %q, want %q (line %v)", field, line[field], want, line)
		}
	}
	check(slow, "cs-method", "GET")
	check(slow, "cs-uri-stem", "/sleep")
	check(slow, "cs-uri-query", "ms=250")
	check(slow, "sc-status", "200")
	check(slow, "s-ip", "127.0.0.1")
	check(slow, "s-port", strconv.Itoa(e.port))
	check(slow, "c-ip", "127.0.0.1")
	check(slow, "cs-username", "alice")
	check(slow, "cs(User-Agent)", "Mozilla/5.0+(X11;+Linux)+test")
	check(slow, "cs(Referer)", "http://example.test/from")
	if ms, err := strconv.Atoi(slow["time-taken"]); err != nil || ms < 250 || ms > 5000 {
		t.Errorf("time-taken = %q, want 250 ms or more", slow["time-taken"])
	}
	if _, err := time.Parse("2006-01-02 15:04:05", slow["date"]+" "+slow["time"]); err != nil {
		t.Errorf("date/time: %v", err)
	}
	check(missing, "sc-status", "404")
	check(missing, "cs-uri-query", "code=404")
	check(injected, "cs-uri-stem", "/x++Injected:+yes")
	check(injected, "cs(User-Agent)", "agent+3")
	check(refused, "sc-status", "503")
	check(refused, "cs-uri-stem", "/b/x")

	// The header names the fields in IIS's order.
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\n") {
		t.Errorf("no IIS #Fields header in:\n%s", raw)
	}
	if strings.Contains(string(raw), "Injected: yes") {
		t.Errorf("a header value broke a log line:\n%s", raw)
	}
}

// TestAccessLogJSONAndReopen switches a site to JSON lines, checks the
// values, then renames the file away and reopens with SIGUSR1: new lines go
// to a new file at the same path.
func TestAccessLogJSONAndReopen(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	e.addTestPool("A", "/")
	e.run("set", "site", "Default Web Site", "/logFile.logFormat:JSON")
	e.startHost()
	path := filepath.Join(e.state, "logs", "sites", "W3SVC1", "access.jsonl")
	type line struct {
		Status      int     `json:"status"`
		Pool        string  `json:"pool"`
		Site        string  `json:"site"`
		URIStem     string  `json:"uri_stem"`
		TimeTakenMS float64 `json:"time_taken_ms"`
		BytesSent   int64   `json:"bytes_sent"`
	}
	read := func(p string) ([]line, error) {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		var out []line
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var l line
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				return nil, fmt.Errorf("line %q: %w", sc.Text(), err)
			}
			out = append(out, l)
		}
		return out, sc.Err()
	}
	for range 5 {
		if c, _, _ := e.get("/status?code=201"); c != 201 {
			t.Fatalf("status %d", c)
		}
	}
	var got []line
	waitFor(t, 10*time.Second, "five JSON lines", func() error {
		var err error
		if got, err = read(path); err != nil {
			return err
		}
		if len(got) < 5 {
			return fmt.Errorf("%d lines", len(got))
		}
		return nil
	})
	for _, l := range got {
		if l.Status != 201 || l.Pool != "A" || l.Site != "Default Web Site" || l.URIStem != "/status" || l.BytesSent == 0 || l.TimeTakenMS <= 0 {
			t.Fatalf("line %+v", l)
		}
	}

	rotated := path + ".old"
	if err := os.Rename(path, rotated); err != nil {
		t.Fatal(err)
	}
	if err := e.host.Process.Signal(syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	// Requests after the reopen land in the new file; the renamed one
	// keeps its five lines (and at most the 202s sent while the signal was
	// on its way).
	waitFor(t, 10*time.Second, "a new access log after SIGUSR1", func() error {
		if c, _, _ := e.get("/status?code=202"); c != 202 {
			return fmt.Errorf("status %d", c)
		}
		lines, err := read(path)
		if err != nil {
			return err
		}
		for _, l := range lines {
			if l.Status != 202 {
				return fmt.Errorf("the new file has a line from before the reopen: %+v", l)
			}
		}
		if len(lines) == 0 {
			return fmt.Errorf("no line yet")
		}
		return nil
	})
	old, err := read(rotated)
	if err != nil {
		t.Fatal(err)
	}
	n201 := 0
	for _, l := range old {
		if l.Status == 201 {
			n201++
		}
	}
	if n201 != 5 {
		t.Errorf("renamed file has %d lines of before the rename, want 5", n201)
	}
}
