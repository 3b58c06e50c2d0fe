// Package events records what happens to pools and workers with IIS's WAS
// event ids (5074 a time recycle, 5009 a crash, 5002 rapid-fail ...), as
// JSON lines in a file under the host's state directory and in its log.
package events

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
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
	OverlapFailure       = 5093 // a recycle could not start the replacement
	PoolStarted          = 9001 // poolctl: a pool started
	PoolStopped          = 9002 // poolctl: a pool stopped
	WorkerStarted        = 9003 // poolctl: a worker is ready
	WorkerStopped        = 9004 // poolctl: a worker was stopped
	IdleSuspend          = 9005 // poolctl: an idle worker was suspended
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
// records nothing.
type Recorder struct {
	mu     sync.Mutex
	w      io.WriteCloser
	logger *slog.Logger
	now    func() time.Time
}

// Open returns a recorder appending to dir/events.jsonl and logging each
// event to logger.
func Open(dir string, logger *slog.Logger) (*Recorder, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create event directory: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "events.jsonl"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open event log: %w", err)
	}
	return &Recorder{w: f, logger: logger, now: time.Now}, nil
}

// Record writes one event, stamping its time.
func (r *Recorder) Record(e Event) {
	if r == nil {
		return
	}
	e.Time = r.now().UTC()
	line, err := json.Marshal(e)
	if err != nil {
		return
	}
	r.mu.Lock()
	_, werr := r.w.Write(append(line, '\n'))
	r.mu.Unlock()
	if werr != nil {
		r.logger.Error("write event log", "err", werr)
	}
	r.logger.Info(e.Reason, "event", e.ID, "pool", e.Pool, "pid", e.PID, "worker", e.Worker)
}

// Close closes the event file.
func (r *Recorder) Close() error {
	if r == nil {
		return nil
	}
	return r.w.Close()
}
