package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Store is the configuration file at Path, with its lock, history and
// backups beside it.
type Store struct {
	Path    string
	backend Backend // nil for the file store (backend.go)
}

// Open returns the store at path. Nothing is read until Load or Update.
func Open(path string) *Store { return &Store{Path: path} }

// DefaultPath is where the store lives when neither --config nor
// $POOLCTL_CONFIG says: /etc/poolctl for root, the XDG config directory
// otherwise.
func DefaultPath() string {
	if os.Geteuid() == 0 {
		return "/etc/poolctl/applicationHost.toml"
	}
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = "."
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "poolctl", "applicationHost.toml")
}

// Dir is the directory holding the store.
func (s *Store) Dir() string { return filepath.Dir(s.Path) }

// BackupDir holds named backups.
func (s *Store) BackupDir() string { return filepath.Join(s.Dir(), "backup") }

// WebRoot holds the welcome page of a new store's default site. It is
// absolute: the default site stores it, and the host may run elsewhere.
func (s *Store) WebRoot() string {
	if s.backend != nil {
		return s.backend.WebRoot()
	}
	dir := filepath.Join(s.Dir(), "wwwroot")
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return dir
}

// Load reads and validates the store without locking: the atomic replace
// guarantees a whole file. A missing store is created first, with the
// default pool and site.
func (s *Store) Load(ctx context.Context) (*Config, error) {
	data, err := s.Read(ctx)
	if err != nil {
		return nil, err
	}
	c, err := Parse(data)
	if err != nil {
		return nil, s.invalidStore(err)
	}
	c.storeVersion = VersionOf(data)
	return c, nil
}

// Read returns the store's bytes, creating a missing store first.
func (s *Store) Read(ctx context.Context) ([]byte, error) {
	if s.backend != nil {
		return s.readBackend(ctx)
	}
	data, err := os.ReadFile(s.Path)
	if errors.Is(err, fs.ErrNotExist) {
		if _, err := s.Update(ctx, func(*Config) error { return nil }); err != nil {
			return nil, err
		}
		data, err = os.ReadFile(s.Path)
	}
	if err != nil {
		return nil, fmt.Errorf("read store: %w", err)
	}
	return data, nil
}

func (s *Store) invalidStore(err error) error {
	return &InvalidStoreError{Path: s.Path, Err: asInvalid(err)}
}

// asInvalid marks err, the reason a file is not a valid store, with
// ErrInvalid, also when it is a duplicate name (ErrExists): the file is
// invalid, whatever the rule it breaks.
func asInvalid(err error) error {
	if errors.Is(err, ErrInvalid) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrInvalid, err)
}

// Update applies fn to the configuration under the store's exclusive lock,
// validates the result and writes it atomically, keeping the previous file
// as a history snapshot. Nothing is written when fn fails, when the result is
// invalid, or when it is byte-identical to the current file; changed says
// whether a write happened.
func (s *Store) Update(ctx context.Context, fn func(*Config) error) (changed bool, err error) {
	return s.update(ctx, func(old []byte) ([]byte, *Config, error) {
		var c *Config
		if old == nil {
			c = s.newDefault()
		} else {
			var err error
			if c, err = Unmarshal(old); err != nil {
				return nil, nil, s.invalidStore(err)
			}
		}
		if err := fn(c); err != nil {
			return nil, nil, err
		}
		if err := c.Validate(); err != nil {
			// Blame the file, not the change, when it was invalid before.
			if _, perr := Parse(old); old != nil && perr != nil {
				return nil, nil, s.invalidStore(perr)
			}
			return nil, nil, err
		}
		data, err := Marshal(c)
		c.storeVersion = VersionOf(data)
		return data, c, err
	})
}

// Replace writes data, a whole store file, in place of the current one,
// after validating it; restore uses it.
func (s *Store) Replace(ctx context.Context, data []byte) error {
	c, err := Parse(data)
	if err != nil {
		return asInvalid(err)
	}
	_, err = s.update(ctx, func([]byte) ([]byte, *Config, error) { return data, c, nil })
	return err
}

