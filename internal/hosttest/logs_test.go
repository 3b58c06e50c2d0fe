package hosttest

// Worker logs and the event log of a real host: size rotation of a pool's
// worker log with --worker-log-max-size/--worker-log-keep, and SIGUSR1
// reopening both after they were renamed away (what logrotate does).
// Pools here are named "Lg...".

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// reqLine is a line the test worker prints for a request of ours when
// TW_LOG_REQUESTS=1.
var reqLine = regexp.MustCompile(`^testworker: pid=\d+ worker=\d+ pool=LgPool GET /(?:\?n=(\d+)|health|\?mark=[a-z0-9-]+)$`)

func TestWorkerLogRotatesAndReopensOnSIGUSR1(t *testing.T) {
	t.Parallel()
	const maxSize, keep = 4096, 2
	e := newHostEnv(t)
	e.addTestPool("LgPool", "/", "/+environmentVariables.[name='TW_LOG_REQUESTS',value='1']", "/startMode:AlwaysRunning")
	e.launchHost("--worker-log-max-size", "4K", "--worker-log-keep", strconv.Itoa(keep))
	waitFor(t, 20*time.Second, "LgPool answering", func() error { return e.fetch("/") })
	logPath := filepath.Join(e.state, "logs", "LgPool.log")

	// (a) Requests until the first ones are gone from every kept file: the
	// log rotated more than keep times.
	n := 0
	waitFor(t, 30*time.Second, "the worker log rotated past keep", func() error {
		for range 50 {
			if err := e.fetch("/?n=" + strconv.Itoa(n)); err != nil {
				return err
			}
			n++
		}
		if n > 5000 {
			t.Fatalf("%d requests and the log has not rotated past keep", n)
		}
		if _, err := os.Stat(logPath + "." + strconv.Itoa(keep)); err != nil {
			return err
		}
		if first := e.firstRequest(logPath + "." + strconv.Itoa(keep)); first < 1 {
			return fmt.Errorf("the oldest kept file starts with request %d", first)
		}
		return nil
	})
	rotated, _ := filepath.Glob(logPath + ".*")
	slices.Sort(rotated)
	t.Logf("%d requests; rotated files %v", n, rotated)
	if want := []string{logPath + ".1", logPath + ".2"}; !slices.Equal(rotated, want) {
		t.Fatalf("rotated files %v, want %v", rotated, want)
	}
	// Every kept line is whole and the request numbers rise from the
	// oldest file to the current one.
	last := -1
	for _, f := range []string{logPath + ".2", logPath + ".1", logPath} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > maxSize {
			t.Errorf("%s is %d bytes, over --worker-log-max-size %d", f, len(b), maxSize)
		}
		if len(b) > 0 && b[len(b)-1] != '\n' {
			t.Errorf("%s ends mid-line", f)
		}
		for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			m := reqLine.FindStringSubmatch(line)
			if m == nil {
				if line != "" {
					t.Errorf("%s: unexpected or split line %q", f, line)
				}
				continue
			}
			if m[1] == "" {
				continue
			}
			k, _ := strconv.Atoi(m[1])
			if k <= last {
				t.Errorf("%s: request %d after %d: order broken across files", f, k, last)
			}
			last = k
		}
	}
	if last < 0 {
		t.Fatalf("no request line kept:\n%s", e.log())
	}

	// (b) Rename the worker log away, SIGUSR1: the workers keep running
	// and their output goes to a new LgPool.log.
	pids := e.workers("LgPool")
	moved := logPath + ".moved"
	if err := os.Rename(logPath, moved); err != nil {
		t.Fatal(err)
	}
	e.sigusr1(1)
	movedSize := size(t, moved)
	waitFor(t, 10*time.Second, "the marked request in the new LgPool.log", func() error {
		if err := e.fetch("/?mark=after-usr1"); err != nil {
			return err
		}
		b, err := os.ReadFile(logPath)
		if err != nil {
			return err
		}
		if !strings.Contains(string(b), "GET /?mark=after-usr1\n") {
			return fmt.Errorf("not yet in %s", logPath)
		}
		return nil
	})
	if got := size(t, moved); got != movedSize {
		t.Errorf("the renamed log grew from %d to %d bytes after SIGUSR1", movedSize, got)
	}
	if b, _ := os.ReadFile(moved); strings.Contains(string(b), "after-usr1") {
		t.Error("a request after SIGUSR1 went to the renamed log")
	}
	if now := e.workers("LgPool"); !slices.Equal(now, pids) {
		t.Errorf("workers %v after SIGUSR1, want the same %v", now, pids)
	}

	// (c) The same for the event log: an event after rename and SIGUSR1
	// goes to a new events.jsonl.
	evPath := filepath.Join(e.state, "events.jsonl")
	evMoved := evPath + ".moved"
	if err := os.Rename(evPath, evMoved); err != nil {
		t.Fatal(err)
	}
	e.sigusr1(2)
	evMovedSize := size(t, evMoved)
	e.run("recycle", "apppool", "LgPool")
	waitFor(t, 20*time.Second, "the recycle event in the new events.jsonl", func() error {
		b, err := os.ReadFile(evPath)
		if err != nil {
			return err
		}
		if !strings.Contains(string(b), `"id":5079`) {
			return fmt.Errorf("no 5079 in %s yet: %s", evPath, b)
		}
		return nil
	})
	if got := size(t, evMoved); got != evMovedSize {
		t.Errorf("the renamed event log grew from %d to %d bytes after SIGUSR1", evMovedSize, got)
	}
	if strings.Contains(e.log(), "level=WARN msg=\"SIGUSR1") {
		t.Errorf("a log could not be reopened:\n%s", e.log())
	}
}

// fetch GETs path on the default site and fails unless it answers 200.
func (e *hostEnv) fetch(path string) error {
	resp, err := client.Get(e.url(path))
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return nil
}

// firstRequest returns the number of the first numbered request in a
// worker log, or -1.
func (e *hostEnv) firstRequest(name string) int {
	b, err := os.ReadFile(name)
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if m := reqLine.FindStringSubmatch(line); m != nil && m[1] != "" {
			k, _ := strconv.Atoi(m[1])
			return k
		}
	}
	return -1
}

// sigusr1 sends SIGUSR1 to the host and waits until it logged its nth
// reopening.
func (e *hostEnv) sigusr1(nth int) {
	e.t.Helper()
	if err := e.host.Process.Signal(syscall.SIGUSR1); err != nil {
		e.t.Fatal(err)
	}
	waitFor(e.t, 10*time.Second, "the host reopened its logs", func() error {
		if got := strings.Count(e.log(), "SIGUSR1: reopened the log files"); got < nth {
			return fmt.Errorf("%d reopenings logged, want %d", got, nth)
		}
		return nil
	})
}

func size(t *testing.T, name string) int64 {
	t.Helper()
	st, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}
