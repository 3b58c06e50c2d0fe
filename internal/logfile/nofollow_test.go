package logfile

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestOpenRefusesSymlink: a symbolic link planted at a log's path is never
// followed, so the file it points to is neither written nor handed to the
// log's owner.
func TestOpenRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "precious")
	if err := os.WriteFile(target, []byte("keep\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "pool.log")
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	if l, err := Open(path, Options{MaxSize: 1 << 20, Keep: 1}); err == nil {
		l.Close()
		t.Fatal("Open followed a symbolic link")
	} else if !errors.Is(err, syscall.ELOOP) {
		t.Errorf("err = %v, want ELOOP", err)
	}
	b, err := os.ReadFile(target)
	if err != nil || string(b) != "keep\n" {
		t.Errorf("target now %q, %v", b, err)
	}
}

// TestOpenRefusesFIFO: a FIFO at a log's path is refused at once instead of
// blocking the host in open(2) or write(2).
func TestOpenRefusesFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pool.log")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	// Keep a reader open so the open itself would succeed without the check.
	r, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	l, err := Open(path, Options{MaxSize: 1 << 20, Keep: 1})
	if err == nil {
		l.Close()
		t.Fatal("Open accepted a FIFO")
	}
	if !errors.Is(err, ErrNotRegular) {
		t.Errorf("err = %v, want ErrNotRegular", err)
	}
}