// update runs produce under the lock and writes what it returns unless it
// equals the current file. produce also returns the new configuration,
// whose configHistory settings govern the snapshot of the old file.
func (s *Store) update(ctx context.Context, produce func(old []byte) ([]byte, *Config, error)) (bool, error) {
	if s.backend != nil {
		return s.backend.Write(ctx, produce)
	}
	if err := mkdirStore(s.Dir()); err != nil {
		return false, fmt.Errorf("create store directory: %w", err)
	}
	unlock, err := lockFile(ctx, s.Path+".lock")
	if err != nil {
		return false, err
	}
	defer unlock()
	s.removeOrphanTemps()
	old, err := os.ReadFile(s.Path)
	perm := privatePerm
	switch {
	case errors.Is(err, fs.ErrNotExist):
		old = nil
		if err := s.writeWelcome(); err != nil {
			return false, err
		}
	case err != nil:
		return false, fmt.Errorf("read store: %w", err)
	default:
		perm = s.storePerm()
	}
	data, next, err := produce(old)
	if err != nil {
		return false, err
	}
	if old != nil && bytes.Equal(data, old) {
		return false, nil
	}
	var pending *pendingSnapshot
	if old != nil {
		// Narrow the file first: the snapshot is a hard link of it.
		if err := narrowFile(s.Path, perm); err != nil {
			return false, err
		}
		if pending, err = s.prepareSnapshot(old, next, perm); err != nil {
			return false, err
		}
	}
	if err := writeFileAtomic(s.Path, data, perm); err != nil {
		pending.discard()
		return false, err
	}
	if err := pending.commit(); err != nil {
		return true, fmt.Errorf("the store was written, but its history was not kept: %w", err)
	}
	// Backups an older poolctl left readable by others become private.
	if err := narrowDir(s.BackupDir(), perm, true, isBackupFile); err != nil {
		return true, fmt.Errorf("the store was written: %w", err)
	}
	return true, nil
}

// mkdirStore creates a missing store directory with storeDirMode. An
// existing one is left as the operator made it.
func mkdirStore(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, storeDirMode); err != nil {
		return err
	}
	return os.Chmod(dir, storeDirMode) // the umask may have taken o+x
}

func (s *Store) newDefault() *Config {
	return &Config{
		Version:          FormatVersion,
		ApplicationPools: []AppPool{{Name: DefaultPoolName}},
		Sites: []Site{{
			Name:     DefaultSiteName,
			ID:       1,
			Bindings: []Binding{{Protocol: "http", BindingInformation: "*:8080:"}},
			Applications: []Application{{
				Path: "/", ApplicationPool: DefaultPoolName, PhysicalPath: s.WebRoot(),
			}},
		}},
	}
}

const welcomePage = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>poolctl</title></head>
<body><h1>poolctl is serving this site</h1>
<p>This is the welcome page of "Default Web Site", served by the pool DefaultAppPool.
Point the site at your content with
<code>poolctl set app "Default Web Site/" /physicalPath:/srv/www</code>.</p>
</body></html>
`

func (s *Store) writeWelcome() error {
	if err := os.MkdirAll(s.WebRoot(), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", s.WebRoot(), err)
	}
	index := filepath.Join(s.WebRoot(), "index.html")
	if _, err := os.Stat(index); err == nil {
		return nil
	}
	return writeAtomic(index, []byte(welcomePage), filePerm{mode: 0o644, gid: -1})
}

// removeOrphanTemps deletes temporary files of writers that were killed
// before their rename. Writers create them only while holding the lock, so
// any found by the lock holder belong to a dead writer.
func (s *Store) removeOrphanTemps() {
	matches, _ := filepath.Glob(filepath.Join(s.Dir(), "."+filepath.Base(s.Path)+".tmp-*"))
	for _, m := range matches {
		_ = os.Remove(m)
	}
}
