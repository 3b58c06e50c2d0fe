package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// fakeClock ticks one second per call, so event times are distinct.
func fakeClock() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Second)
		return t
	}
}

func lines(t *testing.T, name string) []string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		t.Fatalf("%s does not end with a newline", name)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func TestRotationKeepsNFilesWholeLinesInOrder(t *testing.T) {
	dir := t.TempDir()
	const maxSize, keep = 600, 3
	r, err := Open(dir, discard(), WithRotation(maxSize, keep), withClock(fakeClock()))
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	for i := range n {
		r.Record(Event{ID: RecycleOnDemand, Pool: "P", PID: 1000 + i, Reason: fmt.Sprintf("event %d", i)})
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	files, err := Files(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{FileName + ".3", FileName + ".2", FileName + ".1", FileName}
	if len(files) != len(want) {
		t.Fatalf("files = %v, want %v", files, want)
	}
	for i, f := range files {
		if filepath.Base(f) != want[i] {
			t.Fatalf("files = %v, want %v", files, want)
		}
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > maxSize {
			t.Errorf("%s is %d bytes, over %d", f, st.Size(), maxSize)
		}
		for _, l := range lines(t, f) {
			var e Event
			if err := json.Unmarshal([]byte(l), &e); err != nil {
				t.Errorf("%s: split or bad line %q: %v", f, l, err)
			}
		}
	}
	evs, err := ReadDir(dir, func(f string, n int, err error) { t.Errorf("%s:%d: %v", f, n, err) })
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) == 0 || len(evs) == n {
		t.Fatalf("read %d events: rotation kept everything or nothing", len(evs))
	}
	// The kept events are the newest ones, consecutive and in order.
	first := evs[0].PID
	for i, e := range evs {
		if e.PID != first+i {
			t.Fatalf("event %d has pid %d, want %d: order broken across files", i, e.PID, first+i)
		}
		if i > 0 && !e.Time.After(evs[i-1].Time) {
			t.Fatalf("event %d is not after event %d", i, i-1)
		}
	}
	if last := evs[len(evs)-1].PID; last != 1000+n-1 {
		t.Fatalf("newest event has pid %d, want %d", last, 1000+n-1)
	}
}

func TestRotationKeepZero(t *testing.T) {
	dir := t.TempDir()
	r, err := Open(dir, discard(), WithRotation(300, 0))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		r.Record(Event{ID: WorkerStarted, Pool: "P", PID: i + 1, Reason: "worker ready"})
	}
	r.Close()
	files, _ := Files(dir)
	if len(files) != 1 || filepath.Base(files[0]) != FileName {
		t.Fatalf("files = %v, want only %s", files, FileName)
	}
	evs, _ := ReadDir(dir, nil)
	if len(evs) == 0 || evs[len(evs)-1].PID != 50 {
		t.Fatalf("events = %v, want the newest ending with pid 50", evs)
	}
}

func TestReopenContinuesSizeAndRotates(t *testing.T) {
	dir := t.TempDir()
	r, err := Open(dir, discard(), WithRotation(400, 2))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		r.Record(Event{ID: PoolStarted, Pool: "P", Reason: "pool started"})
	}
	r.Close()
	// A new recorder (a host restart) counts the bytes already there.
	r, err = Open(dir, discard(), WithRotation(400, 2))
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		r.Record(Event{ID: PoolStopped, Pool: "P", Reason: "pool stopped"})
	}
	if _, err := os.Stat(filepath.Join(dir, FileName+".1")); err != nil {
		t.Fatalf("no rotation after reopen: %v", err)
	}
	// After a rotation the recorder writes to the new current file.
	before := len(lines(t, filepath.Join(dir, FileName)))
	r.Record(Event{ID: RecycleOnDemand, Pool: "Q", PID: 77, Reason: "after"})
	got := lines(t, filepath.Join(dir, FileName))
	if len(got) != before+1 || !strings.Contains(got[len(got)-1], `"pool":"Q"`) {
		t.Fatalf("current file after rotation = %q", got)
	}
	r.Close()
	// A record after Close is not written.
	r.Record(Event{ID: RecycleOnDemand, Pool: "Z", Reason: "late"})
	if b, _ := os.ReadFile(filepath.Join(dir, FileName)); bytes.Contains(b, []byte(`"Z"`)) {
		t.Fatal("an event recorded after Close was written")
	}
}

func TestConcurrentRecord(t *testing.T) {
	dir := t.TempDir()
	r, err := Open(dir, discard(), WithRotation(4096, 100))
	if err != nil {
		t.Fatal(err)
	}
	const goroutines, each = 8, 200
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				r.Record(Event{ID: WorkerCrash, Pool: fmt.Sprintf("pool-%d", g), PID: g*each + i + 1, Reason: strings.Repeat("x", i%50)})
			}
		})
	}
	wg.Wait()
	r.Close()
	evs, err := ReadDir(dir, func(f string, n int, err error) { t.Errorf("%s:%d: %v", f, n, err) })
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != goroutines*each {
		t.Fatalf("read %d events, want %d", len(evs), goroutines*each)
	}
	seen := map[int]bool{}
	last := map[string]int{}
	for i, e := range evs {
		if seen[e.PID] {
			t.Fatalf("pid %d recorded twice", e.PID)
		}
		seen[e.PID] = true
		if e.PID <= last[e.Pool] {
			t.Fatalf("%s: pid %d after %d: a goroutine's events out of order", e.Pool, e.PID, last[e.Pool])
		}
		last[e.Pool] = e.PID
		if i > 0 && e.Time.Before(evs[i-1].Time) {
			t.Fatalf("event %d is older than the one before it", i)
		}
	}
}

