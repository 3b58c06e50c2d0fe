package accesslog

import (
	"bytes"
	"context"
	"fmt"
	"time"
)

// run is the background writer: it writes the pending lines every interval
// and whenever Write signals that half the buffer is pending, until ctx is
// cancelled by Close.
func (l *Log) run(ctx context.Context) {
	defer close(l.done)
	tick := time.NewTicker(l.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-l.kick:
		}
		if err := l.Flush(); err != nil && l.onError != nil {
			l.onError(err)
		}
	}
}

// Flush writes the pending lines now (for tests and shutdown).
func (l *Log) Flush() error {
	l.ioMu.Lock()
	defer l.ioMu.Unlock()
	if l.fileClosed {
		return ErrClosed
	}
	return l.flushLocked()
}

// Reopen writes the pending lines and then reopens the file, for after an
// external rename (logrotate, SIGUSR1): later lines go to the file now at
// the path, which starts with the W3C header if it is new.
func (l *Log) Reopen() error {
	l.ioMu.Lock()
	defer l.ioMu.Unlock()
	if l.fileClosed {
		return ErrClosed
	}
	ferr := l.flushLocked()
	if err := l.file.Reopen(); err != nil {
		return fmt.Errorf("reopen access log: %w", err)
	}
	return ferr
}

// Close stops the background writer, writes the pending lines and closes
// the file. Write after Close does nothing; a second Close returns
// ErrClosed.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.closed = true
	l.mu.Unlock()
	l.cancel()
	<-l.done

	l.ioMu.Lock()
	defer l.ioMu.Unlock()
	ferr := l.flushLocked()
	l.fileClosed = true
	if err := l.file.Close(); err != nil {
		return fmt.Errorf("close access log: %w", err)
	}
	return ferr
}

// flushLocked swaps the pending buffer with the spare one (so Write can
// go on appending) and writes the swapped-out batch. ioMu must be held.
func (l *Log) flushLocked() error {
	l.mu.Lock()
	batch := l.pending
	l.pending = l.spare[:0]
	l.kicked = false
	l.mu.Unlock()
	err := l.writeBatch(batch)
	l.spare = batch[:0]
	return err
}

// writeBatch writes batch in chunks of at most l.chunk bytes that end on
// line boundaries (one write when l.chunk is 0), counting the lines that
// reached the file as written. A write that fails short ends the batch and
// its remaining lines count as dropped; a write that went through with an
// error (a failed rotation) is reported but the batch goes on.
func (l *Log) writeBatch(batch []byte) error {
	var first error
	for len(batch) > 0 {
		n := len(batch)
		if l.chunk > 0 && n > l.chunk {
			n = chunkEnd(batch, l.chunk)
		}
		w, err := l.file.Write(batch[:n])
		w = min(max(w, 0), n)
		l.written.Add(uint64(bytes.Count(batch[:w], newline)))
		if err != nil && first == nil {
			first = fmt.Errorf("write access log: %w", err)
		}
		if w < n {
			l.dropped.Add(uint64(bytes.Count(batch[w:], newline)))
			if first == nil {
				first = fmt.Errorf("write access log: short write (%d of %d bytes)", w, n)
			}
			return first
		}
		batch = batch[n:]
	}
	return first
}

var newline = []byte{'\n'}

// chunkEnd returns the length of the longest run of whole lines at the
// start of b no longer than limit, or of the first line when that alone is
// longer.
func chunkEnd(b []byte, limit int) int {
	if i := bytes.LastIndexByte(b[:limit], '\n'); i >= 0 {
		return i + 1
	}
	if i := bytes.IndexByte(b[limit:], '\n'); i >= 0 {
		return limit + i + 1
	}
	return len(b)
}
