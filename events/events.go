// Package events records what happens to pools and workers with IIS's WAS
// event ids (5074 a time recycle, 5009 a crash, 5002 rapid-fail ...), as
// JSON lines in a file under the host's state directory and in its log.
package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
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
// records nothing. It rotates its file by size (see WithRotation): each
// event is one line written with one write call under the recorder's
// mutex, so a line is never split between files nor lost to rotation.
type Recorder struct {
	mu      sync.Mutex
	dir     string
	f       *os.File // nil after a failed reopen: the next Record retries
	size    int64    // bytes in the current file
	maxSize int64
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

// withClock sets the recorder's clock, for tests.
func withClock(now func() time.Time) Option {
	return func(r *Recorder) { r.now = now }
}

// Open returns a recorder appending to dir/events.jsonl and logging each
// event to logger (nil for none), rotating as opts say (WithRotation; the
// defaults otherwise).
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
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

// open opens (or creates) the current file and learns its size.
func (r *Recorder) open() error {
	f, err := os.OpenFile(filepath.Join(r.dir, FileName), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("open event log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("open event log: %w", err)
	}
	r.f, r.size = f, st.Size()
	return nil
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
		r.logger.Error("write event log", "err", werr, "event", e.ID, "pool", e.Pool)
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
	if r.f != nil && r.size > 0 && r.size+int64(len(line)) > r.maxSize {
		if err := r.rotateLocked(); err != nil {
			// Keep appending to the file we have rather than lose the event.
			r.logger.Error("rotate event log", "err", err)
		}
	}
	if r.f == nil {
		if err := r.open(); err != nil {
			return err
		}
	}
	n, err := r.f.Write(line)
	r.size += int64(n)
	if err != nil {
		if n > 0 && n < len(line) {
			// End the torn line so that the next event starts a line of
			// its own; readers skip the torn one.
			m, _ := r.f.Write([]byte{'\n'})
			r.size += int64(m)
		}
		return fmt.Errorf("write event log: %w", err)
	}
	return nil
}

// rotateLocked renames events.jsonl.N to .N+1 (dropping the oldest),
// events.jsonl to .1, and opens a new events.jsonl.
func (r *Recorder) rotateLocked() error {
	if err := r.f.Close(); err != nil {
		r.logger.Warn("close event log for rotation", "err", err)
	}
	r.f = nil
	base := filepath.Join(r.dir, FileName)
	var errs []error
	if r.keep == 0 {
		if err := os.Remove(base); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove full event log: %w", err))
		}
	} else {
		if err := os.Remove(rotated(base, r.keep)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("drop oldest event log: %w", err))
		}
		for n := r.keep - 1; n >= 1; n-- {
			if err := os.Rename(rotated(base, n), rotated(base, n+1)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("rotate event log: %w", err))
			}
		}
		if err := os.Rename(base, rotated(base, 1)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("rotate event log: %w", err))
		}
	}
	if err := r.open(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func rotated(base string, n int) string { return base + "." + strconv.Itoa(n) }

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
	if r.f == nil {
		return nil
	}
	if err := r.f.Close(); err != nil {
		return fmt.Errorf("close event log: %w", err)
	}
	return nil
}
