package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// newStore returns a store in a fresh directory, created with its defaults.
func newStore(t *testing.T) *Store {
	t.Helper()
	s := Open(filepath.Join(t.TempDir(), "applicationHost.toml"))
	if _, err := s.Load(context.Background()); err != nil {
		t.Fatalf("Load: %v", err)
	}
	return s
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// snapshots returns the names of the history snapshots of the store's
// default history directory, ascending.
func snapshots(t *testing.T, s *Store) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(s.Dir(), "history"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// setQueueLength is an Update function that sets DefaultAppPool's
// queueLength.
func setQueueLength(n uint64) func(*Config) error {
	return func(c *Config) error {
		p := c.Pool(DefaultPoolName)
		if p == nil {
			return NotFound("apppool", DefaultPoolName)
		}
		p.QueueLength = ptr(n)
		return nil
	}
}

func TestLoadCreatesDefaultStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sub", "dir")
	s := Open(filepath.Join(dir, "applicationHost.toml"))
	c, err := s.Load(context.Background())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(c.ApplicationPools) != 1 || c.ApplicationPools[0].Name != DefaultPoolName {
		t.Errorf("pools = %+v, want only %s", c.ApplicationPools, DefaultPoolName)
	}
	if c.ApplicationPools[0].PoolSettings != (PoolSettings{}) {
		t.Errorf("the default pool sets values: %+v", c.ApplicationPools[0].PoolSettings)
	}
	if len(c.Sites) != 1 {
		t.Fatalf("sites = %+v", c.Sites)
	}
	site := c.Sites[0]
	if site.Name != DefaultSiteName || site.ID != 1 {
		t.Errorf("site = %q id %d", site.Name, site.ID)
	}
	if want := []Binding{{Protocol: "http", BindingInformation: "*:8080:"}}; !slices.Equal(site.Bindings, want) {
		t.Errorf("bindings = %v, want %v", site.Bindings, want)
	}
	if len(site.Applications) != 1 {
		t.Fatalf("applications = %+v", site.Applications)
	}
	app := site.Applications[0]
	if app.Path != "/" || app.ApplicationPool != DefaultPoolName || app.PhysicalPath != filepath.Join(dir, "wwwroot") {
		t.Errorf("root app = %+v", app)
	}
	index := readFile(t, filepath.Join(dir, "wwwroot", "index.html"))
	if !bytes.Contains(index, []byte("poolctl")) {
		t.Errorf("index.html = %q", index)
	}
	data := readFile(t, s.Path)
	if _, err := Parse(data); err != nil {
		t.Errorf("the new store does not parse: %v", err)
	}
	if names := snapshots(t, s); len(names) != 0 {
		t.Errorf("creating the store took snapshots: %v", names)
	}
	// A second Load reads the same file and does not write.
	fi, _ := os.Stat(s.Path)
	if _, err := s.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if fi2, _ := os.Stat(s.Path); !os.SameFile(fi, fi2) {
		t.Errorf("the second Load replaced the file")
	}
}

func TestLoadKeepsExistingIndex(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "wwwroot"), 0o755); err != nil {
		t.Fatal(err)
	}
	index := filepath.Join(dir, "wwwroot", "index.html")
	if err := os.WriteFile(index, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(filepath.Join(dir, "applicationHost.toml")).Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, index); string(got) != "mine" {
		t.Errorf("index.html overwritten: %q", got)
	}
}

func TestLoadInvalidStore(t *testing.T) {
	tests := []struct {
		name   string
		data   string
		errSub string
	}{
		{"syntax", "version = = 1\n", "line 1"},
		{"unknown key", "version = 1\nbogus = 2\n", "unknown key bogus"},
		{"invalid value", "version = 1\n[applicationPoolDefaults]\nqueueLength = 1\n", "queueLength"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Open(filepath.Join(t.TempDir(), "applicationHost.toml"))
			if err := os.WriteFile(s.Path, []byte(tt.data), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := s.Load(context.Background())
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Load = %v, want ErrInvalid", err)
			}
			for _, sub := range []string{tt.errSub, s.Path} {
				if !strings.Contains(err.Error(), sub) {
					t.Errorf("error %q does not contain %q", err, sub)
				}
			}
			// The tool words how to fix it (restore a snapshot).
			var ise *InvalidStoreError
			if !errors.As(err, &ise) || ise.Path != s.Path {
				t.Errorf("error %#v, want an InvalidStoreError for %s", err, s.Path)
			}
			// Update blames the file, and writes nothing.
			_, err = s.Update(context.Background(), func(*Config) error { return nil })
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), s.Path) {
				t.Errorf("Update = %v, want ErrInvalid naming the file", err)
			}
			if got := readFile(t, s.Path); string(got) != tt.data {
				t.Errorf("the invalid store was rewritten: %q", got)
			}
		})
	}
}

