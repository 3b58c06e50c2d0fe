package forward

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/poolctl/poolctl/internal/httpsyntax"
)

// Limits on what a backend may send in a response head.
const (
	maxHeadBytes  = 1 << 20 // whole head, including trailers
	maxHeadFields = 1000
)

// field is one parsed header field: canonical name and value.
type field struct {
	key string
	val string
}

// respHead is a parsed response head (or trailer section), reused per
// connection.
type respHead struct {
	status    int
	http10    bool
	keepAlive bool // set by relay: the connection may carry another request
	fields    []field
	spans     []span  // offsets in vbuf of the values not found in the cache
	vbuf      []byte  // bytes of those values
	miss      []int32 // indices in fields of those values
	long      []byte  // assembles lines longer than the read buffer
	nbytes    int     // bytes of head read so far
	trailer   bool    // reading a trailer section: CRLF lines, maxTrailerBytes
}

// span locates a value in respHead.vbuf.
type span struct{ start, end int32 }

// errHeadTooLarge reports a response head over maxHeadBytes.
var errHeadTooLarge = fmt.Errorf("%w: head too large", ErrBadResponse)

// readLine returns the next line without its line ending. The slice is
// valid until the next read from c.br.
func (c *conn) readLine() ([]byte, error) {
	hd := &c.head
	line, err := c.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		hd.long = append(hd.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			if len(hd.long) > maxHeadBytes {
				return nil, errHeadTooLarge
			}
			line, err = c.br.ReadSlice('\n')
			hd.long = append(hd.long, line...)
		}
		line = hd.long
	}
	hd.nbytes += len(line)
	if err != nil {
		if errors.Is(err, io.EOF) && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if hd.nbytes > maxHeadBytes || hd.trailer && hd.nbytes > maxTrailerBytes {
		return nil, errHeadTooLarge
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	} else if hd.trailer {
		return nil, fmt.Errorf("%w: trailer line does not end in CRLF", ErrBadResponse)
	}
	return line, nil
}

// readHead reads a status line and header section into c.head. got reports
// whether any byte of it arrived (a connection that fails with got false
// may be retried).
func (c *conn) readHead() (got bool, err error) {
	hd := &c.head
	hd.nbytes = 0
	if cap(hd.long) > 64<<10 {
		hd.long = nil // do not keep a huge line buffer per connection
	}
	line, err := c.readLine()
	if err != nil {
		return hd.nbytes > 0, err
	}
	// "HTTP/1.x SP 3DIGIT [SP reason]"
	if len(line) < 12 || string(line[:7]) != "HTTP/1." || line[7] < '0' || line[7] > '9' || line[8] != ' ' ||
		(len(line) > 12 && line[12] != ' ') {
		return true, fmt.Errorf("%w: status line %q", ErrBadResponse, clip(line))
	}
	hd.http10 = line[7] == '0'
	code := 0
	for _, b := range line[9:12] {
		if b < '0' || b > '9' {
			return true, fmt.Errorf("%w: status line %q", ErrBadResponse, clip(line))
		}
		code = code*10 + int(b-'0')
	}
	if code < 100 {
		return true, fmt.Errorf("%w: status %d", ErrBadResponse, code)
	}
	hd.status = code
	return true, c.readFields(true)
}

