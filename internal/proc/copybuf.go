package proc

import (
	"io"
	"os"
)

// copyBufferSize is the buffer a worker's output is copied through to its
// log writer. os/exec copies a non-file Stdout with io.Copy's 32 KB buffer,
// held for the process's life: 16 MB of heap at 500 workers for pipes that
// carry a line now and then. A pipe read returns what is there, so a small
// buffer costs nothing in throughput that matters for logs.
const copyBufferSize = 2 << 10

// smallCopy wraps a writer that is not a file so that os/exec's copy
// goroutine (io.Copy from the pipe) uses an copyBufferSize-sized buffer. nil
// and files are returned as they are (a file goes to the child directly).
// Two calls with the same writer return equal values, so os/exec still
// shares one pipe when Stdout and Stderr are the same writer.
func smallCopy(w io.Writer) io.Writer {
	switch w.(type) {
	case nil, *os.File:
		return w
	}
	return smallCopyWriter{w}
}

// smallCopyWriter is a writer with a ReadFrom that copies through a small
// buffer.
type smallCopyWriter struct{ w io.Writer }

// Write writes to the wrapped writer.
func (s smallCopyWriter) Write(p []byte) (int, error) { return s.w.Write(p) }

// ReadFrom copies r to the wrapped writer through an copyBufferSize-sized
// buffer. Both sides are wrapped so that io.CopyBuffer uses the buffer
// rather than a WriterTo or ReaderFrom of theirs.
func (s smallCopyWriter) ReadFrom(r io.Reader) (int64, error) {
	return io.CopyBuffer(struct{ io.Writer }{s.w}, struct{ io.Reader }{r}, make([]byte, copyBufferSize))
}