func TestReadSkipsMalformedLines(t *testing.T) {
	dir := t.TempDir()
	body := `{"time":"2026-01-01T00:00:00Z","id":9001,"pool":"P","reason":"pool started"}
not json
{"time":"2026-01-01T00:00:01Z","pool":"P","reason":"no id"}

{"time":"2026-01-01T00:00:02Z","id":5079,"pool":"P","pid":12,"reason":"recycle"}
{"time":"2026-01-01T00:00:03Z","id":5079,"pool":"P","pid":13,"reason":"no newline"}`
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	var skipped []int
	evs, err := ReadDir(dir, func(f string, n int, err error) {
		if filepath.Base(f) != FileName {
			t.Errorf("skip names %s", f)
		}
		skipped = append(skipped, n)
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(skipped) != "[2 3]" {
		t.Errorf("skipped lines %v, want [2 3]", skipped)
	}
	if len(evs) != 3 || evs[1].PID != 12 || evs[2].PID != 13 {
		t.Errorf("events = %+v", evs)
	}
}

func TestReadMissingDirectory(t *testing.T) {
	evs, err := ReadDir(filepath.Join(t.TempDir(), "nope"), nil)
	if err != nil || len(evs) != 0 {
		t.Fatalf("ReadDir(missing) = %v, %v; want nothing and no error", evs, err)
	}
}

func TestFilesIgnoresOtherNames(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{FileName, FileName + ".2", FileName + ".10", FileName + ".1", FileName + ".x", FileName + ".01", "other.jsonl"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	files, err := Files(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		got = append(got, filepath.Base(f))
	}
	want := []string{FileName + ".10", FileName + ".2", FileName + ".1", FileName}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Files = %v, want %v", got, want)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"10M": 10 << 20, "512K": 512 << 10, "1G": 1 << 30, "4096": 4096, "10MiB": 10 << 20, "2kb": 2048} {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "M", "-1", "10X", "1.5M", "99999999999G"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) succeeded", in)
		}
	}
}

func TestNilRecorder(t *testing.T) {
	var r *Recorder
	r.Record(Event{ID: PoolStarted})
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestWriteErrorLoggedThenRecovers: when the file cannot be reopened after
// a rotation (its directory vanished) the error is logged (once, by the log
// file, in the recorder's logger), the event still reaches the log, and a
// later event reopens the file.
func TestWriteErrorLoggedThenRecovers(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	var logBuf bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&logMu, &logBuf}, nil))
	r, err := Open(dir, logger, WithRotation(1, 2)) // every line rotates
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.Record(Event{ID: PoolStarted, Pool: "P", Reason: "first"})
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	r.Record(Event{ID: PoolStopped, Pool: "P", Reason: "lost"})
	logMu.Lock()
	logged := logBuf.String()
	logMu.Unlock()
	if !strings.Contains(logged, "log file write failed") || !strings.Contains(logged, "msg=lost") {
		t.Fatalf("log does not show the write error and the event:\n%s", logged)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	r.Record(Event{ID: PoolStarted, Pool: "P", Reason: "again"})
	evs, err := ReadDir(dir, nil)
	if err != nil || len(evs) != 1 || evs[0].Reason != "again" {
		t.Fatalf("after recovery: %+v, %v", evs, err)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestMaxAgeRotates: with WithMaxAge the file rotates once it is older
// than the limit, whatever its size.
func TestMaxAgeRotates(t *testing.T) {
	dir := t.TempDir()
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	r, err := Open(dir, discard(), WithRotation(1<<20, 2), WithMaxAge(time.Hour), withClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.Record(Event{ID: PoolStarted, Pool: "P", PID: 1, Reason: "first"})
	advance(30 * time.Minute)
	r.Record(Event{ID: PoolStopped, Pool: "P", PID: 2, Reason: "second"})
	if _, err := os.Stat(filepath.Join(dir, FileName+".1")); err == nil {
		t.Fatal("rotated before the file was an hour old")
	}
	advance(31 * time.Minute)
	r.Record(Event{ID: PoolStarted, Pool: "P", PID: 3, Reason: "third"})
	if got := lines(t, filepath.Join(dir, FileName+".1")); len(got) != 2 {
		t.Fatalf("%s.1 has %d lines, want the first two events", FileName, len(got))
	}
	if got := lines(t, filepath.Join(dir, FileName)); len(got) != 1 || !strings.Contains(got[0], `"pid":3`) {
		t.Fatalf("current file = %q", got)
	}
}

// TestReopenAfterRename: after events.jsonl is renamed away (logrotate)
// and Reopen is called, events go to a new events.jsonl and none to the
// renamed file.
func TestReopenAfterRename(t *testing.T) {
	dir := t.TempDir()
	r, err := Open(dir, discard())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.Record(Event{ID: PoolStarted, Pool: "P", PID: 1, Reason: "before"})
	moved := filepath.Join(dir, "events.jsonl-20260101")
	if err := os.Rename(filepath.Join(dir, FileName), moved); err != nil {
		t.Fatal(err)
	}
	if err := r.Reopen(); err != nil {
		t.Fatal(err)
	}
	r.Record(Event{ID: PoolStopped, Pool: "P", PID: 2, Reason: "after"})
	if got := lines(t, moved); len(got) != 1 || !strings.Contains(got[0], `"pid":1`) {
		t.Fatalf("renamed file = %q", got)
	}
	if got := lines(t, filepath.Join(dir, FileName)); len(got) != 1 || !strings.Contains(got[0], `"pid":2`) {
		t.Fatalf("new file = %q", got)
	}
	r.Close()
	if err := r.Reopen(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Reopen after Close: %v, want ErrClosed", err)
	}
	var nilRec *Recorder
	if err := nilRec.Reopen(); err != nil {
		t.Fatalf("nil Reopen: %v", err)
	}
}
