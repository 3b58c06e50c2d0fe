// Package events records what happens to pools and workers with IIS's WAS
// event ids (5074 a time recycle, 5009 a crash, 5002 rapid-fail ...), as
// JSON lines in a file under the host's state directory and in its log.
package events

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/poolctl/poolctl/internal/logfile"
)

// IIS event ids, as WAS writes them (reference/appcmd.md §4).
const (
	RecycleTime          = 5074 // periodicRestart.time reached
	RecycleRequests      = 5075 // periodicRestart.requests reached
	RecycleSchedule      = 5076 // a periodicRestart.schedule time
	RecycleMemory        = 5077 // periodicRestart.memory (virtual) exceeded
	RecycleOnDemand      = 5079 // an administrator asked
	RecycleConfigChange  = 5080 // a setting workers read at start changed
	RecyclePrivateMemory = 5117 // periodicRestart.privateMemory exceeded
	IdleShutdown         = 5186 // idle timeout
	RapidFail            = 5002 // the pool was disabled by rapid-fail protection
	WorkerCrash          = 5009 // a worker ended unexpectedly
	PingFailure          = 5010 // a worker did not answer a health check
	StartupTimeout       = 5012 // a worker was not ready within startupTimeLimit
	ShutdownTimeout      = 5013 // a worker did not stop within shutdownTimeLimit
	LaunchFailure        = 5059 // a worker could not be launched
	IdentityInvalid      = 5021 // the pool's identity is invalid (warning)
	OverlapFailure       = 5093 // a recycle could not start the replacement
	PoolStarted          = 9001 // poolctl: a pool started
	PoolStopped          = 9002 // poolctl: a pool stopped
	WorkerStarted        = 9003 // poolctl: a worker is ready
	WorkerStopped        = 9004 // poolctl: a worker was stopped
	IdleSuspend          = 9005 // poolctl: an idle worker was suspended
	IsolationModeChanged = 9006 // poolctl: the host switched between WorkerProcess and Legacy isolation mode
	CPULimit             = 9100 // poolctl: the pool's workers went over cpu.limit in a resetInterval (IIS has no single id)
)

// Event is one record.
type Event struct {
	Time   time.Time `json:"time"`
	ID     int       `json:"id"`
	Pool   string    `json:"pool"`
	PID    int       `json:"pid,omitempty"`
	Worker string    `json:"worker,omitempty"`
	Reason string    `json:"reason"`
}

// Recorder writes events. It is safe for concurrent use; a nil *Recorder
// records nothing. Its file rotates by size (WithRotation) and by age
// (WithMaxAge) through internal/logfile: each event is one line written
// with one write call under the recorder's mutex, so a line is never split
// between files nor lost to rotation.
type Recorder struct {
	mu      sync.Mutex
	dir     string
	file    *logfile.File
	maxSize int64
	maxAge  time.Duration
	keep    int
	closed  bool
	logger  *slog.Logger
	now     func() time.Time
}

// Option configures a Recorder.
type Option func(*Recorder)

// WithRotation rotates the event file once writing a line would take it
// past maxSize bytes, keeping keep rotated files (events.jsonl.1 the
// newest ... events.jsonl.keep the oldest). maxSize ≤ 0 means
// DefaultMaxSize and keep < 0 DefaultKeep; keep 0 keeps no rotated file.
func WithRotation(maxSize int64, keep int) Option {
	return func(r *Recorder) {
		if maxSize > 0 {
			r.maxSize = maxSize
		}
		if keep >= 0 {
			r.keep = keep
		}
	}
}

// WithMaxAge also rotates the event file before an event when the file was
// created more than d ago; d ≤ 0 rotates by size only (the default).
func WithMaxAge(d time.Duration) Option {
	return func(r *Recorder) { r.maxAge = max(d, 0) }
}

// withClock sets the recorder's clock, for tests: it stamps events and
// measures the file's age.
func withClock(now func() time.Time) Option {
	return func(r *Recorder) { r.now = now }
}

// Open returns a recorder appending to dir/events.jsonl and logging each
// event to logger (nil for none), rotating as opts say (WithRotation,
// WithMaxAge; the defaults otherwise).
func Open(dir string, logger *slog.Logger, opts ...Option) (*Recorder, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create event directory: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := &Recorder{dir: dir, maxSize: DefaultMaxSize, keep: DefaultKeep, logger: logger, now: time.Now}
	for _, o := range opts {
		o(r)
	}
	f, err := logfile.Open(filepath.Join(dir, FileName), logfile.Options{
		MaxSize: r.maxSize, MaxAge: r.maxAge, Keep: r.keep, Mode: 0o640, Now: r.now,
		Logger: logger, // failing writes are reported there once, and their end
	})
	if err != nil {
		return nil, fmt.Errorf("open event log: %w", err)
	}
	r.file = f
	return r, nil
}

// Record writes one event, stamping its time. The time is taken under the
// mutex, so the file's order is the events' time order. A write error is
// logged and the event still goes to the log; it never panics or blocks
// beyond one write and, at most, one rotation.
func (r *Recorder) Record(e Event) {
	if r == nil {
		return
	}
	r.mu.Lock()
	e.Time = r.now().UTC()
	werr := r.writeLocked(e)
	r.mu.Unlock()
	if werr != nil {
		// The log file reports failing writes once (and their end) at
		// error level and counts the lines lost: per event, debug only.
		r.logger.Debug("write event log", "err", werr, "event", e.ID, "pool", e.Pool)
	}
	r.logger.Info(e.Reason, "event", e.ID, "pool", e.Pool, "pid", e.PID, "worker", e.Worker)
}

func (r *Recorder) writeLocked(e Event) error {
	if r.closed {
		return ErrClosed
	}
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	line = append(line, '\n')
	// A write the file system takes only in part is cut back to the last
	// whole line by the log file itself (logfile.File), so no torn event
	// line is left for the next one to merge into.
	if _, err := r.file.Write(line); err != nil {
		return fmt.Errorf("write event log: %w", err)
	}
	return nil
}

// Reopen closes and reopens events.jsonl, for after an external rename
// (logrotate): later events go to the file now at the path. A failed open
// is retried by the next event.
func (r *Recorder) Reopen() error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	if err := r.file.Reopen(); err != nil {
		return fmt.Errorf("reopen event log: %w", err)
	}
	return nil
}

// Close closes the event file; later events go to the log only.
func (r *Recorder) Close() error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	if err := r.file.Close(); err != nil {
		return fmt.Errorf("close event log: %w", err)
	}
	return nil
}