func TestUpdate(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	changed, err := s.Update(ctx, setQueueLength(2000))
	if err != nil || !changed {
		t.Fatalf("Update = %v, %v; want true, nil", changed, err)
	}
	c, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if q := c.Pool(DefaultPoolName).QueueLength; q == nil || *q != 2000 {
		t.Errorf("queueLength = %v, want 2000", q)
	}
	if !bytes.Contains(readFile(t, s.Path), []byte("queueLength = 2000")) {
		t.Errorf("the file does not hold the change:\n%s", readFile(t, s.Path))
	}
	// No temporary files are left behind.
	entries, _ := os.ReadDir(s.Dir())
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

func TestUpdateNoChange(t *testing.T) {
	tests := []struct {
		name string
		fn   func(*Config) error
	}{
		{"no-op", func(*Config) error { return nil }},
		{"same value again", setQueueLength(2000)},
		{"same time span other spelling", func(c *Config) error {
			c.Pool(DefaultPoolName).ProcessModel = &ProcessModel{IdleTimeout: ptr(TimeSpan(29 * time.Hour))}
			return nil
		}},
		{"empty section", func(c *Config) error {
			c.Pool(DefaultPoolName).CPU = &CPU{}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			ctx := context.Background()
			if _, err := s.Update(ctx, func(c *Config) error {
				c.Pool(DefaultPoolName).QueueLength = ptr(uint64(2000))
				c.Pool(DefaultPoolName).ProcessModel = &ProcessModel{IdleTimeout: ptr(TimeSpan(29 * time.Hour))}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			before := readFile(t, s.Path)
			// Make an unwanted rewrite visible even on a coarse clock.
			old := time.Now().Add(-time.Hour).Truncate(time.Second)
			if err := os.Chtimes(s.Path, old, old); err != nil {
				t.Fatal(err)
			}
			fi, _ := os.Stat(s.Path)
			snaps := snapshots(t, s)
			changed, err := s.Update(ctx, tt.fn)
			if err != nil || changed {
				t.Fatalf("Update = %v, %v; want false, nil", changed, err)
			}
			if after := readFile(t, s.Path); !bytes.Equal(before, after) {
				t.Errorf("the file changed:\n%s\n---\n%s", before, after)
			}
			fi2, _ := os.Stat(s.Path)
			if !fi2.ModTime().Equal(fi.ModTime()) || !os.SameFile(fi, fi2) {
				t.Errorf("the file was rewritten: mtime %v -> %v", fi.ModTime(), fi2.ModTime())
			}
			if got := snapshots(t, s); !slices.Equal(got, snaps) {
				t.Errorf("snapshots %v -> %v: a no-op took a snapshot", snaps, got)
			}
		})
	}
}

func TestUpdateFailureWritesNothing(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name    string
		fn      func(*Config) error
		wantErr error
	}{
		{"fn fails", func(c *Config) error {
			c.Pool(DefaultPoolName).QueueLength = ptr(uint64(3000))
			return errBoom
		}, errBoom},
		{"fn fails with a store error", func(c *Config) error {
			c.ApplicationPools = nil
			return NotFound("apppool", "X")
		}, ErrNotFound},
		{"out of range", setQueueLength(1), ErrInvalid},
		{"missing pool reference", func(c *Config) error {
			c.ApplicationPools = nil
			return nil
		}, ErrInvalid},
		{"duplicate pool", func(c *Config) error {
			c.ApplicationPools = append(c.ApplicationPools, AppPool{Name: "defaultapppool"})
			return nil
		}, ErrExists},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			before := readFile(t, s.Path)
			fi, _ := os.Stat(s.Path)
			changed, err := s.Update(context.Background(), tt.fn)
			if !errors.Is(err, tt.wantErr) || changed {
				t.Fatalf("Update = %v, %v; want false, %v", changed, err, tt.wantErr)
			}
			if after := readFile(t, s.Path); !bytes.Equal(before, after) {
				t.Errorf("the file changed:\n%s", after)
			}
			if fi2, _ := os.Stat(s.Path); !os.SameFile(fi, fi2) {
				t.Errorf("the file was replaced")
			}
			if got := snapshots(t, s); len(got) != 0 {
				t.Errorf("a failed update took snapshots: %v", got)
			}
			// The lock was released: the next update goes through.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if _, err := s.Update(ctx, setQueueLength(20)); err != nil {
				t.Errorf("Update after a failure: %v", err)
			}
		})
	}
}