// readFields reads header fields up to the empty line into c.head.fields.
// With cache (response heads, not trailers), names and values equal to
// those at the same position in the previous head reuse its strings:
// responses from one backend usually repeat most of their header.
func (c *conn) readFields(cache bool) error {
	hd := &c.head
	hd.fields = hd.fields[:0]
	hd.spans = hd.spans[:0]
	hd.vbuf = hd.vbuf[:0]
	hd.miss = hd.miss[:0]
	var prev []field
	if cache {
		prev = c.prev
	}
	for {
		line, err := c.readLine()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			return fmt.Errorf("%w: obsolete line folding", ErrBadResponse)
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return fmt.Errorf("%w: header line %q", ErrBadResponse, clip(line))
		}
		if len(hd.fields) >= maxHeadFields {
			return errHeadTooLarge
		}
		name := line[:colon]
		v := bytes.Trim(line[colon+1:], " \t")
		i := len(hd.fields)
		var f field
		if i < len(prev) && prev[i].key == string(name) {
			f.key = prev[i].key
		} else {
			for _, b := range name {
				if !httpsyntax.IsTokenChar(b) {
					return fmt.Errorf("%w: header name %q", ErrBadResponse, clip(name))
				}
			}
			f.key = c.canonicalKey(name)
		}
		if i < len(prev) && prev[i].key == f.key && prev[i].val == string(v) {
			f.val = prev[i].val
		} else {
			if !validValue(v) {
				return fmt.Errorf("%w: header value of %s", ErrBadResponse, clip(name))
			}
			start := len(hd.vbuf)
			hd.vbuf = append(hd.vbuf, v...)
			hd.spans = append(hd.spans, span{int32(start), int32(len(hd.vbuf))})
			hd.miss = append(hd.miss, int32(i))
		}
		hd.fields = append(hd.fields, f)
	}
	if len(hd.miss) > 0 {
		// One string for all the new values.
		all := string(hd.vbuf)
		for j, i := range hd.miss {
			sp := hd.spans[j]
			hd.fields[i].val = all[sp.start:sp.end]
		}
	}
	if cache {
		c.prev = append(c.prev[:0], hd.fields...)
	}
	return nil
}

// validValue reports whether v may be a field value: no control
// characters other than HTAB (no CR, LF, NUL or DEL), as net/http's
// parser requires; bytes from 0x80 up (obs-text) are allowed.
func validValue(v []byte) bool {
	for _, b := range v {
		if b < ' ' && b != '\t' || b == 0x7f {
			return false
		}
	}
	return true
}

// clip shortens b for an error message.
func clip(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "..."
	}
	return string(b)
}

// framing says how the response body is delimited.
type framing uint8

const (
	frameNone    framing = iota // no body
	frameLength                 // Content-Length
	frameChunked                // Transfer-Encoding: chunked
	frameClose                  // until the backend closes
)

// respInfo is what relay learns from the response head.
type respInfo struct {
	frame     framing
	length    int64
	keepAlive bool // the connection may carry another request
	stream    bool // flush to the client whenever the backend pauses
	hasType   bool // the response has a Content-Type
}

// inspect works out framing and connection reuse from c.head.
func (c *conn) inspect(method string) (respInfo, error) {
	hd := &c.head
	info := respInfo{length: -1, keepAlive: !hd.http10}
	te, eventStream := false, false
	cl := "" // the first Content-Length
	for i := range hd.fields {
		f := &hd.fields[i]
		switch f.key {
		case "Content-Length":
			// Repeated, it must be the same text each time (as net/http
			// requires: "2" and "02" are two lengths).
			n, ok := parseLength(f.val)
			if !ok || (info.length >= 0 && f.val != cl) {
				return info, fmt.Errorf("%w: Content-Length %q", ErrBadResponse, f.val)
			}
			info.length, cl = n, f.val
		case "Transfer-Encoding":
			// Only a single "chunked": a list of codings, or a second
			// Transfer-Encoding field, is an error (as for net/http), so
			// no coding is dropped unseen and no framing is guessed.
			// An HTTP/1.0 response has no chunked framing (net/http
			// reads it to the close; the two readings differ): an error.
			if te || hd.http10 || !strings.EqualFold(f.val, "chunked") {
				return info, fmt.Errorf("%w: Transfer-Encoding %q", ErrBadResponse, f.val)
			}
			te = true
		case "Connection":
			httpsyntax.ForEachToken([]string{f.val}, func(tok string) bool {
				if strings.EqualFold(tok, "close") {
					info.keepAlive = false
				} else if hd.http10 && strings.EqualFold(tok, "keep-alive") {
					info.keepAlive = true
				}
				return true
			})
		case "Content-Type":
			info.hasType = true
			eventStream = len(f.val) >= 17 && strings.EqualFold(f.val[:17], "text/event-stream")
		}
	}
	s := hd.status
	switch {
	case method == http.MethodHead || s < 200 || s == http.StatusNoContent || s == http.StatusNotModified:
		info.frame = frameNone
	case te:
		info.frame = frameChunked
		if info.length >= 0 {
			// Both framings: a smuggling risk, never reuse.
			info.keepAlive = false
			info.length = -1
		}
	case info.length >= 0:
		info.frame = frameLength
	default:
		info.frame = frameClose
	}
	if info.frame == frameClose {
		info.keepAlive = false
	}
	info.stream = info.frame == frameChunked || info.frame == frameClose || eventStream
	return info, nil
}

