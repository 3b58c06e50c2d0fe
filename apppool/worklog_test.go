package apppool

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/poolctl/poolctl/internal/logfile"
	"github.com/poolctl/poolctl/internal/proc"
)

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestWorkerLogNeverFails: a write the file refuses is reported as done
// (exec would stop copying and the worker die of SIGPIPE), logged once,
// and writing resumes when the file can be opened again.
func TestWorkerLogNeverFails(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	var logs lockedBuf
	l, err := openLog(dir, "P", logfile.Options{MaxSize: 10, Keep: 1}, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := l.Write([]byte("first line\n")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if n, err := l.Write([]byte("dropped\n")); n != 8 || err != nil {
			t.Fatalf("Write = %d, %v; want 8, nil", n, err)
		}
	}
	if got := strings.Count(logs.String(), "output is being dropped"); got != 1 {
		t.Fatalf("the failure was logged %d times, want once:\n%s", got, logs.String())
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Write([]byte("back\n")); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "P.log"))
	if err != nil || string(b) != "back\n" {
		t.Fatalf("P.log = %q, %v", b, err)
	}
	if !strings.Contains(logs.String(), "writing again") {
		t.Fatalf("the recovery was not logged:\n%s", logs.String())
	}
}

// TestWorkerExitNoticedWhilePipeHeld: a worker writing into the pool's log
// through a pipe leaves a grandchild in a session of its own that keeps
// the pipe open. Its exit is still noticed within proc's drain limit, and
// what it wrote reached the file.
func TestWorkerExitNoticedWhilePipeHeld(t *testing.T) {
	dir := t.TempDir()
	l, err := openLog(dir, "P", logfile.Options{MaxSize: 1 << 20, Keep: 1}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	start := time.Now()
	// The worker waits (at most 5s) until the holder has left its
	// process group, or proc's group kill would take it too.
	script := `setsid sleep 30 & h=$!; echo holder=$h
i=0
while [ $i -lt 500 ] && [ "$(cut -d' ' -f6 /proc/$h/stat)" != "$h" ]; do i=$((i+1)); sleep 0.01; done
echo worker done`
	pr, err := proc.Start(proc.Spec{Path: "/bin/sh", Args: []string{"-c", script},
		Env: []string{"PATH=/usr/bin:/bin"}, Stdout: l, Stderr: l})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-pr.Done():
	case <-time.After(25 * time.Second):
		// The holder sleeps 30 s: noticed later, the exit waited for it.
		t.Fatal("the worker's exit was not noticed within 25s while a grandchild held its output pipe")
	}
	took := time.Since(start)
	b, err := os.ReadFile(filepath.Join(dir, "P.log"))
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`holder=(\d+)`).FindSubmatch(b); m != nil {
		if pid, err := strconv.Atoi(string(m[1])); err == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if !strings.Contains(string(b), "worker done\n") {
		t.Fatalf("P.log = %q: the worker's output is missing", b)
	}
	t.Logf("exit noticed after %s with the pipe still held", took.Round(time.Millisecond))
}