func TestHistorySnapshots(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	var files [][]byte // the store before each update
	for i := range 4 {
		files = append(files, readFile(t, s.Path))
		if _, err := s.Update(ctx, setQueueLength(uint64(100+i))); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"CFGHISTORY_0000000001.toml", "CFGHISTORY_0000000002.toml", "CFGHISTORY_0000000003.toml", "CFGHISTORY_0000000004.toml"}
	if got := snapshots(t, s); !slices.Equal(got, want) {
		t.Fatalf("snapshots = %v, want %v", got, want)
	}
	for i, name := range want {
		if got := readFile(t, filepath.Join(s.Dir(), "history", name)); !bytes.Equal(got, files[i]) {
			t.Errorf("%s does not hold the file before update %d:\n%s\n---\n%s", name, i+1, got, files[i])
		}
	}
	// Snapshots are never rewritten by later updates.
	if got := readFile(t, filepath.Join(s.Dir(), "history", want[0])); bytes.Contains(got, []byte("queueLength")) {
		t.Errorf("the first snapshot changed:\n%s", got)
	}
}

func TestHistoryPruned(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	if _, err := s.Update(ctx, func(c *Config) error {
		f := HistorySchema.Field("maxHistories")
		v, err := f.Parse("3")
		if err != nil {
			return err
		}
		f.Set(&c.ConfigHistory, v)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var last []byte
	for i := range 6 {
		last = readFile(t, s.Path)
		if _, err := s.Update(ctx, setQueueLength(uint64(100+i))); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"CFGHISTORY_0000000005.toml", "CFGHISTORY_0000000006.toml", "CFGHISTORY_0000000007.toml"}
	if got := snapshots(t, s); !slices.Equal(got, want) {
		t.Fatalf("snapshots = %v, want %v", got, want)
	}
	if got := readFile(t, filepath.Join(s.Dir(), "history", want[2])); !bytes.Equal(got, last) {
		t.Errorf("the newest snapshot is not the file before the last update")
	}
}

func TestHistoryDisabledAndPath(t *testing.T) {
	t.Run("disabled", func(t *testing.T) {
		s := newStore(t)
		ctx := context.Background()
		if _, err := s.Update(ctx, func(c *Config) error {
			c.ConfigHistory.Enabled = ptr(false)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Update(ctx, setQueueLength(100)); err != nil {
			t.Fatal(err)
		}
		if got := snapshots(t, s); len(got) != 0 {
			t.Errorf("snapshots with history disabled: %v", got)
		}
	})
	t.Run("path", func(t *testing.T) {
		s := newStore(t)
		ctx := context.Background()
		other := filepath.Join(t.TempDir(), "snaps")
		if _, err := s.Update(ctx, func(c *Config) error {
			c.ConfigHistory.Path = ptr(other)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		entries, err := os.ReadDir(other)
		if err != nil || len(entries) != 1 || entries[0].Name() != "CFGHISTORY_0000000001.toml" {
			t.Errorf("history in %s = %v, %v", other, entries, err)
		}
		c, _ := s.Load(ctx)
		if got := s.HistoryDir(c); got != other {
			t.Errorf("HistoryDir = %s, want %s", got, other)
		}
	})
}

func TestFileModeNarrowed(t *testing.T) {
	s := newStore(t)
	if fi, _ := os.Stat(s.Path); fi.Mode().Perm() != 0o600 {
		t.Errorf("new store mode = %v, want 0600", fi.Mode().Perm())
	}
	// Group read in the writer's own group is no reader group: narrowed.
	if err := os.Chmod(s.Path, 0o640); err != nil {
		t.Fatal(err)
	}
	if changed, err := s.Update(context.Background(), setQueueLength(500)); err != nil || !changed {
		t.Fatalf("Update = %v, %v", changed, err)
	}
	if fi, _ := os.Stat(s.Path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode after Update = %v, want 0600", fi.Mode().Perm())
	}
}

// holdLock takes the store's lock the way another poolctl would, and
// returns the function that releases it.
func holdLock(t *testing.T, s *Store) func() {
	t.Helper()
	f, err := os.OpenFile(s.Path+".lock", os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		t.Fatal(err)
	}
	return func() { f.Close() }
}

func TestLockTimeout(t *testing.T) {
	s := newStore(t)
	before := readFile(t, s.Path)
	release := holdLock(t, s)
	defer release()
	ops := []struct {
		name string
		op   func(ctx context.Context) error
	}{
		{"Update", func(ctx context.Context) error {
			_, err := s.Update(ctx, setQueueLength(2000))
			return err
		}},
		{"Replace", func(ctx context.Context) error { return s.Replace(ctx, before) }},
		{"AddBackup", func(ctx context.Context) error {
			_, err := s.AddBackup(ctx, "locked", time.Now())
			return err
		}},
	}
	for _, tt := range ops {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := tt.op(ctx)
			if !errors.Is(err, ErrLockTimeout) {
				t.Fatalf("%s = %v, want ErrLockTimeout", tt.name, err)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %v does not carry the context's reason", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("%s took %v to give up", tt.name, d)
			}
		})
	}
	if got := readFile(t, s.Path); !bytes.Equal(got, before) {
		t.Errorf("the store changed while locked")
	}
	// Once the lock is free, the update goes through.
	release()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if changed, err := s.Update(ctx, setQueueLength(2000)); err != nil || !changed {
		t.Errorf("Update after release = %v, %v", changed, err)
	}
}

// lockOpeners counts this process's open descriptors of path.
func lockOpeners(t *testing.T, path string) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	n := 0
	for _, e := range entries {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil && target == path {
			n++
		}
	}
	return n
}

// TestLockWaits checks that an update waiting for the lock goes through
// once the holder releases it, and not before.
func TestLockWaits(t *testing.T) {
	s := newStore(t)
	release := holdLock(t, s)
	var released atomic.Bool
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := s.Update(ctx, func(c *Config) error {
			if !released.Load() {
				return errors.New("fn ran while another process held the lock")
			}
			return setQueueLength(2000)(c)
		})
		done <- err
	}()
	// Wait until the updater has opened the lock file: it is then polling
	// for the lock we hold.
	deadline := time.Now().Add(10 * time.Second)
	for lockOpeners(t, s.Path+".lock") < 2 {
		select {
		case err := <-done:
			release()
			t.Fatalf("Update returned %v while the lock was held", err)
		default:
		}
		if time.Now().After(deadline) {
			release()
			t.Fatal("the updater never opened the lock file")
		}
		runtime.Gosched()
	}
	released.Store(true)
	release()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Update did not finish after the lock was released")
	}
	if !bytes.Contains(readFile(t, s.Path), []byte("queueLength = 2000")) {
		t.Errorf("the waiting update was lost")
	}
}

func TestReplace(t *testing.T) {
	ctx := context.Background()
	t.Run("valid", func(t *testing.T) {
		s := newStore(t)
		before := readFile(t, s.Path)
		c := validConfig()
		data, err := Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Replace(ctx, data); err != nil {
			t.Fatal(err)
		}
		if got := readFile(t, s.Path); !bytes.Equal(got, data) {
			t.Errorf("the store is not the replacement")
		}
		if got := readFile(t, filepath.Join(s.Dir(), "history", "CFGHISTORY_0000000001.toml")); !bytes.Equal(got, before) {
			t.Errorf("the replaced file was not kept as a snapshot")
		}
	})
	invalid := []struct{ name, data string }{
		{"syntax", "version = [\n"},
		{"unknown key", "version = 1\nnope = 1\n"},
		{"missing version", "[configHistory]\n"},
		{"invalid value", "version = 1\n[[applicationPools]]\nname = \"a:b\"\n"},
		{"newer version", "version = 99\n"},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			before := readFile(t, s.Path)
			err := s.Replace(ctx, []byte(tt.data))
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Replace = %v, want ErrInvalid", err)
			}
			if got := readFile(t, s.Path); !bytes.Equal(got, before) {
				t.Errorf("the store changed")
			}
			if got := snapshots(t, s); len(got) != 0 {
				t.Errorf("snapshots taken: %v", got)
			}
		})
	}
}

