package http1

import (
	"errors"
	"io"
)

// inbufSize is a connection's read buffer; heads larger than it grow the
// buffer up to the head limit, and it shrinks back once the connection is
// idle.
const inbufSize = 4 << 10

// errHeadTooLarge is a head past the size limit.
var errHeadTooLarge = errors.New("request head too large")

// inbuf is a connection's read buffer: the bytes read but not consumed
// are buf[r:w].
type inbuf struct {
	src  io.Reader
	buf  []byte
	r, w int
}

// buffered returns the bytes read but not consumed.
func (b *inbuf) buffered() []byte { return b.buf[b.r:b.w] }

// fill reads more from the source, first moving what is buffered to the
// front, and growing the buffer (up to limit bytes) when it is full.
func (b *inbuf) fill(limit int) error {
	if b.r > 0 {
		n := copy(b.buf, b.buf[b.r:b.w])
		b.r, b.w = 0, n
	}
	if b.w == len(b.buf) {
		if len(b.buf) >= limit {
			return errHeadTooLarge
		}
		nb := make([]byte, min(2*len(b.buf), limit))
		copy(nb, b.buf[:b.w])
		b.buf = nb
	}
	n, err := b.src.Read(b.buf[b.w:])
	b.w += n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// reset empties a buffer that holds nothing unread, shrinking one a large
// head grew.
func (b *inbuf) reset() {
	if b.r != b.w {
		return
	}
	b.r, b.w = 0, 0
	if len(b.buf) > inbufSize {
		b.buf = make([]byte, inbufSize)
	}
}

// read reads up to len(p) bytes: what is buffered, else straight from the
// source when p is at least a buffer long, else through the buffer.
func (b *inbuf) read(p []byte) (int, error) {
	if b.r == b.w {
		if len(p) >= len(b.buf) {
			return b.src.Read(p)
		}
		b.r, b.w = 0, 0
		n, err := b.src.Read(b.buf)
		b.w = n
		if n == 0 {
			return 0, err
		}
	}
	n := copy(p, b.buf[b.r:b.w])
	b.r += n
	return n, nil
}

// readLine reads one CRLF-ended line of at most limit bytes (without its
// end). A bare LF or CR is errBadLine; a longer line errLineTooLong.
func (b *inbuf) readLine(limit int) ([]byte, error) {
	scan := 0 // bytes of b.buffered() already searched
	for {
		buf := b.buf[b.r:b.w]
		i := scan
	search:
		for ; i < len(buf); i++ {
			switch buf[i] {
			case '\n':
				if i == 0 || buf[i-1] != '\r' {
					return nil, errBadLine
				}
				b.r += i + 1
				return buf[:i-1], nil
			case '\r':
				if i+1 == len(buf) {
					break search // what follows the CR is not read yet: look again after the fill
				}
				if buf[i+1] != '\n' {
					return nil, errBadLine
				}
			}
		}
		scan = i
		if scan > limit+2 {
			return nil, errLineTooLong
		}
		if err := b.fill(max(len(b.buf), limit+2)); err != nil {
			if errors.Is(err, errHeadTooLarge) {
				return nil, errLineTooLong
			}
			if errors.Is(err, io.EOF) {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
}

var (
	errBadLine     = errors.New("line not ended by CRLF")
	errLineTooLong = errors.New("line too long")
)
