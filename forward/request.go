package forward

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/poolctl/poolctl/internal/httpsyntax"
)

// bodyMode says how the request body travels to the backend.
type bodyMode uint8

const (
	bodyNone   bodyMode = iota // no body
	bodyInline                 // known small length, copied before reading the response
	bodyStream                 // copied by a goroutine while the response is read
)

// inlineBodyMax is the largest Content-Length copied inline, before the
// response is read. Larger bodies, bodies of unknown length and bodies
// behind Expect: 100-continue stream from a goroutine, so that a backend
// answering early (413, 401, ...) is relayed at once and cannot deadlock.
const inlineBodyMax = 64 << 10

// requestBodyMode picks the bodyMode for r.
func requestBodyMode(r *http.Request, hasBody bool) bodyMode {
	switch {
	case !hasBody:
		return bodyNone
	case r.ContentLength > 0 && r.ContentLength <= inlineBodyMax && len(r.Header["Expect"]) == 0:
		return bodyInline
	default:
		return bodyStream
	}
}

// writeHead writes the request line and header of r to c.bw (without
// flushing). chunked selects Transfer-Encoding: chunked for the body;
// upgrade keeps the Connection: Upgrade and Upgrade headers.
func (c *conn) writeHead(r *http.Request, mode bodyMode, upgrade bool) error {
	if !httpsyntax.ValidToken(r.Method) {
		return fmt.Errorf("%w: invalid method %q", ErrBadRequest, r.Method)
	}
	host := r.Host
	if host == "" && r.URL != nil {
		host = r.URL.Host
	}
	if strings.ContainsAny(host, " \r\n\t") {
		return fmt.Errorf("%w: invalid host %q", ErrBadRequest, host)
	}
	bw := c.bw
	bw.WriteString(r.Method)
	bw.WriteByte(' ')
	if err := writeRequestURI(bw, r); err != nil {
		return err
	}
	bw.WriteString(" HTTP/1.1\r\nHost: ")
	bw.WriteString(host)
	bw.WriteString("\r\n")

	h := r.Header
	connTokens := h["Connection"]
	var te, prior []string
	present := false
	for k, vv := range h {
		switch k {
		case "Te":
			te = vv
			continue
		case "X-Forwarded-For":
			prior, present = vv, true
			continue
		case "Host", "Content-Length", "Expect", "X-Forwarded-Proto", "X-Forwarded-Host":
			continue
		}
		if hopByHop(k) || !httpsyntax.ValidToken(k) {
			continue
		}
		if len(connTokens) > 0 && !strings.HasPrefix(k, PrivatePrefix) && httpsyntax.HasToken(connTokens, k) {
			continue
		}
		for _, v := range vv {
			writeField(bw, k, v)
		}
	}
	if upgrade {
		bw.WriteString("Connection: Upgrade\r\n")
		for _, v := range h["Upgrade"] {
			writeField(bw, "Upgrade", v)
		}
	}
	if len(te) > 0 && httpsyntax.HasToken(te, "trailers") {
		bw.WriteString("Te: trailers\r\n")
	}

	// X-Forwarded-*: append the client to X-Forwarded-For; a nil entry in
	// the map (as with httputil.ReverseProxy) means "do not send it".
	ip := clientIP(r.RemoteAddr)
	if !(present && prior == nil) && (ip != "" || len(prior) > 0) {
		bw.WriteString("X-Forwarded-For: ")
		sep := false
		for _, p := range prior {
			if sep {
				bw.WriteString(", ")
			}
			writeValue(bw, p)
			sep = true
		}
		if ip != "" {
			if sep {
				bw.WriteString(", ")
			}
			bw.WriteString(ip)
		}
		bw.WriteString("\r\n")
	}
	if r.TLS != nil {
		bw.WriteString("X-Forwarded-Proto: https\r\n")
	} else {
		bw.WriteString("X-Forwarded-Proto: http\r\n")
	}
	if host != "" {
		bw.WriteString("X-Forwarded-Host: ")
		bw.WriteString(host)
		bw.WriteString("\r\n")
	}

	switch {
	case mode == bodyNone:
		if r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch {
			bw.WriteString("Content-Length: 0\r\n")
		}
	case r.ContentLength > 0:
		bw.WriteString("Content-Length: ")
		bw.Write(strconv.AppendInt(bw.AvailableBuffer(), r.ContentLength, 10))
		bw.WriteString("\r\n")
	default:
		bw.WriteString("Transfer-Encoding: chunked\r\n")
		if len(r.Trailer) > 0 {
			bw.WriteString("Trailer: ")
			sep := false
			for k := range r.Trailer {
				if !httpsyntax.ValidToken(k) || hopByHop(k) || k == "Content-Length" {
					continue
				}
				if sep {
					bw.WriteString(", ")
				}
				bw.WriteString(k)
				sep = true
			}
			bw.WriteString("\r\n")
		}
	}
	_, err := bw.WriteString("\r\n")
	return err
}

