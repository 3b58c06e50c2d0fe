package host

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestOfflineCopy: the local copy is written with mode 0600 through a
// temporary file renamed over it (no temporary file is left, the old copy
// is replaced whole), and reads back as a valid store.
func TestOfflineCopy(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	if _, err := readOfflineCopy(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("no copy: err = %v, want ErrNotExist", err)
	}
	old := []byte("version = 1\n")
	if err := writeOfflineCopy(dir, old); err != nil {
		t.Fatal(err)
	}
	// A copy that was 0644 (by hand) is replaced by a 0600 one.
	if err := os.Chmod(filepath.Join(dir, OfflineCopyName), 0o644); err != nil {
		t.Fatal(err)
	}
	data := []byte("version = 1\n\n[[applicationPools]]\nname = \"A\"\n")
	if err := writeOfflineCopy(dir, data); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, OfflineCopyName))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("state directory holds %d files, want the copy only", len(entries))
	}
	got, err := readOfflineCopy(dir)
	if err != nil || string(got) != string(data) {
		t.Fatalf("read %q, %v", got, err)
	}
	cfg, err := parseStore(context.Background(), "copy", got)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.ApplicationPools) != 1 || cfg.StoreVersion() == "" {
		t.Fatalf("parsed %+v", cfg.ApplicationPools)
	}
	// A directory that cannot take the file leaves the old copy whole.
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o700) })
	if os.Geteuid() != 0 {
		if err := writeOfflineCopy(dir, []byte("x")); err == nil {
			t.Error("write into a read-only directory succeeded")
		}
		if got, _ := readOfflineCopy(dir); string(got) != string(data) {
			t.Errorf("after a failed write the copy is %q", got)
		}
	}
}
