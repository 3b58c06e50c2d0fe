package accesslog

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/poolctl/poolctl/internal/logfile"
)

// openTest opens a Log in a temporary directory with a flush interval long
// enough that only Flush, Reopen, Close or a full half-buffer write.
func openTest(t *testing.T, opts Options) *Log {
	t.Helper()
	if opts.FlushInterval == 0 {
		opts.FlushInterval = time.Hour
	}
	l, err := Open(filepath.Join(t.TempDir(), "logs", "site.log"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// numbered is sampleEntry with cs-uri-stem "/n" so lines can be told apart.
func numbered(n int) *Entry {
	e := sampleEntry()
	e.URIStem = "/" + strconv.Itoa(n)
	return e
}

// checkW3CFile checks that path starts with one header, has no other
// directive, and returns its request records.
func checkW3CFile(t *testing.T, path, software string) []map[string]string {
	t.Helper()
	content := readFile(t, path)
	if !strings.HasPrefix(content, "#Software: "+software+"\n#Version: 1.0\n#Date: ") {
		t.Fatalf("%s does not start with the header:\n%s", path, content)
	}
	for _, d := range []string{"#Software:", "#Version:", "#Date:", "#Fields:"} {
		if n := strings.Count(content, d); n != 1 {
			t.Errorf("%s: %d %s directives, want 1", path, n, d)
		}
	}
	date := content[strings.Index(content, "#Date: ")+7:]
	date = date[:strings.IndexByte(date, '\n')]
	started, err := time.Parse("2006-01-02 15:04:05", date)
	if err != nil || time.Since(started) > time.Hour || time.Since(started) < -time.Minute {
		t.Errorf("%s: #Date %q (%v) is not now in UTC", path, date, err)
	}
	recs, err := ParseW3C(strings.NewReader(content))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return recs
}

func TestLogW3CFile(t *testing.T) {
	l := openTest(t, Options{Software: "poolctl 1.2.3"})
	for i := range 3 {
		l.Write(numbered(i))
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	l.Write(numbered(3))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	recs := checkW3CFile(t, l.Path(), "poolctl 1.2.3")
	if len(recs) != 4 {
		t.Fatalf("got %d records, want 4", len(recs))
	}
	for i, r := range recs {
		if r["cs-uri-stem"] != "/"+strconv.Itoa(i) || r["sc-status"] != "503" || r["time-taken"] != "1234" {
			t.Errorf("record %d = %v", i, r)
		}
	}
	if l.Written() != 4 || l.Dropped() != 0 {
		t.Errorf("written %d dropped %d, want 4 and 0", l.Written(), l.Dropped())
	}
}

func TestLogReopenedFileKeepsOneHeader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "site.log")
	for i := range 2 {
		l, err := Open(path, Options{FlushInterval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		l.Write(numbered(i))
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if recs := checkW3CFile(t, path, DefaultSoftware); len(recs) != 2 {
		t.Errorf("got %d records, want 2", len(recs))
	}
}

func TestLogJSONFile(t *testing.T) {
	l := openTest(t, Options{Format: "json"})
	for i := range 3 {
		l.Write(numbered(i))
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	content := readFile(t, l.Path())
	lines := strings.SplitAfter(strings.TrimSuffix(content, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want 3 (no header):\n%s", len(lines), content)
	}
	for i, line := range lines {
		if !strings.HasSuffix(line, "\n") {
			line += "\n"
		}
		j := decodeJSONLine(t, []byte(line))
		if j.URIStem != "/"+strconv.Itoa(i) || j.Pool != "Shop" || j.BytesSent != 4321 {
			t.Errorf("line %d = %+v", i, j)
		}
	}
}

func TestLogRotationStartsNewHeader(t *testing.T) {
	const maxSize = 1024
	l := openTest(t, Options{Rotate: logfile.Options{MaxSize: maxSize, Keep: 10}})
	const total = 20
	for i := range total {
		l.Write(numbered(i))
		if i%3 == 2 {
			if err := l.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// Oldest file first: NAME.N ... NAME.1, NAME.
	var files []string
	for n := 10; n >= 1; n-- {
		p := l.Path() + "." + strconv.Itoa(n)
		if _, err := os.Stat(p); err == nil {
			files = append(files, p)
		}
	}
	files = append(files, l.Path())
	if len(files) < 3 {
		t.Fatalf("only %d files after %d lines with MaxSize %d", len(files), total, maxSize)
	}
	next := 0
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > maxSize {
			t.Errorf("%s is %d bytes, over MaxSize %d", f, st.Size(), maxSize)
		}
		for _, r := range checkW3CFile(t, f, DefaultSoftware) {
			if r["cs-uri-stem"] != "/"+strconv.Itoa(next) {
				t.Errorf("%s: record %v, want /%d", f, r["cs-uri-stem"], next)
			}
			next++
		}
	}
	if next != total {
		t.Errorf("found %d records across %d files, want %d", next, len(files), total)
	}
}

func TestLogLargeBatchIsSplitOnLines(t *testing.T) {
	// One flush of many lines must still keep each file within MaxSize.
	const maxSize = 1500
	l := openTest(t, Options{Rotate: logfile.Options{MaxSize: maxSize, Keep: 20}})
	for i := range 30 {
		l.Write(numbered(i))
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	count := 0
	for n := 20; n >= 0; n-- {
		p := l.Path()
		if n > 0 {
			p += "." + strconv.Itoa(n)
		}
		st, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > maxSize {
			t.Errorf("%s is %d bytes, over %d", p, st.Size(), maxSize)
		}
		count += len(checkW3CFile(t, p, DefaultSoftware))
	}
	if count != 30 || l.Written() != 30 {
		t.Errorf("%d records in files, Written %d; want 30", count, l.Written())
	}
}

func TestLogReopenAfterRename(t *testing.T) {
	l := openTest(t, Options{})
	l.Write(numbered(0))
	l.Write(numbered(1))
	moved := l.Path() + ".old"
	if err := os.Rename(l.Path(), moved); err != nil {
		t.Fatal(err)
	}
	// Lines pending at the rename go to the renamed file, as with logrotate
	// before the signal.
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	l.Write(numbered(2))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	old := checkW3CFile(t, moved, DefaultSoftware)
	cur := checkW3CFile(t, l.Path(), DefaultSoftware)
	if len(old) != 2 || len(cur) != 1 || cur[0]["cs-uri-stem"] != "/2" {
		t.Errorf("renamed file has %d records, new file %v", len(old), cur)
	}
}

func TestLogClose(t *testing.T) {
	l := openTest(t, Options{})
	l.Write(numbered(0))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	before := readFile(t, l.Path())
	l.Write(numbered(1))
	if err := l.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
	if err := l.Flush(); !errors.Is(err, ErrClosed) {
		t.Errorf("Flush after Close = %v, want ErrClosed", err)
	}
	if err := l.Reopen(); !errors.Is(err, ErrClosed) {
		t.Errorf("Reopen after Close = %v, want ErrClosed", err)
	}
	if after := readFile(t, l.Path()); after != before || l.Written() != 1 || l.Dropped() != 0 {
		t.Errorf("Write after Close changed something: written %d dropped %d\n%s", l.Written(), l.Dropped(), after)
	}
}

func TestLogBackgroundFlush(t *testing.T) {
	t.Run("interval", func(t *testing.T) {
		l := openTest(t, Options{FlushInterval: 20 * time.Millisecond})
		l.Write(numbered(0))
		waitFor(t, 5*time.Second, "the interval flush", func() bool { return l.Written() == 1 })
	})
	t.Run("half buffer", func(t *testing.T) {
		line := appendW3C(nil, numbered(0), time.Now())
		l := openTest(t, Options{BufferSize: 4 * len(line)})
		l.Write(numbered(0))
		l.Write(numbered(1))
		if l.Written() != 0 {
			t.Fatalf("written %d before half the buffer was pending", l.Written())
		}
		l.Write(numbered(2)) // now more than half is pending
		waitFor(t, 5*time.Second, "the half-buffer flush", func() bool { return l.Written() == 3 })
		if recs := checkW3CFile(t, l.Path(), DefaultSoftware); len(recs) != 3 {
			t.Errorf("%d records in the file", len(recs))
		}
	})
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(filepath.Join(dir, "x.log"), Options{Format: "ncsa"}); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("unknown format: %v", err)
	}
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(filepath.Join(blocker, "x.log"), Options{}); err == nil {
		t.Error("Open under a regular file succeeded")
	}
}

func TestChunkEnd(t *testing.T) {
	b := []byte("aaa\nbb\ncccccc\nd\n")
	for limit, want := range map[int]int{1: 4, 4: 4, 6: 4, 7: 7, 10: 7, 14: 14, 16: 16} {
		if got := chunkEnd(b, limit); got != want {
			t.Errorf("chunkEnd(limit %d) = %d, want %d", limit, got, want)
		}
	}
	if got := chunkEnd([]byte("no newline at all"), 3); got != 17 {
		t.Errorf("chunkEnd without newline = %d", got)
	}
}
