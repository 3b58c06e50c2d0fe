package logfile

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func read(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustOpen(t *testing.T, path string, opts Options) *File {
	t.Helper()
	l, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func write(t *testing.T, l *File, s string) {
	t.Helper()
	if n, err := l.Write([]byte(s)); err != nil || n != len(s) {
		t.Fatalf("Write(%q) = %d, %v", s, n, err)
	}
}

// TestSizeRotationKeepsNFilesInOrder writes numbered 10-byte lines into
// 35-byte files: each file holds three lines, the kept files hold the
// newest lines, oldest in NAME.Keep, without gaps.
func TestSizeRotationKeepsNFilesInOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "dir", "app.log")
	const keep = 3
	l := mustOpen(t, path, Options{MaxSize: 35, Keep: keep})
	const n = 40
	for i := range n {
		write(t, l, fmt.Sprintf("line %04d\n", i))
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for k := keep; k >= 1; k-- {
		got = append(got, read(t, fmt.Sprintf("%s.%d", path, k)))
	}
	got = append(got, read(t, path))
	if _, err := os.Stat(fmt.Sprintf("%s.%d", path, keep+1)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s.%d exists (err %v): more than Keep files kept", path, keep+1, err)
	}
	all := strings.Join(got, "")
	// 40 lines, 3 per file: the current file has line 39, the three
	// rotated ones lines 30-38.
	var want strings.Builder
	for i := 30; i < n; i++ {
		fmt.Fprintf(&want, "line %04d\n", i)
	}
	if all != want.String() {
		t.Fatalf("kept files, oldest first:\n%q\nwant\n%q", got, want.String())
	}
	for i, s := range got[:keep] {
		if len(s) != 30 {
			t.Errorf("rotated file %d holds %d bytes, want 30: %q", keep-i, len(s), s)
		}
	}
	st, err := os.Stat(filepath.Dir(path))
	if err != nil || st.Mode().Perm() != 0o755 {
		t.Fatalf("parent directory: %v, mode %v; want 0755", err, st.Mode())
	}
	fst, err := os.Stat(path)
	if err != nil || fst.Mode().Perm() != DefaultMode {
		t.Fatalf("file mode %v, %v; want %v", fst.Mode(), err, DefaultMode)
	}
}

func TestKeepZeroTruncates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	l := mustOpen(t, path, Options{MaxSize: 20, Keep: 0})
	for i := range 5 {
		write(t, l, fmt.Sprintf("line %04d\n", i))
	}
	if got := read(t, path); got != "line 0004\n" {
		t.Fatalf("current file = %q", got)
	}
	if m, _ := filepath.Glob(path + ".*"); len(m) != 0 {
		t.Fatalf("rotated files with Keep 0: %v", m)
	}
}

func TestWriteLargerThanMaxSizeLandsWhole(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	l := mustOpen(t, path, Options{MaxSize: 8, Keep: 2})
	write(t, l, "small\n")
	big := strings.Repeat("x", 30) + "\n"
	write(t, l, big)
	write(t, l, "after\n")
	if got := read(t, path+".2"); got != "small\n" {
		t.Errorf(".2 = %q", got)
	}
	if got := read(t, path+".1"); got != big {
		t.Errorf(".1 = %q, want the big write whole", got)
	}
	if got := read(t, path); got != "after\n" {
		t.Errorf("current = %q", got)
	}
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestAgeRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	clock := &fakeClock{t: time.Now()}
	l := mustOpen(t, path, Options{MaxAge: time.Hour, Keep: 5, Now: clock.now})
	write(t, l, "a\n")
	clock.add(59 * time.Minute)
	write(t, l, "b\n")
	if _, err := os.Stat(path + ".1"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("rotated before MaxAge: %v", err)
	}
	clock.add(time.Minute)
	write(t, l, "c\n")
	if got := read(t, path+".1"); got != "a\nb\n" {
		t.Fatalf(".1 = %q", got)
	}
	// The new file's age counts from its creation, not from the first
	// file's.
	clock.add(30 * time.Minute)
	write(t, l, "d\n")
	if got := read(t, path); got != "c\nd\n" {
		t.Fatalf("current = %q", got)
	}
	// An empty file is not rotated however old it is.
	if err := l.Rotate(); err != nil {
		t.Fatal(err)
	}
	clock.add(10 * time.Hour)
	write(t, l, "e\n")
	if got := read(t, path); got != "e\n" {
		t.Fatalf("current after a late write into an empty file = %q", got)
	}
	if got := read(t, path+".1"); got != "c\nd\n" {
		t.Fatalf(".1 = %q", got)
	}
}

