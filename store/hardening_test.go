package store

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLoadEmptyOrVersionlessStore: a store that is empty, blank or has no
// version line is invalid, never an empty configuration, and is not
// rewritten.
func TestLoadEmptyOrVersionlessStore(t *testing.T) {
	for name, data := range map[string]string{
		"empty":        "",
		"blank":        "\n  \n\t\n",
		"comment only": "# poolctl configuration store\n",
		"no version":   "applicationPools = []\n",
	} {
		t.Run(name, func(t *testing.T) {
			s := Open(filepath.Join(t.TempDir(), "applicationHost.toml"))
			if err := os.WriteFile(s.Path, []byte(data), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := s.Load(context.Background())
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Load = %v, %v; want ErrInvalid", c, err)
			}
			if !strings.Contains(err.Error(), "version") {
				t.Errorf("error %q does not name the missing version line", err)
			}
			if _, err := s.Update(context.Background(), func(*Config) error { return nil }); !errors.Is(err, ErrInvalid) {
				t.Errorf("Update = %v, want ErrInvalid", err)
			}
			if got := readFile(t, s.Path); string(got) != data {
				t.Errorf("the invalid store was rewritten: %q", got)
			}
		})
	}
}

// failWrites makes writes of the store file itself fail until the test
// ends.
func failWrites(t *testing.T, s *Store) {
	t.Helper()
	errDisk := errors.New("disk full")
	orig := writeFileAtomic
	writeFileAtomic = func(path string, data []byte, p filePerm) error {
		if path == s.Path {
			return errDisk
		}
		return orig(path, data, p)
	}
	t.Cleanup(func() { writeFileAtomic = orig })
}

// dirContents maps the names in dir to their contents.
func dirContents(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		out[e.Name()] = string(readFile(t, filepath.Join(dir, e.Name())))
	}
	return out
}

// TestFailedWritesKeepHistory: a write that fails takes no snapshot and
// prunes none; the history stays byte-identical.
func TestFailedWritesKeepHistory(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	for i := range 12 {
		if _, err := s.Update(ctx, setQueueLength(uint64(100+i))); err != nil {
			t.Fatal(err)
		}
	}
	hist := filepath.Join(s.Dir(), "history")
	before := dirContents(t, hist)
	if len(before) != 10 {
		t.Fatalf("history holds %d snapshots, want 10", len(before))
	}
	store := readFile(t, s.Path)
	failWrites(t, s)
	for i := range 10 {
		if changed, err := s.Update(ctx, setQueueLength(uint64(500+i))); err == nil || changed {
			t.Fatalf("Update with a failing write = %v, %v", changed, err)
		}
	}
	after := dirContents(t, hist)
	if len(after) != len(before) {
		t.Errorf("history after failed writes: %d files, want %d", len(after), len(before))
	}
	for name, data := range before {
		if after[name] != data {
			t.Errorf("snapshot %s changed or vanished", name)
		}
	}
	if got := readFile(t, s.Path); !bytes.Equal(got, store) {
		t.Errorf("the store changed")
	}
}

