package logfile

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// DefaultMode is the permission of new files when Options.Mode is 0.
const DefaultMode os.FileMode = 0o640

// ErrClosed is returned by a File's methods after Close.
var ErrClosed = errors.New("logfile: closed")

// ErrNotRegular is returned when a log path names something other than a
// regular file (a FIFO, a device, a directory).
var ErrNotRegular = errors.New("not a regular file: refused")

// Options say when a File rotates and how many rotated files it keeps.
type Options struct {
	MaxSize int64         // rotate before a write would take the file past this many bytes; 0 = never by size
	MaxAge  time.Duration // rotate before a write when the current file was opened/created longer ago than this; 0 = never by age
	Keep    int           // rotated files kept: NAME.1 (newest) ... NAME.Keep (oldest); 0 keeps none (rotation truncates)
	Mode    os.FileMode   // permission of new files; 0 means 0o640
	Header  func() []byte // optional: written at the start of every new, empty file (e.g. W3C #Fields lines)
	// Now is the clock used for age rotation; nil means time.Now.
	Now func() time.Time
	// Logger is where failed writes are reported, once when the file
	// starts failing and once when it works again (failures.go); nil
	// means slog.Default().
	Logger *slog.Logger
}

// File is a rotating, append-only log file. Its methods are safe for
// concurrent use.
//
// The age of a file is counted from its creation: for a file that Open,
// Reopen or a rotation creates (or finds empty) that is the moment it was
// opened; for an existing file with content it is the file system's birth
// time (statx) where available, else its modification time at open.
//
// A failed open (at Open's retry, Reopen or rotation) leaves the File
// without a current file; the next Write tries to open it again and returns
// the error if that fails too, so no write is lost without an error.
type File struct {
	path string
	opts Options

	mu         sync.Mutex
	f          *os.File // nil after a failed open: the next Write retries
	size       int64    // bytes in the current file
	headerSize int64    // bytes of the header at the start of the current file
	born       time.Time
	owner      *owner // set by SetOwner: every new file is given to it
	closed     bool
	partial    bool // the file ends in a partial line a failed cut left: write a newline first
	failing    bool // the last write failed (reported once: failures.go)
	write      func(*os.File, []byte) (int, error)
}

type owner struct{ uid, gid int }

// Open opens path for appending, creating it and its parent directories
// (mode 0755) when missing.
func Open(path string, opts Options) (*File, error) {
	if opts.Mode == 0 {
		opts.Mode = DefaultMode
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Keep < 0 {
		return nil, fmt.Errorf("logfile %s: negative Keep %d", path, opts.Keep)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create log directory: %w", err)
	}
	l := &File{path: path, opts: opts, write: osWrite}
	stats.mu.Lock()
	if stats.m[path] == nil {
		stats.m[path] = &Stat{Path: path}
	}
	stats.mu.Unlock()
	if err := l.openLocked(); err != nil {
		return nil, err
	}
	return l, nil
}

// Path returns the path of the current file.
func (l *File) Path() string { return l.path }

// openLocked opens (or creates) the current file, learns its size and age,
// applies the owner and writes the header into an empty file.
func (l *File) openLocked() error {
	// Never through a symbolic link, and never a FIFO or device: the file
	// may be handed to a worker's uid below, and its directory may be one
	// that less trusted users can write to.
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, l.opts.Mode)
	if err != nil {
		return fmt.Errorf("open log %s (a symbolic link is refused): %w", l.path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("open log %s: %w", l.path, err)
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return fmt.Errorf("open log %s: %w", l.path, ErrNotRegular)
	}
	if l.owner != nil {
		if err := applyOwner(f, *l.owner, l.opts.Mode); err != nil {
			f.Close()
			return err
		}
	}
	l.f, l.size, l.headerSize = f, st.Size(), 0
	if l.size == 0 {
		l.partial = false // a new file: no partial line to end
	}
	if l.size > 0 {
		l.born = birthTime(f, st)
		return nil
	}
	l.born = l.opts.Now()
	if l.opts.Header == nil {
		return nil
	}
	h := l.opts.Header()
	n, err := f.Write(h)
	l.size += int64(n)
	l.headerSize = int64(n)
	if err != nil {
		return fmt.Errorf("write log header %s: %w", l.path, err)
	}
	return nil
}

// Write appends p to the current file, rotating first when p would take
// the file past MaxSize or the file is older than MaxAge. A file holding
// nothing but its header is never rotated, so one write larger than
// MaxSize goes whole into a fresh file. When the rotation fails p still
// goes to the file at the path (the rotation is retried by the next
// write) and the rotation's error is returned with n = len(p). A write
// that fails leaves no partial line: what it wrote past the last complete
// line of p is cut back, and n counts only the bytes kept.
func (l *File) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, ErrClosed
	}
	var rerr error
	if l.f != nil && l.dueLocked(len(p)) {
		rerr = l.rotateLocked()
	}
	if l.f == nil {
		if err := l.openLocked(); err != nil {
			l.noteLocked(p, 0, err)
			return 0, errors.Join(rerr, err)
		}
	}
	n, err := l.writeWholeLocked(p)
	l.noteLocked(p, n, err)
	if err != nil {
		return n, errors.Join(rerr, fmt.Errorf("write log %s: %w", l.path, err))
	}
	return n, rerr
}

