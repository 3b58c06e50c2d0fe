package apppool

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/poolctl/poolctl/internal/logfile"
)

// workerLog is a pool's worker log, <LogDir>/<pool>.log: the standard
// output and error of its workers and of its onStart/onRecycle actions.
// Workers write into pipes; internal/proc's output hub (one goroutine for
// every worker of the host) feeds them to Write, which appends to a
// rotating logfile.File, so the file can rotate and be reopened while the
// workers keep running. Write must not block for long: while it does, no
// worker's output is copied.
//
// Write never fails: a copier that stopped at the first error (os/exec's
// does, where the hub is not used) would have the worker die of SIGPIPE on
// its next write. A write the file refuses (disk full, directory removed)
// is dropped and logged once until the file works again; the file retries
// its open on every write.
type workerLog struct {
	file   *logfile.File
	pool   string
	logger *slog.Logger

	mu      sync.Mutex
	failing bool // the last write failed; logged once per failing spell
}

// openLog opens the pool's worker log for appending, rotating as opts say.
func openLog(dir, pool string, opts logfile.Options, logger *slog.Logger) (*workerLog, error) {
	f, err := logfile.Open(filepath.Join(dir, pool+".log"), opts)
	if err != nil {
		return nil, fmt.Errorf("open worker log: %w", err)
	}
	return &workerLog{file: f, pool: pool, logger: logger}, nil
}

// Write appends p to the log and reports it all written; see workerLog.
func (w *workerLog) Write(p []byte) (int, error) {
	_, err := w.file.Write(p)
	w.mu.Lock()
	was := w.failing
	w.failing = err != nil
	w.mu.Unlock()
	switch {
	case err != nil && !was:
		w.logger.Error("worker log: output is being dropped", "pool", w.pool, "err", err)
	case err == nil && was:
		w.logger.Info("worker log: writing again", "pool", w.pool, "path", w.file.Path())
	}
	return len(p), nil
}

// Path is the current file of the log.
func (w *workerLog) Path() string { return w.file.Path() }

// SetOwner gives the log, and every file it rotates to, to uid:gid.
func (w *workerLog) SetOwner(uid, gid int) error { return w.file.SetOwner(uid, gid) }

// Reopen reopens the log's path, after an external rename.
func (w *workerLog) Reopen() error { return w.file.Reopen() }

// Close closes the log; later output is dropped.
func (w *workerLog) Close() error { return w.file.Close() }

// The size of a worker log tail quoted in a failure (logTail).
const (
	tailLines = 3
	tailBytes = 200
)

// tailOf returns the last lines (at most n) of b, joined with " | ",
// invalid UTF-8 and control characters (escape sequences, CR, bells ...)
// replaced with '?', and cut to its last maxBytes bytes ("..." marking the
// cut).
func tailOf(b []byte, n, maxBytes int) string {
	lines := strings.Split(strings.TrimRight(string(b), " \t\r\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	for i, l := range lines {
		lines[i] = strings.Map(func(r rune) rune {
			if r == utf8.RuneError || unicode.IsControl(r) {
				return '?'
			}
			return r
		}, strings.ToValidUTF8(strings.TrimRight(l, "\r"), "?"))
	}
	s := strings.Join(lines, " | ")
	if len(s) <= maxBytes {
		return s
	}
	s = s[len(s)-max(maxBytes-3, 0):]
	for len(s) > 0 && !utf8.RuneStart(s[0]) {
		s = s[1:]
	}
	return "..." + s
}