func perm(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// TestCreatedFilesPrivate: the store, its lock, history snapshots, backups
// and their directories are created for the writer only.
func TestCreatedFilesPrivate(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	if _, err := s.Update(ctx, setQueueLength(200)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddBackup(ctx, "b1", time.Now()); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]fs.FileMode{
		s.Path:                            0o600,
		s.Path + ".lock":                  0o600,
		filepath.Join(s.Dir(), "history"): 0o700,
		filepath.Join(s.Dir(), "history", "CFGHISTORY_0000000001.toml"): 0o600,
		s.BackupDir():                           0o700,
		filepath.Join(s.BackupDir(), "b1.toml"): 0o600,
	} {
		if got := perm(t, path); got != want {
			t.Errorf("%s: mode %v, want %v", path, got, want)
		}
	}
}

// TestWriteNarrowsModes: a store, lock, snapshots and backups left 0644 by
// an older poolctl are narrowed by the next write, and the snapshot of the
// old file (a hard link) is not readable by others either.
func TestWriteNarrowsModes(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	if _, err := s.Update(ctx, setQueueLength(200)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddBackup(ctx, "old", time.Now()); err != nil {
		t.Fatal(err)
	}
	hist := filepath.Join(s.Dir(), "history")
	snap := filepath.Join(hist, "CFGHISTORY_0000000001.toml")
	backup := filepath.Join(s.BackupDir(), "old.toml")
	for _, p := range []string{s.Path, s.Path + ".lock", snap, backup} {
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{hist, s.BackupDir()} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Update(ctx, setQueueLength(300)); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]fs.FileMode{
		s.Path:           0o600,
		s.Path + ".lock": 0o600,
		snap:             0o600,
		filepath.Join(hist, "CFGHISTORY_0000000002.toml"): 0o600,
		backup:        0o600,
		hist:          0o700,
		s.BackupDir(): 0o700,
	} {
		if got := perm(t, path); got != want {
			t.Errorf("%s: mode %v after a write, want %v", path, got, want)
		}
	}
}

// TestReaderGroupKept: a store whose group the operator changed to a
// reader group, with group read, stays 0640 in that group; the write never
// widens further.
func TestReaderGroupKept(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give the store another group")
	}
	const readers = 65534
	s := newStore(t)
	if err := os.Chown(s.Path, -1, readers); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(s.Path, 0o664); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(context.Background(), setQueueLength(200)); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(s.Path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o640 || fi.Sys().(*syscall.Stat_t).Gid != readers {
		t.Errorf("store mode %v gid %d, want 0640 gid %d", fi.Mode().Perm(), fi.Sys().(*syscall.Stat_t).Gid, readers)
	}
	hist := filepath.Join(s.Dir(), "history")
	if got := perm(t, hist); got != 0o750 {
		t.Errorf("history directory mode %v, want 0750", got)
	}
	// The writer's own group is no reader group: back to 0600.
	if err := os.Chown(s.Path, -1, os.Getegid()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(context.Background(), setQueueLength(300)); err != nil {
		t.Fatal(err)
	}
	if got := perm(t, s.Path); got != 0o600 {
		t.Errorf("store mode %v in the writer's group, want 0600", got)
	}
}

// TestLockClosedToOthers: another user cannot open the lock file (so
// cannot flock it and block every writer), also when an older poolctl left
// it 0644.
func TestLockClosedToOthers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a helper as another user")
	}
	s := newStore(t)
	// Let uid 65534 reach the files: t.TempDir's directories are 0700.
	for d := s.Dir(); d != filepath.Dir(filepath.Dir(s.Dir())); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	lock := s.Path + ".lock"
	open := func() error {
		cmd := exec.Command("/bin/sh", "-c", `exec 3<"$1"`, "sh", lock)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.CombinedOutput()
		if err != nil && !strings.Contains(string(out), "ermission denied") {
			t.Fatalf("helper: %v: %s", err, out)
		}
		return err
	}
	if got := perm(t, lock); got != 0o600 {
		t.Errorf("lock mode %v, want 0600", got)
	}
	if open() == nil {
		t.Errorf("uid 65534 opened the lock file")
	}
	// An older poolctl's lock: others could open it; the next write
	// closes it.
	if err := os.Chmod(lock, 0o644); err != nil {
		t.Fatal(err)
	}
	if open() != nil {
		t.Fatalf("control: uid 65534 cannot open a 0644 lock file")
	}
	if _, err := s.Update(context.Background(), setQueueLength(200)); err != nil {
		t.Fatal(err)
	}
	if got := perm(t, lock); got != 0o600 {
		t.Errorf("lock mode %v after a write, want 0600", got)
	}
	if open() == nil {
		t.Errorf("uid 65534 opened the lock file after the write")
	}
}

// TestLockRefusesSymlink: a lock path that is a symbolic link is refused,
// and its target is left alone.
func TestLockRefusesSymlink(t *testing.T) {
	s := newStore(t)
	target := filepath.Join(t.TempDir(), "target")
	if err := os.WriteFile(target, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(s.Path + ".lock"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, s.Path+".lock"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(context.Background(), setQueueLength(200)); err == nil {
		t.Errorf("Update through a symlinked lock file succeeded")
	}
	if got := perm(t, target); got != 0o644 {
		t.Errorf("the symlink's target changed mode to %v", got)
	}
}

// TestLockOfOtherOwnerRefused: a lock file owned by another user is
// refused with a message saying what to do.
func TestLockOfOtherOwnerRefused(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown")
	}
	s := newStore(t)
	if err := os.Chown(s.Path+".lock", 65534, 65534); err != nil {
		t.Fatal(err)
	}
	before := readFile(t, s.Path)
	_, err := s.Update(context.Background(), setQueueLength(200))
	if err == nil || !strings.Contains(err.Error(), "owned by uid 65534") || !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("Update = %v, want a permission error naming the owner", err)
	}
	if got := readFile(t, s.Path); !bytes.Equal(got, before) {
		t.Errorf("the store changed")
	}
}

// TestPoolNamesThatArePaths: names that a path join would resolve ('.',
// '..'), hold a '/' or a control character are refused everywhere; a
// leading '-' is refused for new names only.
func TestPoolNamesThatArePaths(t *testing.T) {
	for _, name := range []string{".", "..", "../x", "a/b", "a\x00b", "a\nb"} {
		if err := ValidatePoolName(name); !errors.Is(err, ErrInvalid) {
			t.Errorf("ValidatePoolName(%q) = %v, want ErrInvalid", name, err)
		}
		if err := ValidateNewPoolName(name); !errors.Is(err, ErrInvalid) {
			t.Errorf("ValidateNewPoolName(%q) = %v, want ErrInvalid", name, err)
		}
	}
	for _, name := range []string{"-x", "--", "-"} {
		if err := ValidatePoolName(name); err != nil {
			t.Errorf("ValidatePoolName(%q) = %v: an existing pool must stay valid", name, err)
		}
		if err := ValidateNewPoolName(name); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "starts with '-'") {
			t.Errorf("ValidateNewPoolName(%q) = %v, want ErrInvalid naming the rule", name, err)
		}
	}
	for _, name := range []string{"...", ".hidden", "a.b", "x-", "a..b"} {
		if err := ValidateNewPoolName(name); err != nil {
			t.Errorf("ValidateNewPoolName(%q) = %v", name, err)
		}
	}
	// A store holding a pool named ".." does not load.
	s := Open(filepath.Join(t.TempDir(), "applicationHost.toml"))
	if err := os.WriteFile(s.Path, []byte("version = 1\n[[applicationPools]]\nname = \"..\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(context.Background()); !errors.Is(err, ErrInvalid) {
		t.Errorf("Load of a store with pool '..' = %v, want ErrInvalid", err)
	}
}