// parseLength parses a Content-Length value.
func parseLength(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b < '0' || b > '9' {
			return 0, false
		}
		n = n*10 + int64(b-'0')
	}
	return n, true
}

// connListed reports whether the response's Connection header names k.
func (c *conn) connListed(k string) bool {
	for i := range c.head.fields {
		f := &c.head.fields[i]
		if f.key == "Connection" && httpsyntax.HasToken([]string{f.val}, k) {
			return true
		}
	}
	return false
}

// copyHeader adds the end-to-end fields of c.head to h.
func (c *conn) copyHeader(h http.Header, info respInfo) {
	hd := &c.head
	hasConn := false
	for i := range hd.fields {
		if hd.fields[i].key == "Connection" {
			hasConn = true
			break
		}
	}
	empty := len(h) == 0
	// One backing array for all single values.
	vals := make([]string, len(hd.fields))
	for i := range hd.fields {
		f := &hd.fields[i]
		k := f.key
		switch {
		case k == "Trailer":
			c.copyTrailerDecl(h, f.val)
			continue
		case hopByHop(k):
			continue
		case k == "Content-Length" && info.frame != frameLength && info.frame != frameNone:
			continue
		case hasConn && c.connListed(k):
			continue
		}
		// When the map started empty, only a name repeated in this head
		// needs appending; that is checked on the (short) field list
		// rather than with a map lookup.
		if !empty || c.seenBefore(i) {
			if old, ok := h[k]; ok && len(old) > 0 {
				h[k] = append(old, f.val)
				continue
			}
		}
		vals[i] = f.val
		h[k] = vals[i : i+1 : i+1]
	}
}

// seenBefore reports whether the field name at index i occurs earlier in
// c.head.fields.
func (c *conn) seenBefore(i int) bool {
	k := c.head.fields[i].key
	for j := range i {
		if c.head.fields[j].key == k {
			return true
		}
	}
	return false
}

// copyTrailerDecl adds a Trailer declaration, without hop-by-hop names.
func (c *conn) copyTrailerDecl(h http.Header, v string) {
	clean := true
	httpsyntax.ForEachToken([]string{v}, func(tok string) bool {
		if hopByHop(http.CanonicalHeaderKey(tok)) || strings.EqualFold(tok, "Content-Length") {
			clean = false
		}
		return clean
	})
	if clean {
		h["Trailer"] = append(h["Trailer"], v)
		return
	}
	httpsyntax.ForEachToken([]string{v}, func(tok string) bool {
		k := http.CanonicalHeaderKey(tok)
		if !hopByHop(k) && k != "Content-Length" {
			h["Trailer"] = append(h["Trailer"], k)
		}
		return true
	})
}

// flush flushes w, looking through wrappers that have Unwrap.
func flush(w http.ResponseWriter) error {
	for {
		switch f := w.(type) {
		case interface{ FlushError() error }:
			return f.FlushError()
		case http.Flusher:
			f.Flush()
			return nil
		case interface{ Unwrap() http.ResponseWriter }:
			w = f.Unwrap()
		default:
			return nil
		}
	}
}

