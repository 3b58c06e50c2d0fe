package accesslog

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/poolctl/poolctl/internal/logfile"
)

// Defaults for the zero values of Options.
const (
	DefaultBufferSize    = 1 << 20 // bytes of pending lines
	DefaultFlushInterval = time.Second
	DefaultSoftware      = "poolctl"
)

const maxInt = int(^uint(0) >> 1)

// ErrClosed is returned by a Log's Flush, Reopen and Close after Close.
var ErrClosed = errors.New("access log closed")

// Options say how a Log formats, buffers and rotates.
type Options struct {
	// Format of the lines; the zero value means W3C.
	Format Format
	// Rotate is passed to logfile.Open. Its Header is set by Open (the W3C
	// directives for W3C, none for JSON); callers leave it nil.
	Rotate logfile.Options
	// BufferSize is how many bytes of formatted lines may be pending before
	// new lines are dropped; 0 means DefaultBufferSize (1 MiB).
	BufferSize int
	// FlushInterval is how often pending lines are written; 0 means
	// DefaultFlushInterval (1s). They are written sooner once more than half
	// of BufferSize is pending.
	FlushInterval time.Duration
	// Software is the value of the W3C #Software directive, e.g.
	// "poolctl 1.2.3"; empty means DefaultSoftware.
	Software string
	// OnError, when set, is called by the background writer with every
	// error of a write it made (the lines of a failed write are counted as
	// dropped). It must not block for long: pending lines wait meanwhile.
	OnError func(error)
}

// sink is where a Log's batches go: a *logfile.File outside tests.
type sink interface {
	Write(p []byte) (int, error)
	Reopen() error
	Close() error
	Path() string
}

// Log is one access log file. Write never blocks on I/O; the other methods
// may. All methods are safe for concurrent use.
type Log struct {
	file     sink
	format   Format
	limit    int // BufferSize
	chunk    int // largest single write to the file; 0 = a batch in one write
	interval time.Duration
	onError  func(error)

	mu      sync.Mutex // guards pending, kicked, closed; held only to append or swap
	pending []byte     // formatted lines waiting for the writer
	kicked  bool       // the writer was signalled since it last swapped
	closed  bool       // Write is a no-op

	ioMu       sync.Mutex // serializes writing to file
	spare      []byte     // the batch being written; guarded by ioMu
	fileClosed bool       // guarded by ioMu

	written atomic.Uint64
	dropped atomic.Uint64

	kick   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
}

// Open opens (creating it if needed) the access log at path and starts its
// background writer. Close it when done.
func Open(path string, opts Options) (*Log, error) {
	format, err := normalizeFormat(opts.Format)
	if err != nil {
		return nil, err
	}
	opts.Format = format
	software := opts.Software
	if software == "" {
		software = DefaultSoftware
	}
	ro := opts.Rotate
	ro.Header = nil
	headerLen := 0
	if format == W3C {
		now := ro.Now
		if now == nil {
			now = time.Now
		}
		ro.Header = func() []byte { return appendW3CHeader(nil, software, now()) }
		headerLen = len(appendW3CHeader(nil, software, time.Time{}))
	}
	chunk := 0
	if ro.MaxSize > 0 {
		// Keep every file within MaxSize: logfile rotates before a write
		// that would pass it, so a fresh file holds the header and then at
		// most one chunk (a line longer than a chunk goes alone).
		chunk = max(int(min(ro.MaxSize, int64(maxInt)))-headerLen, 1)
	}
	f, err := logfile.Open(path, ro)
	if err != nil {
		return nil, fmt.Errorf("open access log: %w", err)
	}
	return newLog(f, opts, chunk), nil
}

// normalizeFormat checks f, defaulting the zero value to W3C.
func normalizeFormat(f Format) (Format, error) {
	if f == "" {
		return W3C, nil
	}
	return ParseFormat(string(f))
}

// newLog starts a Log writing to file in writes of at most chunk bytes
// (ending on line boundaries; 0 means a whole batch in one write).
func newLog(file sink, opts Options, chunk int) *Log {
	l := &Log{
		file:     file,
		format:   opts.Format,
		limit:    opts.BufferSize,
		interval: opts.FlushInterval,
		onError:  opts.OnError,
		kick:     make(chan struct{}, 1),
		done:     make(chan struct{}),
	}
	if l.format == "" {
		l.format = W3C
	}
	if l.limit <= 0 {
		l.limit = DefaultBufferSize
	}
	if l.interval <= 0 {
		l.interval = DefaultFlushInterval
	}
	l.chunk = chunk
	initial := min(l.limit, 64<<10)
	l.pending = make([]byte, 0, initial)
	l.spare = make([]byte, 0, initial)
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	go l.run(ctx)
	return l
}

// Path returns the path of the log file.
func (l *Log) Path() string { return l.file.Path() }

// Dropped returns how many lines were dropped: because the pending buffer
// was full (the disk could not keep up) or because writing them failed.
func (l *Log) Dropped() uint64 { return l.dropped.Load() }

// Written returns how many lines were handed to the file.
func (l *Log) Written() uint64 { return l.written.Load() }
