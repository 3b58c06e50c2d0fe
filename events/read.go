package events

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// FileName is the current event file in the state directory; rotated files
// are FileName.1 (the newest) to FileName.N (the oldest).
const FileName = "events.jsonl"

// Rotation defaults: 10 MiB per file, five rotated files.
const (
	DefaultMaxSize int64 = 10 << 20
	DefaultKeep          = 5
)

// ErrClosed is returned for an event recorded after Close.
var ErrClosed = errors.New("event recorder closed")

// ErrMalformed marks an event line that is not a valid event.
var ErrMalformed = errors.New("malformed event line")

// Files returns the event files in dir, oldest first: the rotated ones from
// the highest number down, then the current one. A missing directory has
// none.
func Files(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read event directory: %w", err)
	}
	type numbered struct {
		n    int
		name string
	}
	var files []numbered
	for _, e := range ents {
		name := e.Name()
		if name == FileName {
			files = append(files, numbered{0, name})
			continue
		}
		suffix, ok := strings.CutPrefix(name, FileName+".")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(suffix)
		if err != nil || n < 1 || strconv.Itoa(n) != suffix {
			continue
		}
		files = append(files, numbered{n, name})
	}
	slices.SortFunc(files, func(a, b numbered) int { return b.n - a.n })
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = filepath.Join(dir, f.name)
	}
	return out, nil
}

// ReadDir reads every event in dir's event files, oldest file first, in
// the order they were written. A line that is not a valid event is passed
// to skip (with its file and 1-based line number) and left out; it is
// never fatal. A missing directory or file holds no events. Reading while
// the host rotates may miss or repeat the events of the file being
// rotated; a second read sees them right.
func ReadDir(dir string, skip func(file string, line int, err error)) ([]Event, error) {
	files, err := Files(dir)
	if err != nil {
		return nil, err
	}
	var out []Event
	for _, name := range files {
		evs, err := ReadFile(name, skip)
		if err != nil {
			return nil, err
		}
		out = append(out, evs...)
	}
	return out, nil
}

// ReadFile reads the events of one file; see ReadDir.
func ReadFile(name string, skip func(file string, line int, err error)) ([]Event, error) {
	f, err := os.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // rotated away since it was listed
	}
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	defer f.Close()
	var out []Event
	br := bufio.NewReader(f)
	for n := 1; ; n++ {
		line, rerr := br.ReadBytes('\n')
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return nil, fmt.Errorf("read events from %s: %w", name, rerr)
		}
		if line = bytes.TrimSpace(line); len(line) > 0 {
			e, err := parseLine(line)
			if err != nil {
				if skip != nil {
					skip(name, n, err)
				}
			} else {
				out = append(out, e)
			}
		}
		if rerr != nil {
			return out, nil
		}
	}
}

// parseLine decodes one line; it needs at least a time and an id.
func parseLine(line []byte) (Event, error) {
	var e Event
	if err := json.Unmarshal(line, &e); err != nil {
		return e, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	switch {
	case e.Time.IsZero():
		return e, fmt.Errorf("%w: no time", ErrMalformed)
	case e.ID <= 0:
		return e, fmt.Errorf("%w: no event id", ErrMalformed)
	case e.PID < 0:
		return e, fmt.Errorf("%w: negative pid", ErrMalformed)
	}
	return e, nil
}

// ParseSize parses a byte count: a whole number with an optional K, M or G
// suffix (powers of 1024; "KiB", "MB" and the like are accepted too), so
// "10M" is 10485760 and "512K" 524288.
func ParseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSuffix(t, "B")
	t = strings.TrimSuffix(t, "I")
	mult := int64(1)
	switch {
	case strings.HasSuffix(t, "K"):
		mult = 1 << 10
	case strings.HasSuffix(t, "M"):
		mult = 1 << 20
	case strings.HasSuffix(t, "G"):
		mult = 1 << 30
	}
	if mult > 1 {
		t = t[:len(t)-1]
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size: expected bytes, or a number with K, M or G (512K, 10M)", s)
	}
	return n * mult, nil
}
