package logfile

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
)

// A write that fails is reported in the logger (Options.Logger, else
// slog.Default()) once when a log starts failing and once when it works
// again, so a full disk does not flood the host's own log; every failed
// write and the lines it lost are counted in Stats for the metrics.

// Stat is what went wrong writing one log file (by path) since the process
// started.
type Stat struct {
	Path string
	// WriteErrors counts the writes that failed (ENOSPC, EIO, EFBIG ...).
	WriteErrors uint64
	// LinesLost counts the lines those writes did not put in the file
	// (including a partial line cut back).
	LinesLost uint64
}

// stats are the counters of every path a File was opened at; they stay
// when the File closes, so a counter never goes back (there is one entry
// per log path the process ever wrote).
var stats = struct {
	mu sync.Mutex
	m  map[string]*Stat
}{m: map[string]*Stat{}}

// Stats returns the write failure counters of every log path, sorted by
// path.
func Stats() []Stat {
	stats.mu.Lock()
	defer stats.mu.Unlock()
	out := make([]Stat, 0, len(stats.m))
	for _, s := range stats.m {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b Stat) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// countFailure adds a failed write that lost lines to path's counters.
func countFailure(path string, lines uint64) {
	stats.mu.Lock()
	defer stats.mu.Unlock()
	s := stats.m[path]
	if s == nil {
		s = &Stat{Path: path}
		stats.m[path] = s
	}
	s.WriteErrors++
	s.LinesLost += lines
}

// osWrite is how a File writes to its current file; tests replace it in a
// File to fail or to write short.
func osWrite(f *os.File, p []byte) (int, error) { return f.Write(p) }

// writeWholeLocked writes p to the current file so that no partial line is
// left behind: when the write fails short, the file is cut back to the end
// of the last complete line of p it took (or to where it was before the
// write), and n says how much of p stayed. When the cut itself fails, the
// next write starts with a newline so the partial line never merges into
// the next one.
func (l *File) writeWholeLocked(p []byte) (int, error) {
	if l.partial {
		if _, err := l.write(l.f, []byte{'\n'}); err != nil {
			return 0, err
		}
		l.size++
		l.partial = false
	}
	n, err := l.write(l.f, p)
	n = min(max(n, 0), len(p))
	if err == nil || n == 0 {
		l.size += int64(n)
		return n, err
	}
	keep := bytes.LastIndexByte(p[:n], '\n') + 1 // 0 when no line is whole
	if keep == n {
		l.size += int64(n)
		return n, err
	}
	// The file's end is where the append left the offset (not l.size: an
	// outside copytruncate may have emptied the file meanwhile).
	end, serr := l.f.Seek(0, io.SeekCurrent)
	if serr != nil || end < int64(n-keep) || l.f.Truncate(end-int64(n-keep)) != nil {
		l.size += int64(n)
		l.partial = true
		return n, err
	}
	l.size += int64(keep)
	return keep, err
}

// noteLocked counts and reports the outcome of a write of p that kept n
// bytes.
func (l *File) noteLocked(p []byte, n int, err error) {
	if err == nil {
		if l.failing {
			l.failing = false
			l.logger().Info("log file writes work again", "log", l.path)
		}
		return
	}
	lost := uint64(bytes.Count(p[n:], []byte{'\n'}))
	if n < len(p) && p[len(p)-1] != '\n' {
		lost++ // the unfinished line at the end
	}
	countFailure(l.path, lost)
	if !l.failing {
		l.failing = true
		l.logger().Error("log file write failed; lines are lost until it works again (reported once)", "log", l.path, "err", err)
	}
}

func (l *File) logger() *slog.Logger {
	if l.opts.Logger != nil {
		return l.opts.Logger
	}
	return slog.Default()
}
