package http1

import (
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
)

// discardMax is how much of a body the handler left unread the server
// reads and throws away to keep the connection; past it the connection
// closes, as with net/http.
const discardMax = 256 << 10

// body is a request's body as the handler reads it: Content-Length or
// chunked framing over the connection's buffer.
type body struct {
	c        *conn
	r        *http.Request // for its Trailer
	chunked  bool
	remain   int64 // bytes left: of the body (Content-Length) or of the current chunk
	needCRLF bool  // chunked: the current chunk's CRLF is still to be read
	excess   int64 // chunked: framing bytes beyond the allowance (maxChunkOverhead)

	cont atomic.Bool // 100 Continue is still to be sent before the first read

	mu       sync.Mutex
	closed   bool // closed by the handler, or the handler returned
	eof      bool
	err      error // sticky read error
	consumed bool  // the server has finished with it (discard)
}

// Read reads the body; after the handler closed it, or returned, it fails
// with http.ErrBodyReadAfterClose.
func (b *body) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, http.ErrBodyReadAfterClose
	}
	if b.cont.Swap(false) {
		b.c.sendContinue()
	}
	return b.readLocked(p)
}

// Close ends the handler's reading; the server still discards what is
// left (discard) to keep the connection.
func (b *body) Close() error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	return nil
}

// readLocked reads with b.mu held.
func (b *body) readLocked(p []byte) (int, error) {
	switch {
	case b.err != nil:
		return 0, b.err
	case b.eof:
		return 0, io.EOF
	case len(p) == 0:
		return 0, nil
	}
	var n int
	var err error
	if b.chunked {
		n, err = b.readChunked(p)
	} else {
		n, err = b.readLength(p)
	}
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

// readLength reads a Content-Length body.
func (b *body) readLength(p []byte) (int, error) {
	if int64(len(p)) > b.remain {
		p = p[:b.remain]
	}
	n, err := b.c.in.read(p)
	b.remain -= int64(n)
	if b.remain == 0 {
		b.eof = true
		return n, nil // io.EOF on the next read
	}
	if n == 0 && errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// readChunked reads a chunked body.
func (b *body) readChunked(p []byte) (int, error) {
	if b.remain == 0 {
		done, err := b.nextChunk()
		if err != nil {
			return 0, err
		}
		if done {
			b.eof = true
			return 0, io.EOF
		}
	}
	if int64(len(p)) > b.remain {
		p = p[:b.remain]
	}
	n, err := b.c.in.read(p)
	b.remain -= int64(n)
	if n == 0 && (err == nil || errors.Is(err, io.EOF)) {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// nextChunk reads up to the next chunk's data; done at the last chunk,
// whose trailer it reads into the request's.
func (b *body) nextChunk() (done bool, err error) {
	in := &b.c.in
	if b.needCRLF {
		line, err := in.readLine(0)
		if err != nil || len(line) != 0 {
			return false, chunkErr("missing CRLF after chunk data", err)
		}
		b.needCRLF = false
	}
	line, err := in.readLine(maxChunkLine)
	if err != nil {
		return false, chunkErr("reading chunk size", err)
	}
	b.excess += int64(len(line)) + 2
	size, ok := parseChunkSize(line)
	if !ok {
		return false, chunkErr("malformed chunk size line", nil)
	}
	b.excess = max(b.excess-chunkOverheadAllowance-2*min(size, 1<<40), 0)
	if b.excess > maxChunkOverhead {
		return false, chunkErr("too much chunk framing for its data", nil)
	}
	if size > 0 {
		b.remain, b.needCRLF = size, true
		return false, nil
	}
	if err := b.readTrailer(); err != nil {
		return false, err
	}
	return true, nil
}

// discard reads and drops what the handler left of the body, at most
// discardMax bytes; it reports whether the connection can carry another
// request.
func (b *body) discard() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	b.cont.Store(false)
	if b.consumed {
		return b.err == nil && b.eof
	}
	b.consumed = true
	if b.err != nil {
		return false
	}
	if !b.eof && !b.chunked && b.remain > discardMax {
		return false
	}
	buf := b.c.scratch()
	for total := 0; !b.eof; {
		n, err := b.readLocked(buf)
		total += n
		if err == io.EOF {
			break
		}
		if err != nil || total > discardMax {
			return false
		}
	}
	return true
}