// writeRequestURI writes the origin-form request target of r.
func writeRequestURI(bw *bufio.Writer, r *http.Request) error {
	u := r.URL
	if u == nil {
		return fmt.Errorf("%w: no URL", ErrBadRequest)
	}
	if u.Opaque != "" {
		// Only an origin-form path or an absolute URI: an opaque target
		// such as "a:b" would reach the worker as "b".
		uri := u.RequestURI()
		if strings.ContainsAny(uri, " \r\n\t") || !strings.HasPrefix(uri, "/") && !strings.HasPrefix(uri, u.Scheme+"://") {
			return fmt.Errorf("%w: invalid request URI", ErrBadRequest)
		}
		bw.WriteString(uri)
		return nil
	}
	p := u.EscapedPath()
	switch {
	case p == "":
		p = "/"
	case p[0] != '/' && p != "*":
		bw.WriteByte('/')
	}
	bw.WriteString(p)
	if u.ForceQuery || u.RawQuery != "" {
		if strings.ContainsAny(u.RawQuery, " \r\n\t") {
			return fmt.Errorf("%w: invalid query", ErrBadRequest)
		}
		bw.WriteByte('?')
		bw.WriteString(u.RawQuery)
	}
	return nil
}

// writeField writes "k: v\r\n".
func writeField(bw *bufio.Writer, k, v string) {
	bw.WriteString(k)
	bw.WriteString(": ")
	writeValue(bw, v)
	bw.WriteString("\r\n")
}

// writeValue writes a header value, turning any CR or LF into a space so a
// value set by the caller cannot inject header lines.
func writeValue(bw *bufio.Writer, v string) {
	if strings.IndexByte(v, '\r') < 0 && strings.IndexByte(v, '\n') < 0 {
		bw.WriteString(v)
		return
	}
	for i := 0; i < len(v); i++ {
		if b := v[i]; b == '\r' || b == '\n' {
			bw.WriteByte(' ')
		} else {
			bw.WriteByte(b)
		}
	}
}

// clientIP returns the address part of a RemoteAddr ("" when there is none,
// as on a unix socket).
func clientIP(remote string) string {
	if host, _, err := net.SplitHostPort(remote); err == nil {
		return host
	}
	if remote == "@" || strings.ContainsAny(remote, " \r\n\t,") {
		return ""
	}
	return remote
}

// clientError marks an error that came from reading the client's request
// body rather than from the backend.
type clientError struct{ err error }

func (e *clientError) Error() string { return "reading request body: " + e.err.Error() }
func (e *clientError) Unwrap() error { return e.err }

// Is makes errors.Is(err, ErrRequestBody) true for a clientError.
func (e *clientError) Is(target error) bool { return target == ErrRequestBody }

// writeInlineBody copies a body of known length n from body into c.bw,
// reading straight into the writer's free space.
func (c *conn) writeInlineBody(body io.Reader, n int64) error {
	bw := c.bw
	for n > 0 {
		if bw.Available() == 0 {
			if err := bw.Flush(); err != nil {
				return err
			}
		}
		buf := bw.AvailableBuffer()
		buf = buf[:min(int64(cap(buf)), n)]
		k, err := body.Read(buf)
		if k > 0 {
			bw.Write(buf[:k])
			n -= int64(k)
		}
		if err == io.EOF {
			if n > 0 {
				return &clientError{io.ErrUnexpectedEOF}
			}
			break
		}
		if err != nil {
			return &clientError{err}
		}
	}
	return nil
}

