package accesslog

import (
	"encoding/json"
	"io"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// discardSink is a sink that drops everything, so benchmarks measure Write
// and not the disk.
type discardSink struct{}

func (discardSink) Write(p []byte) (int, error) { return len(p), nil }
func (discardSink) Reopen() error               { return nil }
func (discardSink) Close() error                { return nil }
func (discardSink) Path() string                { return "discard" }

// benchmarkWrite measures Log.Write from one goroutine ("serial") and from
// GOMAXPROCS goroutines at once ("parallel", every processor busy, so the
// background writer competes for CPU and some lines are dropped).
func benchmarkWrite(b *testing.B, format Format) {
	b.Run("serial", func(b *testing.B) {
		runWriteBench(b, format, func(l *Log, e *Entry) {
			for b.Loop() {
				l.Write(e)
			}
		})
	})
	b.Run("parallel", func(b *testing.B) {
		runWriteBench(b, format, func(l *Log, e *Entry) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					l.Write(e)
				}
			})
		})
	})
}

func runWriteBench(b *testing.B, format Format, loop func(*Log, *Entry)) {
	l := newLog(discardSink{}, Options{Format: format, FlushInterval: time.Millisecond}, 0)
	e := sampleEntry()
	b.ReportAllocs()
	b.ResetTimer()
	loop(l, e)
	b.StopTimer()
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
	if got := l.Written() + l.Dropped(); got != uint64(b.N) {
		b.Fatalf("written %d + dropped %d != %d", l.Written(), l.Dropped(), b.N)
	}
	// Dropped lines are cheaper than queued ones; show how many there were.
	b.ReportMetric(float64(l.Dropped())/float64(b.N), "dropped/op")
}

// BenchmarkWriteW3C measures Log.Write of one W3C line, file I/O excluded.
func BenchmarkWriteW3C(b *testing.B) { benchmarkWrite(b, W3C) }

// BenchmarkWriteJSON measures Log.Write of one JSON line, file I/O excluded.
func BenchmarkWriteJSON(b *testing.B) { benchmarkWrite(b, JSON) }

// BenchmarkFormatJSON compares the hand-written JSON encoder with
// encoding/json on the same entry.
func BenchmarkFormatJSON(b *testing.B) {
	e := sampleEntry()
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf = appendJSON(buf[:0], e, e.Time)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		enc := json.NewEncoder(io.Discard)
		for b.Loop() {
			if err := enc.Encode(jsonLine{
				Time: e.Time.UTC().Format("2006-01-02T15:04:05.000Z07:00"), Site: e.Site, Pool: e.Pool,
				SIP: e.ServerIP, SPort: e.ServerPort, Method: e.Method, URIStem: e.URIStem,
				URIQuery: e.URIQuery, Username: e.Username, CIP: e.ClientIP, UserAgent: e.UserAgent,
				Referer: e.Referer, Status: e.Status, SubStatus: e.SubStatus, Win32Status: e.Win32Status,
				TimeTakenMS: float64(e.TimeTaken.Microseconds()) / 1000, BytesSent: e.BytesSent,
				BytesReceived: e.BytesReceived, Reason: &e.Reason,
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkFormatW3C measures formatting one W3C line alone; cpu-ns/op
// is the thread's CPU time per line, which a busy machine disturbs less
// than ns/op.
func BenchmarkFormatW3C(b *testing.B) {
	e := sampleEntry()
	b.ReportAllocs()
	var buf []byte
	start := threadCPU()
	for b.Loop() {
		buf = appendW3C(buf[:0], e, e.Time)
	}
	b.ReportMetric(float64(threadCPU()-start)/float64(b.N), "cpu-ns/op")
}

// threadCPU is the CPU time the calling thread has used, in nanoseconds.
func threadCPU() int64 {
	var ts syscall.Timespec
	if _, _, errno := syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, 3 /* CLOCK_THREAD_CPUTIME_ID */, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		return 0
	}
	return ts.Nano()
}