// errClientWrite wraps a failure to write to the client.
type errClientWrite struct{ err error }

func (e *errClientWrite) Error() string { return "writing to client: " + e.err.Error() }
func (e *errClientWrite) Unwrap() error { return e.err }

// relayBody copies the response body from c.br to w according to info.
func (c *conn) relayBody(w http.ResponseWriter, info respInfo) error {
	switch info.frame {
	case frameLength:
		return c.copyN(w, info.length, info.stream)
	case frameClose:
		return c.copyN(w, -1, info.stream)
	case frameChunked:
		return c.copyChunked(w, info.stream)
	}
	return nil
}

// copyN copies n bytes (n < 0: up to EOF) from c.br to w. Bytes already
// buffered go straight from the read buffer; large remainders are read into
// a pooled 32 KiB buffer. With stream, w is flushed whenever the next read
// from the backend could block.
func (c *conn) copyN(w http.ResponseWriter, n int64, stream bool) error {
	br := c.br
	var bp *[]byte
	defer func() {
		if bp != nil {
			copyBufs.Put(bp)
		}
	}()
	for n != 0 {
		if br.Buffered() == 0 {
			if n < 0 || n >= readBufSize {
				if bp == nil {
					bp = copyBufs.Get().(*[]byte)
				}
				buf := *bp
				if n > 0 && int64(len(buf)) > n {
					buf = buf[:n]
				}
				k, err := br.Read(buf) // reads directly: the buffer is empty and buf is large
				if k > 0 {
					if _, werr := w.Write(buf[:k]); werr != nil {
						return &errClientWrite{werr}
					}
					if n > 0 {
						n -= int64(k)
					}
				}
				if err != nil {
					if n < 0 && errors.Is(err, io.EOF) {
						return nil
					}
					return bodyReadErr(err)
				}
				if stream && n != 0 && br.Buffered() == 0 {
					if err := flush(w); err != nil {
						return &errClientWrite{err}
					}
				}
				continue
			}
			if _, err := br.Peek(1); err != nil {
				return bodyReadErr(err)
			}
		}
		k := br.Buffered()
		if n >= 0 && int64(k) > n {
			k = int(n)
		}
		p, _ := br.Peek(k)
		_, werr := w.Write(p)
		_, _ = br.Discard(k)
		if werr != nil {
			return &errClientWrite{werr}
		}
		if n > 0 {
			n -= int64(k)
		}
		if stream && n != 0 && br.Buffered() == 0 {
			if err := flush(w); err != nil {
				return &errClientWrite{err}
			}
		}
	}
	return nil
}

// bodyReadErr labels a failure to read the response body.
func bodyReadErr(err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("reading response body: %w", err)
}

// Bounds of the chunked framing, those of net/http's reader: a chunk-size
// line (with its extensions and CRLF) fits in maxChunkLine, and the bytes
// that are not data (size lines, extensions, CRLFs) may exceed 16 per chunk
// plus twice the chunk's data by at most maxChunkExcess, so a worker
// cannot make the host read megabytes of extensions for a byte of body.
const (
	maxChunkLine   = 4096
	maxChunkExcess = 16 << 10
)

// maxTrailerBytes bounds the trailer section of a chunked body, with its
// final empty line, whose lines must end in CRLF (net/http's reader takes
// no more than its 4 KiB buffer holds).
const maxTrailerBytes = 4096