// bodyCopy is the state of a request body streamed by a goroutine.
type bodyCopy struct {
	done    chan error  // receives the copy's result once
	reading atomic.Bool // the goroutine may be blocked reading the client
	stopped bool        // finish cut the client read short (not the client's fault)
}

// startBodyCopy starts copying r.Body to the backend (chunked when the
// length is unknown) and returns its state.
func (c *conn) startBodyCopy(r *http.Request) *bodyCopy {
	bc := &bodyCopy{done: make(chan error, 1)}
	bc.reading.Store(true)
	go func() {
		err := c.copyBody(r, bc)
		if isClientError(err) {
			// The backend will never see the end of this body, so the
			// answer it would give cannot come: end the backend side at
			// once (a blocked read of the response head returns), rather
			// than leave both sides waiting on each other.
			c.close()
		}
		bc.done <- err
	}()
	return bc
}

// copyBody streams r.Body to the backend, flushing after every read so the
// backend sees data as the client sends it.
func (c *conn) copyBody(r *http.Request, bc *bodyCopy) error {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	chunked := r.ContentLength <= 0
	remaining := r.ContentLength
	bw := c.bw
	for {
		n, rerr := r.Body.Read(buf)
		if n > 0 {
			if chunked {
				bw.Write(strconv.AppendInt(bw.AvailableBuffer(), int64(n), 16))
				bw.WriteString("\r\n")
				bw.Write(buf[:n])
				bw.WriteString("\r\n")
			} else {
				if int64(n) > remaining {
					bc.reading.Store(false)
					return &clientError{fmt.Errorf("body longer than Content-Length %d", r.ContentLength)}
				}
				remaining -= int64(n)
				bw.Write(buf[:n])
				if remaining == 0 {
					// All of it: do not block in another Read.
					break
				}
			}
			if rerr == nil {
				if err := bw.Flush(); err != nil {
					bc.reading.Store(false)
					return err
				}
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			bc.reading.Store(false)
			return &clientError{rerr}
		}
	}
	bc.reading.Store(false)
	if !chunked {
		if remaining > 0 {
			return &clientError{io.ErrUnexpectedEOF}
		}
		return bw.Flush()
	}
	bw.WriteString("0\r\n")
	for k, vv := range r.Trailer {
		if !httpsyntax.ValidToken(k) || hopByHop(k) || k == "Content-Length" {
			continue
		}
		for _, v := range vv {
			writeField(bw, k, v)
		}
	}
	bw.WriteString("\r\n")
	return bw.Flush()
}

// clientFault reports whether err, the copy's result, is the client's
// fault: reading its body failed, and not because finish cut it short.
// A nil bc (no copy) never is.
func (bc *bodyCopy) clientFault(err error) bool {
	return bc != nil && isClientError(err) && !bc.stopped
}

// finish waits for the body copy to end, first unblocking it if it is
// still running (the response is complete, or failed, before the whole
// body went out): a write deadline for the backend side and, if it may be
// blocked on the client, a read deadline for the client side. It returns
// the copy's result; nil means the whole body was sent.
//
// A client read that fails on its own (a body deadline, a broken
// connection) cancels ctx inside net/http before the copy goroutine has
// reported it, and that cancellation aborts the backend call, so finish may
// run while the goroutine is still on its way out. The client's context,
// read before finish sets its own deadline, tells the two apart: only a
// copy cut short while the client was still there is "stopped" (not the
// client's fault).
func (bc *bodyCopy) finish(ctx context.Context, c *conn, w http.ResponseWriter) error {
	select {
	case err := <-bc.done:
		return err
	default:
	}
	clientFailed := ctx.Err() != nil
	_ = c.nc.SetWriteDeadline(aLongTimeAgo)
	rc := http.NewResponseController(w)
	unblocked := false
	if bc.reading.Load() {
		unblocked = rc.SetReadDeadline(aLongTimeAgo) == nil
	}
	err := <-bc.done
	if unblocked {
		bc.stopped = !clientFailed
		_ = rc.SetReadDeadline(time.Time{})
	}
	if err == nil {
		// The whole body went out after all: the connection is still
		// good once its deadline is cleared.
		if derr := c.nc.SetWriteDeadline(time.Time{}); derr != nil {
			return derr
		}
	}
	return err
}
