package accesslog

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// stallSink is a sink whose Write waits until release is closed, like a
// disk that stopped answering. It records what was written.
type stallSink struct {
	entered chan struct{} // closed at the first Write
	release chan struct{}
	once    sync.Once

	mu  sync.Mutex
	buf bytes.Buffer
}

func newStallSink() *stallSink {
	return &stallSink{entered: make(chan struct{}), release: make(chan struct{})}
}

func (s *stallSink) Write(p []byte) (int, error) {
	s.once.Do(func() { close(s.entered) })
	<-s.release
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *stallSink) Reopen() error { return nil }
func (s *stallSink) Close() error  { return nil }
func (s *stallSink) Path() string  { return "stalled" }

func TestWriteNeverBlocksOnStalledDisk(t *testing.T) {
	s := newStallSink()
	l := newLog(s, Options{BufferSize: 8 << 10, FlushInterval: 5 * time.Millisecond}, 0)
	released := false
	defer func() {
		if !released {
			close(s.release)
		}
		l.Close()
	}()

	l.Write(numbered(0))
	select {
	case <-s.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the background writer never wrote")
	}
	// The writer is now stuck in Write with line 0, and stays stuck until
	// release: every further Write must return all the same (a Write that
	// waited for the disk would never return), and once the buffer is
	// full they are dropped. The deadline only guards against that hang.
	const total = 5000
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		for i := 1; i < total; i++ {
			l.Write(numbered(i))
		}
	}()
	select {
	case <-wrote:
	case <-time.After(60 * time.Second):
		t.Fatal("Write blocked while the disk is stalled")
	}
	if l.Dropped() == 0 {
		t.Fatalf("nothing dropped after %d lines into an 8 KiB buffer", total)
	}
	if l.Written() != 0 {
		t.Errorf("written %d while the disk is stalled", l.Written())
	}

	close(s.release)
	released = true
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if got := l.Written() + l.Dropped(); got != total {
		t.Errorf("written %d + dropped %d = %d, want %d", l.Written(), l.Dropped(), got, total)
	}
	recs, err := ParseW3C(strings.NewReader(w3cFieldsDirective + s.buf.String()))
	if err != nil {
		t.Fatal(err)
	}
	if uint64(len(recs)) != l.Written() {
		t.Errorf("%d lines reached the sink, Written says %d", len(recs), l.Written())
	}
	if len(recs) == 0 || recs[0]["cs-uri-stem"] != "/0" {
		t.Errorf("first line is not the one being written when the disk stalled")
	}
}

// failSink accepts the first `good` bytes and then fails every Write.
type failSink struct {
	good int
	buf  bytes.Buffer
}

var errDiskFull = errors.New("disk full")

func (s *failSink) Write(p []byte) (int, error) {
	n := min(len(p), s.good-s.buf.Len())
	s.buf.Write(p[:n])
	if n < len(p) {
		return n, errDiskFull
	}
	return n, nil
}

func (s *failSink) Reopen() error { return nil }
func (s *failSink) Close() error  { return nil }
func (s *failSink) Path() string  { return "failing" }

func TestWriteErrorsCountAsDropped(t *testing.T) {
	line := appendW3C(nil, numbered(0), sampleEntry().Time)
	s := &failSink{good: 2*len(line) + 10} // the third line is cut short
	var mu sync.Mutex
	var reported []error
	l := newLog(s, Options{FlushInterval: 5 * time.Millisecond, OnError: func(err error) {
		mu.Lock()
		defer mu.Unlock()
		reported = append(reported, err)
	}}, 0)
	for i := range 5 {
		l.Write(numbered(i))
	}
	waitFor(t, 5*time.Second, "the failed write", func() bool { return l.Written()+l.Dropped() == 5 })
	if l.Written() != 2 || l.Dropped() != 3 {
		t.Errorf("written %d dropped %d, want 2 and 3", l.Written(), l.Dropped())
	}
	mu.Lock()
	// One error, or two when the lines happened to go in two batches.
	if len(reported) == 0 {
		t.Error("OnError was not called")
	}
	for _, err := range reported {
		if !errors.Is(err, errDiskFull) {
			t.Errorf("OnError got %v, want errDiskFull", err)
		}
	}
	mu.Unlock()

	l.Write(numbered(5))
	if err := l.Flush(); !errors.Is(err, errDiskFull) {
		t.Errorf("Flush = %v, want errDiskFull", err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("Close with nothing pending = %v", err)
	}
	if l.Written() != 2 || l.Dropped() != 4 {
		t.Errorf("written %d dropped %d, want 2 and 4", l.Written(), l.Dropped())
	}
}

func TestOversizedLineIsDropped(t *testing.T) {
	s := &failSink{good: 1 << 20}
	l := newLog(s, Options{BufferSize: 100, FlushInterval: time.Hour}, 0)
	e := numbered(0)
	e.UserAgent = strings.Repeat("x", 200)
	l.Write(e)
	l.Write(&Entry{Method: "GET"})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if l.Written() != 1 || l.Dropped() != 1 || strings.Count(s.buf.String(), "\n") != 1 {
		t.Errorf("written %d dropped %d, sink %q", l.Written(), l.Dropped(), s.buf.String())
	}
}
