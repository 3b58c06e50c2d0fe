package http1

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/poolctl/poolctl/internal/httpsyntax"
)

// maxChunkLine bounds a chunk-size line (size and extensions).
const maxChunkLine = 4096

// errMalformedChunk is every malformed chunked body.
var errMalformedChunk = errors.New("malformed chunked request body")

// chunkErr wraps why a chunked body is malformed; a read error of the
// connection itself (a timeout, a reset) is kept as is.
func chunkErr(what string, err error) error {
	switch {
	case err == nil, errors.Is(err, errBadLine), errors.Is(err, errLineTooLong):
		return fmt.Errorf("%w: %s", errMalformedChunk, what)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return io.ErrUnexpectedEOF
	default:
		return err
	}
}

// parseChunkSize parses a chunk-size line as net/http does: trailing
// whitespace dropped, then any ";extensions", then 1 to 16 hex digits
// (within int64) and nothing else.
func parseChunkSize(line []byte) (int64, bool) {
	line = bytes.TrimRight(line, " \t")
	if i := bytes.IndexByte(line, ';'); i >= 0 {
		line = line[:i]
	}
	if len(line) == 0 || len(line) > 16 {
		return 0, false
	}
	var n uint64
	for _, c := range line {
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		n = n<<4 | uint64(d)
	}
	if n > 1<<63-1 {
		return 0, false
	}
	return int64(n), true
}

// maxChunkOverhead bounds the bytes of chunk-size lines and extensions a
// body may carry beyond chunkOverheadAllowance per chunk plus twice its
// data (net/http's rule against a body that is mostly framing).
const (
	maxChunkOverhead       = 16 << 10
	chunkOverheadAllowance = 16
)

// readTrailer reads the trailer fields after the last chunk into the
// request's Trailer, within the server's head limits. Fields a trailer
// may not carry are dropped.
func (b *body) readTrailer() error {
	maxBytes, maxFields := b.c.srv.headLimits()
	in := &b.c.in
	total, fields := 0, 0
	for {
		line, err := in.readLine(maxBytes - total)
		if err != nil {
			return chunkErr("reading the trailer", err)
		}
		if len(line) == 0 {
			return nil
		}
		total += len(line) + 2
		if fields++; fields > maxFields {
			return chunkErr("too many trailer fields", nil)
		}
		name, value, ok := bytes.Cut(line, []byte{':'})
		if !ok || !httpsyntax.ValidToken(string(name)) {
			return chunkErr("malformed trailer field", nil)
		}
		v := trimOWS(string(value))
		if !validValue(v) {
			return chunkErr("invalid trailer value", nil)
		}
		key := http.CanonicalHeaderKey(string(name))
		if forbiddenTrailer(key) {
			continue
		}
		if b.r.Trailer == nil {
			b.r.Trailer = http.Header{}
		}
		b.r.Trailer[key] = append(b.r.Trailer[key], v)
	}
}