func TestValidateBackupName(t *testing.T) {
	tests := []struct {
		name  string
		valid bool
	}{
		{"20261121T173000", true},
		{"before-upgrade", true},
		{"v1.2_final", true},
		{"A", true},
		{strings.Repeat("b", 100), true},
		{"", false},
		{strings.Repeat("b", 101), false},
		{".hidden", false},
		{"-dash", false},
		{"_under", false},
		{"a/b", false},
		{"../up", false},
		{"a b", false},
		{"naïve", false},
		{"a\x00", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateBackupName(tt.name)
			if tt.valid != (err == nil) {
				t.Fatalf("ValidateBackupName(%q) = %v, want valid %v", tt.name, err, tt.valid)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v is not ErrInvalid", err)
			}
		})
	}
}

func TestAddBackup(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 21, 17, 30, 5, 0, time.UTC)
	tests := []struct {
		name    string
		add     string
		want    string
		wantErr error
	}{
		{"default name from the time", "", "20261121T173005", nil},
		{"named", "before-upgrade", "before-upgrade", nil},
		{"invalid name", "a/b", "", ErrInvalid},
		{"hidden name", ".x", "", ErrInvalid},
		{"too long", strings.Repeat("x", 101), "", ErrInvalid},
		{"history prefix", "CFGHISTORY_0000000001", "", ErrInvalid},
		{"history prefix other suffix", "CFGHISTORY_mine", "", ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			got, err := s.AddBackup(ctx, tt.add, now)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("AddBackup(%q) = %q, %v; want %v", tt.add, got, err, tt.wantErr)
				}
				if entries, _ := os.ReadDir(s.BackupDir()); len(entries) != 0 {
					t.Errorf("a refused backup left files: %v", entries)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("AddBackup(%q) = %q, %v; want %q", tt.add, got, err, tt.want)
			}
			if b := readFile(t, filepath.Join(s.BackupDir(), tt.want+".toml")); !bytes.Equal(b, readFile(t, s.Path)) {
				t.Errorf("the backup is not a copy of the store")
			}
			// The same name again is refused, and the backup is kept.
			if _, err := s.Update(ctx, setQueueLength(3000)); err != nil {
				t.Fatal(err)
			}
			_, err = s.AddBackup(ctx, tt.add, now)
			if !errors.Is(err, ErrExists) {
				t.Fatalf("second AddBackup(%q) = %v, want ErrExists", tt.add, err)
			}
			if b := readFile(t, filepath.Join(s.BackupDir(), tt.want+".toml")); bytes.Contains(b, []byte("3000")) {
				t.Errorf("the existing backup was overwritten")
			}
		})
	}
	t.Run("creates a missing store", func(t *testing.T) {
		s := Open(filepath.Join(t.TempDir(), "applicationHost.toml"))
		name, err := s.AddBackup(ctx, "", now)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(readFile(t, filepath.Join(s.BackupDir(), name+".toml"))); err != nil {
			t.Errorf("the backup of a new store does not parse: %v", err)
		}
	})
}