// TestAgeOfExistingFile: a file that already has content when opened is
// as old as its birth (or modification) time, not as the Open.
func TestAgeOfExistingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	if err := os.WriteFile(path, []byte("old\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Now().Add(2 * time.Hour)}
	l := mustOpen(t, path, Options{MaxAge: time.Hour, Keep: 1, Now: clock.now})
	write(t, l, "new\n")
	if got := read(t, path+".1"); got != "old\n" {
		t.Fatalf(".1 = %q: a file born two hours ago was not rotated", got)
	}
}

func TestReopenAfterRename(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	l := mustOpen(t, path, Options{Header: func() []byte { return []byte("#header\n") }})
	write(t, l, "one\n")
	moved := filepath.Join(dir, "app.log.moved")
	if err := os.Rename(path, moved); err != nil {
		t.Fatal(err)
	}
	write(t, l, "two\n") // still the renamed file, as with any open file
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	write(t, l, "three\n")
	if got := read(t, moved); got != "#header\none\ntwo\n" {
		t.Errorf("renamed file = %q", got)
	}
	if got := read(t, path); got != "#header\nthree\n" {
		t.Errorf("new file = %q", got)
	}
	// Reopening a file that was not moved appends without a new header.
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	write(t, l, "four\n")
	if got := read(t, path); got != "#header\nthree\nfour\n" {
		t.Errorf("file after a second Reopen = %q", got)
	}
}

func TestHeaderOncePerNewFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	calls := 0
	hdr := func() []byte { calls++; return []byte("#Fields: x\n") }
	l := mustOpen(t, path, Options{MaxSize: 25, Keep: 3, Header: hdr}) // two rows a file
	for i := range 6 {
		write(t, l, fmt.Sprintf("row %d\n", i))
	}
	l.Close()
	for _, name := range []string{path + ".2", path + ".1", path} {
		got := read(t, name)
		if strings.Count(got, "#Fields: x\n") != 1 || !strings.HasPrefix(got, "#Fields: x\n") {
			t.Errorf("%s = %q: want the header once, at the start", name, got)
		}
	}
	// Appending to an existing file adds no header.
	l = mustOpen(t, path, Options{MaxSize: 1 << 20, Header: hdr})
	write(t, l, "more\n")
	if got := read(t, path); strings.Count(got, "#Fields") != 1 {
		t.Errorf("reopened file = %q", got)
	}
	if calls != 3 {
		t.Errorf("header made %d times, want 3 (one per new file)", calls)
	}
}

func TestConcurrentWritersKeepLinesWhole(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	const keep = 1000
	l := mustOpen(t, path, Options{MaxSize: 2048, Keep: keep})
	const goroutines, each = 8, 300
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				line := fmt.Sprintf("g%d i%04d %s\n", g, i, strings.Repeat("x", (g*7+i)%60))
				if _, err := l.Write([]byte(line)); err != nil {
					t.Errorf("write: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(path + ".*")
	if len(files) < 10 || len(files) >= keep {
		t.Fatalf("%d rotated files: the test did not rotate enough, or lost some", len(files))
	}
	files = append(files, path)
	seen := map[string]bool{}
	for _, f := range files {
		b := read(t, f)
		if len(b) > 2048 {
			t.Errorf("%s is %d bytes, over MaxSize", f, len(b))
		}
		if !strings.HasSuffix(b, "\n") {
			t.Errorf("%s ends mid-line", f)
		}
		for _, line := range strings.Split(strings.TrimSuffix(b, "\n"), "\n") {
			parts := strings.SplitN(line, " ", 3)
			var g, i int
			if len(parts) != 3 {
				t.Fatalf("%s: split line %q", f, line)
			}
			if _, err := fmt.Sscanf(parts[0]+" "+parts[1], "g%d i%d", &g, &i); err != nil {
				t.Fatalf("%s: split line %q: %v", f, line, err)
			}
			if want := strings.Repeat("x", (g*7+i)%60); parts[2] != want {
				t.Fatalf("%s: damaged line %q", f, line)
			}
			if seen[parts[0]+parts[1]] {
				t.Fatalf("%s: line %q written twice", f, line)
			}
			seen[parts[0]+parts[1]] = true
		}
	}
	total := len(seen)
	if total != goroutines*each {
		t.Fatalf("%d lines in the files, want %d", total, goroutines*each)
	}
}

// TestFailedOpenRetriedOnNextWrite: when the directory vanishes a rotation
// cannot open the new file; that write fails with an error, and a write
// after the directory is back lands in a new file.
func TestFailedOpenRetriedOnNextWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	path := filepath.Join(dir, "app.log")
	l := mustOpen(t, path, Options{MaxSize: 10, Keep: 1})
	write(t, l, "first line\n")
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Write([]byte("lost\n")); err == nil {
		t.Fatal("a write that could not be stored returned no error")
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, l, "again\n")
	if got := read(t, path); got != "again\n" {
		t.Fatalf("after recovery = %q", got)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Write([]byte("late\n")); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after Close: %v, want ErrClosed", err)
	}
}

func TestSetOwnerAppliesToNewFiles(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown")
	}
	path := filepath.Join(t.TempDir(), "app.log")
	l := mustOpen(t, path, Options{MaxSize: 10, Keep: 1, Mode: 0o600})
	if err := l.SetOwner(65534, 65534); err != nil {
		t.Fatal(err)
	}
	write(t, l, "0123456789")
	write(t, l, "next\n") // rotates: the new file is given to the owner too
	for _, name := range []string{path, path + ".1"} {
		st, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		uid, gid := ownerOf(st)
		if uid != 65534 || gid != 65534 || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %d:%d %v, want 65534:65534 0600", name, uid, gid, st.Mode().Perm())
		}
	}
}

func BenchmarkWrite(b *testing.B) {
	path := filepath.Join(b.TempDir(), "app.log")
	l, err := Open(path, Options{MaxSize: 1 << 20, Keep: 2})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	line := bytes.Repeat([]byte("x"), 119)
	line = append(line, '\n')
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := l.Write(line); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
