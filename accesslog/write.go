package accesslog

import (
	"runtime"
	"sync"
	"time"
)

// maxPooledLine is the capacity above which a line buffer is not pooled, so
// one huge request does not keep a huge buffer alive.
const maxPooledLine = 64 << 10

// linePool holds the buffers Write formats lines into.
var linePool = sync.Pool{New: func() any {
	b := make([]byte, 0, 1024)
	return &b
}}

// Write formats e as one line and queues it for the background writer. It
// never waits for I/O: when the line does not fit in the pending buffer
// (BufferSize) it is dropped and counted in Dropped. The Write that takes
// the pending lines past half of BufferSize wakes the background writer and
// yields its processor once (runtime.Gosched, no I/O), so the writer runs
// promptly even when every CPU is busy. A zero e.Time is taken as now.
// Write after Close, or with a nil e, does nothing.
func (l *Log) Write(e *Entry) {
	if e == nil {
		return
	}
	t := e.Time
	if t.IsZero() {
		t = time.Now()
	}
	bp := linePool.Get().(*[]byte)
	line := l.appendLine((*bp)[:0], e, t)
	l.enqueue(line)
	if cap(line) <= maxPooledLine {
		*bp = line
		linePool.Put(bp)
	}
}

// appendLine appends e in the Log's format.
func (l *Log) appendLine(b []byte, e *Entry, t time.Time) []byte {
	if l.format == JSON {
		return appendJSON(b, e, t)
	}
	return appendW3C(b, e, t)
}

// enqueue appends line to the pending buffer, or drops it when it does not
// fit, and wakes the writer once more than half the buffer is pending.
func (l *Log) enqueue(line []byte) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	if len(l.pending)+len(line) > l.limit {
		l.mu.Unlock()
		l.dropped.Add(1)
		return
	}
	l.pending = append(l.pending, line...)
	wake := !l.kicked && len(l.pending) > l.limit/2
	if wake {
		l.kicked = true
	}
	l.mu.Unlock()
	if wake {
		select {
		case l.kick <- struct{}{}:
			// Let the writer run now: with every processor busy it would
			// otherwise wait for this goroutine to be preempted while the
			// buffer fills up and lines are dropped.
			runtime.Gosched()
		default:
		}
	}
}
