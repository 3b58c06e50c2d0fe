package apppool

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/poolctl/poolctl/events"
	"github.com/poolctl/poolctl/internal/proc"
	"github.com/poolctl/poolctl/store"
)

// pathLog is a worker log with a path, as the host's log files have.
type pathLog struct{ path string }

func (l pathLog) Write(b []byte) (int, error) { return len(b), nil }
func (l pathLog) Path() string                { return l.path }

// TestLogTailBounded: the tail quoted in a failure (and so in events such
// as 5093) is the last three lines of at most 200 bytes, without control
// characters, and names the log file instead of copying it.
func TestLogTailBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "P.log")
	var b strings.Builder
	for i := range 50 {
		b.WriteString(strings.Repeat("x", 30) + " line " + string(rune('a'+i%26)) + "\n")
	}
	b.WriteString("almost last\n\x1b[31mred\x1b[0m and a bell\a\n")
	b.WriteString("the very last line\r\n")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &Pool{name: "P", log: pathLog{path}}
	tail := p.logTail()
	t.Logf("tail: %q", tail)
	body, _, _ := strings.Cut(tail, " (worker log ")
	if len(body) > 200 {
		t.Errorf("tail body is %d bytes, want at most 200", len(body))
	}
	if strings.Count(body, " | ") > 2 {
		t.Errorf("tail has more than 3 lines: %q", body)
	}
	if !strings.Contains(body, "the very last line") || !strings.Contains(body, "almost last") {
		t.Errorf("tail lost the last lines: %q", body)
	}
	if strings.Contains(body, "line a") {
		t.Errorf("tail holds old lines: %q", body)
	}
	if strings.IndexFunc(tail, unicode.IsControl) >= 0 {
		t.Errorf("tail keeps control characters: %q", tail)
	}
	if !strings.Contains(tail, path) {
		t.Errorf("tail does not name the log file %s: %q", path, tail)
	}
	if got := (&Pool{log: pathLog{filepath.Join(t.TempDir(), "missing.log")}}).logTail(); got != "" {
		t.Errorf("tail of a missing log = %q, want empty", got)
	}
}

// TestIdleEventFlag: event 5186 (idle shutdown) is recorded only while
// processModel.logEventOnProcessModel has IdleTimeout (its default).
func TestIdleEventFlag(t *testing.T) {
	for _, c := range []struct {
		flags *string
		want  bool
	}{{nil, true}, {ptr("IdleTimeout"), true}, {ptr(""), false}} {
		dir := t.TempDir()
		rec, err := events.Open(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		s := Settings{Name: "I", IdleTimeout: time.Millisecond, ShutdownTimeLimit: time.Second,
			Resolved: store.PoolSettings{ProcessModel: &store.ProcessModel{LogEventOnProcessModel: c.flags}}}
		p := newTestPool(10, 0)
		p.name, p.settings, p.events = "I", s, rec
		p.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
		pr, err := proc.Start(proc.Spec{Path: "/bin/sleep", Args: []string{"60"}})
		if err != nil {
			t.Fatal(err)
		}
		w := testWorker(pr.Pid)
		w.proc, w.lastUsed = pr, time.Now().Add(-time.Hour)
		w.target.set("tcp", "127.0.0.1:1", nil)
		p.active = []*Worker{w}
		p.checkIdle(time.Now())
		select {
		case <-pr.Done():
		case <-time.After(30 * time.Second):
			t.Fatal("the idle worker was not stopped")
		}
		_ = rec.Close()
		evs, err := events.ReadDir(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := false
		for _, e := range evs {
			got = got || e.ID == events.IdleShutdown
		}
		if got != c.want {
			name := "<unset>"
			if c.flags != nil {
				name = *c.flags
			}
			t.Errorf("logEventOnProcessModel %q: 5186 recorded = %v, want %v (%v)", name, got, c.want, evs)
		}
	}
}
