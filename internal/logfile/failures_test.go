package logfile

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// TestMain lets the test binary run fsizeHelper in a child process.
func TestMain(m *testing.M) {
	if path := os.Getenv("LOGFILE_FSIZE_HELPER"); path != "" {
		if err := fsizeHelper(path); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// fsizeHelper runs in a child with RLIMIT_FSIZE: a real short write
// (the kernel stops at the limit, EFBIG after), then a later write once
// the limit is lifted.
func fsizeHelper(path string) error {
	signal.Ignore(syscall.SIGXFSZ)
	l, err := Open(path, Options{})
	if err != nil {
		return err
	}
	defer l.Close()
	if _, err := l.Write([]byte("first line\n")); err != nil {
		return fmt.Errorf("first write: %w", err)
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		return err
	}
	small := lim
	small.Cur = 40 // the batch below stops inside its second line
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &small); err != nil {
		return err
	}
	n, werr := l.Write([]byte("second line ok\nthird line is cut\nfourth\n"))
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		return err
	}
	if werr == nil {
		return fmt.Errorf("the write past RLIMIT_FSIZE did not fail (n=%d)", n)
	}
	if _, err := l.Write([]byte("after the disk freed up\n")); err != nil {
		return fmt.Errorf("write after lifting the limit: %w", err)
	}
	return nil
}

// TestShortWriteLeavesNoPartialLine: a write that the file system takes
// only in part (here RLIMIT_FSIZE, as a full disk does) leaves no partial
// line for the next entry to merge into.
func TestShortWriteLeavesNoPartialLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "LOGFILE_FSIZE_HELPER="+path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	got := read(t, path)
	want := "first line\nsecond line ok\nafter the disk freed up\n"
	if got != want {
		t.Fatalf("file after a short write:\n%q\nwant\n%q", got, want)
	}
}

// fakeDisk fails writes while full is set, taking the first take bytes
// of each failing write.
type fakeDisk struct {
	mu   sync.Mutex
	full bool
	take int
}

func (d *fakeDisk) write(f *os.File, p []byte) (int, error) {
	d.mu.Lock()
	full, take := d.full, d.take
	d.mu.Unlock()
	if !full {
		return f.Write(p)
	}
	n, _ := f.Write(p[:min(take, len(p))])
	return n, syscall.ENOSPC
}

func (d *fakeDisk) set(full bool) {
	d.mu.Lock()
	d.full = full
	d.mu.Unlock()
}

// TestWriteFailureReportedOnce: a log that keeps failing is reported once
// (and again after it worked and failed anew); every failed write and the
// lines it lost are counted in Stats; n counts the bytes kept.
func TestWriteFailureReportedOnce(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	path := filepath.Join(t.TempDir(), "w.log")
	l := mustOpen(t, path, Options{Logger: logger})
	disk := &fakeDisk{take: 3}
	l.write = disk.write

	write(t, l, "ok 1\n")
	disk.set(true)
	for range 3 {
		n, err := l.Write([]byte("lost a\nlost b\n"))
		if !errors.Is(err, syscall.ENOSPC) || n != 0 {
			t.Fatalf("write to a full disk = %d, %v; want 0, ENOSPC", n, err)
		}
	}
	disk.set(false)
	write(t, l, "ok 2\n")
	disk.set(true)
	_, _ = l.Write([]byte("lost c\n"))
	disk.set(false)

	if got := read(t, path); got != "ok 1\nok 2\n" {
		t.Errorf("file %q, want only the whole lines that were written", got)
	}
	out := buf.String()
	if n := strings.Count(out, "log file write failed"); n != 2 {
		t.Errorf("failure reported %d times, want 2 (once per failing stretch):\n%s", n, out)
	}
	if n := strings.Count(out, "log file writes work again"); n != 1 {
		t.Errorf("recovery reported %d times, want 1:\n%s", n, out)
	}
	var st Stat
	for _, s := range Stats() {
		if s.Path == path {
			st = s
		}
	}
	if st.WriteErrors != 4 || st.LinesLost != 7 {
		t.Errorf("stats %+v, want 4 write errors and 7 lines lost", st)
	}
}

// TestFailedCutEndsPartialLine: when the partial line cannot be cut back,
// the next write starts on a new line instead of merging into it.
func TestFailedCutEndsPartialLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.log")
	l := mustOpen(t, path, Options{Logger: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))})
	disk := &fakeDisk{take: 4}
	l.write = func(f *os.File, p []byte) (int, error) {
		n, err := disk.write(f, p)
		if err != nil {
			// Make the cut fail: Truncate on a file opened O_APPEND
			// still works, so close the descriptor under the File and
			// give it one that refuses.
			ro, oerr := os.Open(path)
			if oerr != nil {
				t.Fatal(oerr)
			}
			l.f.Close()
			l.f = ro
		}
		return n, err
	}
	write(t, l, "one\n")
	disk.set(true)
	if _, err := l.Write([]byte("partial\n")); err == nil {
		t.Fatal("the failing write succeeded")
	}
	disk.set(false)
	// Back to a writable descriptor, as after a Reopen of the same file.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	l.f.Close()
	l.f = f
	write(t, l, "two\n")
	if got := read(t, path); got != "one\npart\ntwo\n" {
		t.Errorf("file %q, want the partial line ended before the next", got)
	}
}

// TestShortWriteAfterCopytruncate: the cut back goes by the file's real
// end, so a file emptied from outside (logrotate's copytruncate) is not
// padded with zeros up to the size the File remembered.
func TestShortWriteAfterCopytruncate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.log")
	l := mustOpen(t, path, Options{Logger: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))})
	disk := &fakeDisk{take: 9}
	l.write = disk.write
	write(t, l, "a long line before the rotation\n")
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	disk.set(true)
	if n, err := l.Write([]byte("kept\ncut off\n")); err == nil || n != 5 {
		t.Fatalf("short write = %d, %v; want 5 and an error", n, err)
	}
	disk.set(false)
	write(t, l, "next\n")
	if got := read(t, path); got != "kept\nnext\n" {
		t.Errorf("file %q, want %q", got, "kept\nnext\n")
	}
}