func TestBackupsListFindDelete(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, name := range []string{"zeta", "", "Alpha"} {
		if _, err := s.AddBackup(ctx, name, now); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 2 {
		if _, err := s.Update(ctx, setQueueLength(uint64(100+i))); err != nil {
			t.Fatal(err)
		}
	}
	// Files that are not backups are left out.
	for _, p := range []string{filepath.Join(s.BackupDir(), "notes.txt"), filepath.Join(s.BackupDir(), ".tmp.toml"),
		filepath.Join(s.BackupDir(), "CFGHISTORY_0000000099.toml"), filepath.Join(s.Dir(), "history", "other.toml")} {
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	list, err := s.Backups(c)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range list {
		names = append(names, b.Name)
		if b.History != strings.HasPrefix(b.Name, HistoryPrefix) {
			t.Errorf("%s: History = %v", b.Name, b.History)
		}
		if b.Time.IsZero() || !strings.HasSuffix(b.Path, b.Name+".toml") {
			t.Errorf("%s: time %v path %s", b.Name, b.Time, b.Path)
		}
	}
	want := []string{"20260102T030405", "Alpha", "CFGHISTORY_0000000001", "CFGHISTORY_0000000002", "zeta"}
	if !slices.Equal(names, want) {
		t.Fatalf("Backups = %q, want %q", names, want)
	}

	tests := []struct {
		name    string
		wantErr error
	}{
		{"Alpha", nil},
		{"CFGHISTORY_0000000001", nil},
		{"missing", ErrNotFound},
		{"notes", ErrNotFound},
		{"other", ErrNotFound},
	}
	for _, tt := range tests {
		t.Run("find "+tt.name, func(t *testing.T) {
			b, err := s.FindBackup(c, tt.name)
			if !errors.Is(err, tt.wantErr) && (tt.wantErr != nil || err != nil) {
				t.Fatalf("FindBackup(%q) = %+v, %v; want %v", tt.name, b, err, tt.wantErr)
			}
			if err == nil && b.Name != tt.name {
				t.Errorf("FindBackup(%q) = %+v", tt.name, b)
			}
		})
	}
	// Backup names compare case-insensitively, like every other name.
	if b, err := s.FindBackup(c, "alpha"); err != nil || b.Name != "Alpha" {
		t.Errorf(`FindBackup("alpha") = %+v, %v; want Alpha`, b, err)
	}
	for _, tt := range tests {
		t.Run("delete "+tt.name, func(t *testing.T) {
			err := s.DeleteBackup(c, tt.name)
			if !errors.Is(err, tt.wantErr) && (tt.wantErr != nil || err != nil) {
				t.Fatalf("DeleteBackup(%q) = %v; want %v", tt.name, err, tt.wantErr)
			}
			if tt.wantErr == nil {
				if _, err := s.FindBackup(c, tt.name); !errors.Is(err, ErrNotFound) {
					t.Errorf("after DeleteBackup, FindBackup = %v", err)
				}
				if err := s.DeleteBackup(c, tt.name); !errors.Is(err, ErrNotFound) {
					t.Errorf("second DeleteBackup = %v, want ErrNotFound", err)
				}
			}
		})
	}
}

func TestRestoreBackup(t *testing.T) {
	ctx := context.Background()
	t.Run("named backup", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.AddBackup(ctx, "good", time.Now()); err != nil {
			t.Fatal(err)
		}
		backup := readFile(t, filepath.Join(s.BackupDir(), "good.toml"))
		if _, err := s.Update(ctx, setQueueLength(3000)); err != nil {
			t.Fatal(err)
		}
		replaced := readFile(t, s.Path)
		c, _ := s.Load(ctx)
		if err := s.RestoreBackup(ctx, c, "good"); err != nil {
			t.Fatal(err)
		}
		if got := readFile(t, s.Path); !bytes.Equal(got, backup) {
			t.Errorf("the store is not the backup:\n%s", got)
		}
		snaps := snapshots(t, s)
		if len(snaps) != 2 {
			t.Fatalf("snapshots = %v, want 2", snaps)
		}
		if got := readFile(t, filepath.Join(s.Dir(), "history", snaps[1])); !bytes.Equal(got, replaced) {
			t.Errorf("the replaced store was not kept as the newest snapshot")
		}
		// The backup itself is kept.
		if got := readFile(t, filepath.Join(s.BackupDir(), "good.toml")); !bytes.Equal(got, backup) {
			t.Errorf("the backup changed")
		}
	})
	t.Run("history snapshot", func(t *testing.T) {
		s := newStore(t)
		original := readFile(t, s.Path)
		for i := range 2 {
			if _, err := s.Update(ctx, setQueueLength(uint64(100+i))); err != nil {
				t.Fatal(err)
			}
		}
		c, _ := s.Load(ctx)
		if err := s.RestoreBackup(ctx, c, "CFGHISTORY_0000000001"); err != nil {
			t.Fatal(err)
		}
		if got := readFile(t, s.Path); !bytes.Equal(got, original) {
			t.Errorf("the store is not the snapshot")
		}
		if got := snapshots(t, s); len(got) != 3 {
			t.Errorf("snapshots = %v, want 3", got)
		}
	})
	t.Run("missing", func(t *testing.T) {
		s := newStore(t)
		c, _ := s.Load(ctx)
		if err := s.RestoreBackup(ctx, c, "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("RestoreBackup(nope) = %v, want ErrNotFound", err)
		}
	})
	invalid := []struct{ name, data string }{
		{"garbage", "this is not TOML ["},
		{"unknown key", "version = 1\nhello = 1\n"},
		{"invalid value", "version = 1\n[applicationPoolDefaults]\nqueueLength = 1\n"},
		{"dangling app", "version = 1\n[[sites]]\nname = \"S\"\nid = 1\nbindings = []\n[[sites.applications]]\npath = \"/\"\napplicationPool = \"Gone\"\nphysicalPath = \"/x\"\n"},
	}
	for _, tt := range invalid {
		t.Run("invalid "+tt.name, func(t *testing.T) {
			s := newStore(t)
			if err := os.MkdirAll(s.BackupDir(), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(s.BackupDir(), "bad.toml"), []byte(tt.data), 0o644); err != nil {
				t.Fatal(err)
			}
			before := readFile(t, s.Path)
			c, _ := s.Load(ctx)
			err := s.RestoreBackup(ctx, c, "bad")
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `backup "bad"`) {
				t.Fatalf("RestoreBackup = %v, want ErrInvalid naming the backup", err)
			}
			if got := readFile(t, s.Path); !bytes.Equal(got, before) {
				t.Errorf("the store changed")
			}
			if got := snapshots(t, s); len(got) != 0 {
				t.Errorf("snapshots taken: %v", got)
			}
		})
	}
}

