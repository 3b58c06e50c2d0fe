package http1

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// autoLengthMax is the most body a handler may write, without Flush or a
// Content-Length of its own, for the server to send it with a
// Content-Length rather than chunked (net/http's figure).
const autoLengthMax = 2048

// response is the http.ResponseWriter of one request.
type response struct {
	c    *conn
	req  *http.Request
	body *body // nil without a body
	h    http.Header

	status     int   // the final status, once set
	sent       bool  // the status line and header are in c.bw
	length     int64 // Content-Length in the header, or -1
	written    int64 // body bytes the handler wrote
	chunked    bool
	bodyOK     bool // the status and method allow body bytes
	closeAfter bool // the connection ends after this response
	hijacked   bool
	autoLength bool  // the server computed length (the whole body was pending)
	writeErr   error // sticky error writing to the client
	pending    []byte
}

// Header returns the header the response will carry.
func (w *response) Header() http.Header { return w.h }

// WriteHeader sets the status: an informational one (1xx but 101) is
// written at once; a final one is written with the body or at the end.
func (w *response) WriteHeader(code int) {
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if w.hijacked {
		w.c.srv.logf("http1: WriteHeader on a hijacked connection")
		return
	}
	if w.status != 0 {
		return // superfluous, as net/http logs and ignores
	}
	if code < 200 && code != http.StatusSwitchingProtocols {
		w.c.wmu.Lock()
		defer w.c.wmu.Unlock()
		w.writeInformational(code)
		return
	}
	w.status = code
	w.bodyOK = bodyAllowed(code) && w.req.Method != http.MethodHead
	w.length = -1
	if cl := w.h["Content-Length"]; len(cl) > 0 {
		if n, ok := parseContentLength(strings.TrimSpace(cl[0])); ok {
			w.length = n
		} else {
			delete(w.h, "Content-Length")
		}
	}
}

// bodyAllowed reports whether a response with status code has a body.
func bodyAllowed(code int) bool {
	return code >= 200 && code != http.StatusNoContent && code != http.StatusNotModified
}

// writeInformational writes a 1xx response and flushes it. Called with
// c.wmu held.
func (w *response) writeInformational(code int) {
	bw := w.c.bw
	writeStatusLine(bw, code)
	for k, vv := range w.h {
		writeField(bw, k, vv)
	}
	bw.WriteString("\r\n")
	if code == http.StatusContinue && w.body != nil {
		w.body.cont.Store(false)
	}
	w.setWriteErr(bw.Flush())
}

// Write writes body bytes.
func (w *response) Write(p []byte) (int, error) {
	if w.hijacked {
		return 0, http.ErrHijacked
	}
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	if w.length >= 0 && w.written+int64(len(p)) > w.length {
		return 0, http.ErrContentLength
	}
	w.written += int64(len(p))
	if !w.bodyOK { // HEAD: counted, not sent
		return len(p), nil
	}
	w.c.wmu.Lock()
	defer w.c.wmu.Unlock()
	if w.writeErr != nil {
		return 0, w.writeErr
	}
	if !w.sent {
		if w.length < 0 && len(w.pending)+len(p) <= autoLengthMax {
			w.pending = append(w.pending, p...)
			return len(p), nil
		}
		w.sendHead(p)
	}
	return w.writeBody(p)
}

// WriteString writes body bytes (io.StringWriter).
func (w *response) WriteString(s string) (int, error) { return w.Write([]byte(s)) }

// writeBody writes p after the header, as a chunk when chunked. Called
// with c.wmu held.
func (w *response) writeBody(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	bw := w.c.bw
	if w.chunked {
		bw.Write(strconv.AppendInt(bw.AvailableBuffer(), int64(len(p)), 16))
		bw.WriteString("\r\n")
	}
	n, err := bw.Write(p)
	if w.chunked {
		bw.WriteString("\r\n")
	}
	w.setWriteErr(err)
	return n, w.writeErr
}

// setWriteErr keeps the first error writing to the client.
func (w *response) setWriteErr(err error) {
	if err != nil && w.writeErr == nil {
		w.writeErr = err
		w.closeAfter = true
	}
}

// Flush sends the header and what is buffered.
func (w *response) Flush() { _ = w.FlushError() }

// FlushError sends the header and what is buffered, and reports a write
// error.
func (w *response) FlushError() error {
	if w.hijacked {
		return http.ErrHijacked
	}
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	w.c.wmu.Lock()
	defer w.c.wmu.Unlock()
	if !w.sent {
		w.sendHead(nil)
	}
	if w.writeErr != nil {
		return w.writeErr
	}
	w.setWriteErr(w.c.bw.Flush())
	return w.writeErr
}

// Hijack hands the connection to the handler, before any of the response
// was sent.
func (w *response) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.hijacked {
		return nil, nil, http.ErrHijacked
	}
	if w.sent {
		return nil, nil, errors.New("http1: Hijack after the response header was sent")
	}
	w.hijacked = true
	return w.c.hijack()
}

// SetReadDeadline sets the connection's read deadline (for the body); it
// is cleared before the next request.
func (w *response) SetReadDeadline(t time.Time) error {
	w.c.readDeadlineSet = true
	return w.c.nc.SetReadDeadline(t)
}

// SetWriteDeadline sets the connection's write deadline; it is cleared
// before the next request.
func (w *response) SetWriteDeadline(t time.Time) error {
	w.c.writeDeadlineSet = true
	return w.c.nc.SetWriteDeadline(t)
}

// EnableFullDuplex is always on here: the body can be read while the
// response is written.
func (w *response) EnableFullDuplex() error { return nil }

// finish ends the response once the handler returned: the header if not
// sent yet (with the body's length when all of it is pending), the last
// chunk and trailers, and a flush.
func (w *response) finish() {
	if w.hijacked {
		return
	}
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	w.c.wmu.Lock()
	defer w.c.wmu.Unlock()
	if !w.sent {
		if w.length < 0 && bodyAllowed(w.status) && !w.hasTrailers() {
			if w.bodyOK {
				w.length = int64(len(w.pending))
			} else if w.written > 0 {
				w.length = w.written // HEAD: the length GET would have had
			}
			w.autoLength = true
		}
		w.sendHead(nil)
	}
	if w.chunked {
		bw := w.c.bw
		bw.WriteString("0\r\n")
		w.writeTrailers()
		bw.WriteString("\r\n")
	}
	if w.bodyOK && w.length >= 0 && w.written < w.length {
		w.closeAfter = true // the client waits for bytes that will not come
	}
	if w.writeErr == nil {
		w.setWriteErr(w.c.bw.Flush())
	}
}