// dueLocked reports whether the current file must rotate before a write of
// n bytes.
func (l *File) dueLocked(n int) bool {
	if l.size <= l.headerSize {
		return false
	}
	if l.opts.MaxSize > 0 && l.size+int64(n) > l.opts.MaxSize {
		return true
	}
	return l.opts.MaxAge > 0 && l.opts.Now().Sub(l.born) >= l.opts.MaxAge
}

// Rotate rotates now, even a file that is empty.
func (l *File) Rotate() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	return l.rotateLocked()
}

// rotateLocked closes the current file, renames NAME.N to NAME.N+1
// (dropping the oldest) and NAME to NAME.1 (or removes NAME when Keep is
// 0) and opens a new NAME. Rename errors other than a missing file are
// returned, but a new file is opened whatever happened.
func (l *File) rotateLocked() error {
	var errs []error
	if l.f != nil {
		if err := l.f.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close log %s for rotation: %w", l.path, err))
		}
		l.f = nil
	}
	if l.opts.Keep == 0 {
		if err := os.Remove(l.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove full log: %w", err))
		}
	} else {
		if err := os.Remove(l.rotated(l.opts.Keep)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("drop oldest log: %w", err))
		}
		for n := l.opts.Keep - 1; n >= 1; n-- {
			if err := os.Rename(l.rotated(n), l.rotated(n+1)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("rotate log: %w", err))
			}
		}
		if err := os.Rename(l.path, l.rotated(1)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("rotate log: %w", err))
		}
	}
	if err := l.openLocked(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// rotated is the name of the n-th rotated file.
func (l *File) rotated(n int) string { return l.path + "." + strconv.Itoa(n) }

// Reopen closes the current file and opens the path again, for after an
// external rename (logrotate): later writes go to the file now at the path,
// which gets the header if it is new. When the open fails the next Write
// retries it.
func (l *File) Reopen() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	var errs []error
	if l.f != nil {
		if err := l.f.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close log %s: %w", l.path, err))
		}
		l.f = nil
	}
	if err := l.openLocked(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// SetOwner gives the current file, and every file the File creates from
// now on, to uid:gid with the File's mode (for a log that a less
// privileged account may read and others may not).
func (l *File) SetOwner(uid, gid int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	l.owner = &owner{uid: uid, gid: gid}
	if l.f == nil {
		return nil
	}
	return applyOwner(l.f, *l.owner, l.opts.Mode)
}

func applyOwner(f *os.File, o owner, mode os.FileMode) error {
	if err := f.Chown(o.uid, o.gid); err != nil {
		return fmt.Errorf("give log %s to %d:%d: %w", f.Name(), o.uid, o.gid, err)
	}
	if err := f.Chmod(mode); err != nil {
		return fmt.Errorf("log %s mode: %w", f.Name(), err)
	}
	return nil
}

// Close closes the current file; later writes fail with ErrClosed.
func (l *File) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	if err != nil {
		return fmt.Errorf("close log %s: %w", l.path, err)
	}
	return nil
}