func TestDefaultPath(t *testing.T) {
	if os.Geteuid() == 0 {
		if got := DefaultPath(); got != "/etc/poolctl/applicationHost.toml" {
			t.Errorf("DefaultPath as root = %s", got)
		}
		return
	}
	tests := []struct{ xdg, home, want string }{
		{"/xdg", "/home/u", "/xdg/poolctl/applicationHost.toml"},
		{"", "/home/u", "/home/u/.config/poolctl/applicationHost.toml"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("xdg=%q", tt.xdg), func(t *testing.T) {
			t.Setenv("XDG_CONFIG_HOME", tt.xdg)
			t.Setenv("HOME", tt.home)
			if got := DefaultPath(); got != tt.want {
				t.Errorf("DefaultPath = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestUpdateRemovesOrphanTemps: a temporary file left by a writer killed
// before its rename is deleted by the next writer, which holds the lock.
func TestUpdateRemovesOrphanTemps(t *testing.T) {
	s := Open(filepath.Join(t.TempDir(), "applicationHost.toml"))
	ctx := context.Background()
	if _, err := s.Load(ctx); err != nil {
		t.Fatal(err)
	}
	orphan := filepath.Join(s.Dir(), ".applicationHost.toml.tmp-123456")
	other := filepath.Join(s.Dir(), ".other.toml.tmp-1")
	for _, p := range []string{orphan, other} {
		if err := os.WriteFile(p, []byte("half a store"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Update(ctx, func(c *Config) error { c.Pool(DefaultPoolName).QueueLength = ptr(uint64(2000)); return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(orphan); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("orphan temp file still there: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("another file's temp was removed: %v", err)
	}
}
