package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ErrUnavailable marks a store that could not be reached: a remote store
// (etcd) whose endpoints did not answer. Nothing was written.
var ErrUnavailable = errors.New("store unavailable")

// Backend keeps the store somewhere other than a local file: in etcd
// (package internal/etcdstore). A Store with a Backend reads, writes and
// keeps history and backups through it; the file store has none.
type Backend interface {
	// Location names the store in messages, e.g. "etcd://h1:2379/poolctl".
	Location() string
	// WebRoot is the physicalPath of a new store's default site.
	WebRoot() string
	// Read returns the store's bytes, or nil and no error when there is
	// no store yet.
	Read(ctx context.Context) ([]byte, error)
	// Write reads the current bytes (nil when there is no store yet), has
	// produce make the new ones and commits them unless they are equal,
	// atomically with respect to other writers, retrying produce on a
	// conflicting write until ctx ends (then an error wrapping
	// ErrLockTimeout). It keeps the replaced bytes as a history snapshot
	// when the new configuration's configHistory says so (HistoryLimit).
	// It reports whether it wrote.
	Write(ctx context.Context, produce func(old []byte) ([]byte, *Config, error)) (bool, error)
	// Backups lists named backups and history snapshots, in any order.
	Backups(ctx context.Context) ([]Backup, error)
	// ReadBackup returns the bytes of a backup Backups listed.
	ReadBackup(ctx context.Context, b Backup) ([]byte, error)
	// AddBackup stores data as the named backup; an existing one with
	// the name (compared case-insensitively) is an error wrapping ErrExists.
	AddBackup(ctx context.Context, name string, data []byte) error
	// DeleteBackup removes a backup Backups listed.
	DeleteBackup(ctx context.Context, b Backup) error
}

// OpenBackend returns the store kept by b. Its Path is b.Location().
func OpenBackend(b Backend) *Store { return &Store{Path: b.Location(), backend: b} }

// Backend returns the Backend that keeps the store, or nil for the file
// store. Parts of poolctl that keep more than the store beside it (the
// farm, package internal/farm) type-assert it to the backend they know.
func (s *Store) Backend() Backend { return s.backend }

// Remote reports whether the store is kept by a Backend rather than a file.
func (s *Store) Remote() bool { return s.backend != nil }

// HistoryLimit returns the effective configHistory settings that a Backend
// applies: whether snapshots are kept, and how many at most.
// (configHistory.path names a directory and applies to the file store only.)
func (c *Config) HistoryLimit() (enabled bool, keep uint64) {
	enabled, _ = c.historySetting("enabled").(bool)
	keep, _ = c.historySetting("maxHistories").(uint64)
	return enabled, keep
}

// HasScheme reports whether a --config value is a URL ("etcd://…") rather
// than a file path, and returns its scheme. A path may contain ':' but
// never "://" right after a scheme-like first element.
func HasScheme(spec string) (scheme string, ok bool) {
	i := strings.Index(spec, "://")
	if i <= 0 {
		return "", false
	}
	for j, r := range spec[:i] {
		alpha := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !alpha && (j == 0 || !(r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return "", false
		}
	}
	return strings.ToLower(spec[:i]), true
}

// failedBackend is a store that could not be opened: every operation
// returns the error, so that commands that never touch the store still run.
type failedBackend struct {
	location string
	err      error
}

// OpenFailed returns a store whose every read and write fails with err; the
// tool uses it for a --config it cannot open (an unknown scheme).
func OpenFailed(location string, err error) *Store {
	return OpenBackend(failedBackend{location: location, err: err})
}

func (f failedBackend) Location() string                     { return f.location }
func (f failedBackend) WebRoot() string                      { return "" }
func (f failedBackend) Read(context.Context) ([]byte, error) { return nil, f.err }
func (f failedBackend) Write(context.Context, func([]byte) ([]byte, *Config, error)) (bool, error) {
	return false, f.err
}
func (f failedBackend) Backups(context.Context) ([]Backup, error) { return nil, f.err }
func (f failedBackend) ReadBackup(context.Context, Backup) ([]byte, error) {
	return nil, f.err
}
func (f failedBackend) AddBackup(context.Context, string, []byte) error { return f.err }
func (f failedBackend) DeleteBackup(context.Context, Backup) error      { return f.err }

// UnknownSchemeError is the error for a --config URL whose scheme poolctl
// does not know; it wraps ErrInvalid.
func UnknownSchemeError(spec, scheme string, known ...string) error {
	return fmt.Errorf("%w: --config %q: unknown store scheme %q; give a file path or %s", ErrInvalid, spec, scheme, strings.Join(known, ", "))
}

// readBackend is Read for a Backend: a missing store is created first.
func (s *Store) readBackend(ctx context.Context) ([]byte, error) {
	data, err := s.backend.Read(ctx)
	if err == nil && data == nil {
		if _, err = s.Update(ctx, func(*Config) error { return nil }); err != nil {
			return nil, err
		}
		data, err = s.backend.Read(ctx)
	}
	if err != nil {
		return nil, err
	}
	if data == nil {
		return nil, fmt.Errorf("read store %s: it vanished after it was created: %w", s.Path, ErrUnavailable)
	}
	return data, nil
}