// copyChunked decodes a chunked body from c.br to w and then reads the
// trailer section into c.head.
func (c *conn) copyChunked(w http.ResponseWriter, stream bool) error {
	var excess int64
	for {
		line, err := c.readChunkLine()
		if err != nil {
			return err
		}
		excess += int64(len(line)) + 2
		size, ok := parseChunkSize(line)
		if !ok {
			return fmt.Errorf("%w: chunk size %q", ErrBadResponse, clip(line))
		}
		if excess = max(excess-16-2*size, 0); excess > maxChunkExcess {
			return fmt.Errorf("%w: chunked encoding with too much besides data", ErrBadResponse)
		}
		if size == 0 {
			c.head.nbytes = 0
			c.head.trailer = true
			err := c.readFields(false)
			c.head.trailer = false
			if err != nil {
				return fmt.Errorf("reading trailers: %w", err)
			}
			return nil
		}
		if err := c.copyN(w, size, stream); err != nil {
			return err
		}
		crlf, err := c.br.Peek(2)
		if err != nil {
			return bodyReadErr(err)
		}
		if crlf[0] != '\r' || crlf[1] != '\n' {
			return fmt.Errorf("%w: missing CRLF after chunk", ErrBadResponse)
		}
		_, _ = c.br.Discard(2)
		if stream && c.br.Buffered() == 0 {
			if err := flush(w); err != nil {
				return &errClientWrite{err}
			}
		}
	}
}

// readChunkLine returns the next chunk-size line without its CRLF: it
// must end in CRLF (a bare LF is not a line end here, RFC 9112 erratum
// 7633), hold no other CR, and fit in maxChunkLine with its CRLF. The slice is
// valid until the next read from c.br.
func (c *conn) readChunkLine() ([]byte, error) {
	line, err := c.br.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return nil, fmt.Errorf("%w: chunk-size line too long", ErrBadResponse)
	case err != nil:
		return nil, bodyReadErr(err)
	}
	if i := bytes.IndexByte(line, '\r'); len(line) < 2 || i != len(line)-2 {
		return nil, fmt.Errorf("%w: chunk-size line %q does not end in CRLF", ErrBadResponse, clip(line))
	}
	if len(line) > maxChunkLine {
		return nil, fmt.Errorf("%w: chunk-size line too long", ErrBadResponse)
	}
	return line[:len(line)-2], nil
}

// parseChunkSize parses a chunk-size line: hex digits, then optional
// extensions after ';' (ignored); whitespace only at the end of the line.
func parseChunkSize(line []byte) (int64, bool) {
	line = bytes.TrimRight(line, " \t")
	if i := bytes.IndexByte(line, ';'); i >= 0 {
		line = line[:i]
	}
	if len(line) == 0 || len(line) > 15 {
		return 0, false
	}
	var n int64
	for _, b := range line {
		switch {
		case b >= '0' && b <= '9':
			n = n<<4 | int64(b-'0')
		case b >= 'a' && b <= 'f':
			n = n<<4 | int64(b-'a'+10)
		case b >= 'A' && b <= 'F':
			n = n<<4 | int64(b-'A'+10)
		default:
			return 0, false
		}
	}
	return n, true
}

// copyTrailers moves the trailer fields in c.head into h under
// http.TrailerPrefix, which net/http sends whether or not the name was
// declared. The header map is no longer sent at this point; a declared name
// is removed from it so that a header of the same name is not sent again
// as a trailer.
func (c *conn) copyTrailers(h http.Header) {
	declared := h["Trailer"]
	for i := range c.head.fields {
		f := &c.head.fields[i]
		if hopByHop(f.key) || f.key == "Content-Length" {
			continue
		}
		if len(declared) > 0 && httpsyntax.HasToken(declared, f.key) {
			delete(h, f.key)
		}
		k := http.TrailerPrefix + f.key
		h[k] = append(h[k], f.val)
	}
}

// relayInformational sends a 1xx response (other than 100 and 101) to the
// client and removes its fields from the header map again.
func (c *conn) relayInformational(w http.ResponseWriter) {
	h := w.Header()
	var added []string
	for i := range c.head.fields {
		f := &c.head.fields[i]
		if hopByHop(f.key) {
			continue
		}
		if _, ok := h[f.key]; !ok {
			added = append(added, f.key)
		}
		h[f.key] = append(h[f.key], f.val)
	}
	w.WriteHeader(c.head.status)
	for _, k := range added {
		delete(h, k)
	}
}
