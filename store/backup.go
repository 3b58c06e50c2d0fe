package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Backup is a named copy of the store, or a history snapshot.
type Backup struct {
	Name    string    // "20261121T173000", "before-upgrade", "CFGHISTORY_0000000003"
	History bool      // a configHistory snapshot rather than a named backup
	Time    time.Time // when it was taken (the file's modification time)
	Path    string
}

// ValidateBackupName checks a backup name: letters, digits, '.', '_' and
// '-', starting with a letter or digit, at most 100 characters.
func ValidateBackupName(name string) error {
	ok := name != "" && len(name) <= 100
	for i, r := range name {
		alnum := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		if !alnum && (i == 0 || !strings.ContainsRune("._-", r)) {
			ok = false
		}
	}
	if !ok {
		return invalidf("backup", name, "name", "expected letters, digits, '.', '_' and '-', starting with a letter or digit, at most 100 characters")
	}
	return nil
}

// Backups lists named backups and history snapshots, sorted by name.
func (s *Store) Backups(c *Config) ([]Backup, error) {
	if s.backend != nil {
		out, err := s.backend.Backups(context.Background())
		sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
		return out, err
	}
	var out []Backup
	for _, src := range []struct {
		dir     string
		history bool
	}{{s.BackupDir(), false}, {s.HistoryDir(c), true}} {
		entries, err := os.ReadDir(src.dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("list backups: %w", err)
		}
		for _, e := range entries {
			name, ok := strings.CutSuffix(e.Name(), ".toml")
			if !ok || strings.HasPrefix(name, ".") || strings.HasPrefix(name, HistoryPrefix) != src.history {
				continue
			}
			b := Backup{Name: name, History: src.history, Path: filepath.Join(src.dir, e.Name())}
			if fi, err := e.Info(); err == nil {
				b.Time = fi.ModTime()
			}
			out = append(out, b)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// FindBackup returns the backup or snapshot with the name; names compare
// case-insensitively, as every other name does.
func (s *Store) FindBackup(c *Config, name string) (Backup, error) {
	all, err := s.Backups(c)
	if err != nil {
		return Backup{}, err
	}
	for _, b := range all {
		if strings.EqualFold(b.Name, name) {
			return b, nil
		}
	}
	return Backup{}, NotFound("backup", name)
}

// AddBackup copies the current store to a named backup; an empty name
// becomes the local time as yyyyMMddTHHmmss. It returns the name used.
func (s *Store) AddBackup(ctx context.Context, name string, now time.Time) (string, error) {
	if name == "" {
		name = now.Format("20060102T150405")
	}
	if err := ValidateBackupName(name); err != nil {
		return "", err
	}
	if strings.HasPrefix(name, HistoryPrefix) {
		return "", invalidf("backup", name, "name", "names starting with %s are kept for history snapshots", HistoryPrefix)
	}
	data, err := s.Read(ctx)
	if err != nil {
		return "", err
	}
	if s.backend != nil {
		return name, s.backend.AddBackup(ctx, name, data)
	}
	unlock, err := lockFile(ctx, s.Path+".lock")
	if err != nil {
		return "", err
	}
	defer unlock()
	perm := s.storePerm()
	if err := mkdirPerm(s.BackupDir(), perm, true); err != nil {
		return "", fmt.Errorf("create backup directory: %w", err)
	}
	path := filepath.Join(s.BackupDir(), name+".toml")
	if old, err := s.FindBackup(&Config{}, name); err == nil && !old.History {
		return "", Exists("backup", name, old.Name)
	}
	if err := writeAtomic(path, data, perm); err != nil {
		return "", err
	}
	return name, nil
}

// RestoreBackup validates the backup and makes it the store; the replaced
// store is kept as a history snapshot.
func (s *Store) RestoreBackup(ctx context.Context, c *Config, name string) error {
	b, err := s.FindBackup(c, name)
	if err != nil {
		return err
	}
	data, err := s.readBackup(ctx, b)
	if err != nil {
		return err
	}
	if err := s.Replace(ctx, data); err != nil {
		if errors.Is(err, ErrInvalid) {
			return fmt.Errorf("backup %q cannot be restored: %w; the store was not changed (fix or delete %s)", name, err, b.Path)
		}
		return fmt.Errorf("backup %q cannot be restored: %w", name, err)
	}
	return nil
}

// DeleteBackup removes a named backup or a history snapshot.
func (s *Store) DeleteBackup(c *Config, name string) error {
	b, err := s.FindBackup(c, name)
	if err != nil {
		return err
	}
	if s.backend != nil {
		return s.backend.DeleteBackup(context.Background(), b)
	}
	if err := os.Remove(b.Path); err != nil {
		return fmt.Errorf("delete backup: %w", err)
	}
	return nil
}

// readBackup returns the bytes of a listed backup.
func (s *Store) readBackup(ctx context.Context, b Backup) ([]byte, error) {
	if s.backend != nil {
		return s.backend.ReadBackup(ctx, b)
	}
	data, err := os.ReadFile(b.Path)
	if err != nil {
		return nil, fmt.Errorf("read backup: %w", err)
	}
	return data, nil
}

// isBackupFile reports a named backup's file name.
func isBackupFile(name string) bool {
	return strings.HasSuffix(name, ".toml") && !strings.HasPrefix(name, ".")
}
