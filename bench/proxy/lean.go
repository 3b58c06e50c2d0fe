package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// The lean loop (-mode lean) is a measuring prototype, not poolctl's
// front: it shows what serving HTTP/1.1 without net/http's server costs
// when the handler still calls forward.Target.Forward with an
// http.ResponseWriter and an *http.Request. One goroutine per client
// connection reads a request head, calls the handler, and writes the
// response into a per-connection buffer that is flushed only when no
// pipelined request is already buffered. No per-request goroutine, no
// deadline changes, one *http.Request, header map and URL per connection,
// reused. It handles what the benchmark sends (GET, HEAD, bodies with
// Content-Length, keep-alive and Connection: close) and answers anything
// else with 400 and a close.

// leanServe accepts connections on ln until ctx ends.
func leanServe(ctx context.Context, ln net.Listener, h http.Handler) error {
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("accept: %w", err)
		}
		go leanConn(ctx, c, h)
	}
}

// leanResponse is the connection's http.ResponseWriter.
type leanResponse struct {
	bw      *bufio.Writer
	h       http.Header
	status  int
	chunked bool
	head    bool // answering HEAD: no body bytes
	close   bool
}

func (w *leanResponse) Header() http.Header { return w.h }

// WriteHeader writes the status line and header; the framing is the
// handler's Content-Length, or chunked.
func (w *leanResponse) WriteHeader(code int) {
	if w.status != 0 {
		return
	}
	if code < 200 {
		return // informational answers are not relayed by the prototype
	}
	w.status = code
	bw := w.bw
	bw.WriteString("HTTP/1.1 ")
	bw.Write(strconv.AppendInt(bw.AvailableBuffer(), int64(code), 10))
	bw.WriteString(" ")
	bw.WriteString(http.StatusText(code))
	bw.WriteString("\r\n")
	_, hasLen := w.h["Content-Length"]
	w.chunked = !hasLen && !w.head && code != http.StatusNoContent && code != http.StatusNotModified
	for k, vv := range w.h {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			continue
		}
		for _, v := range vv {
			bw.WriteString(k)
			bw.WriteString(": ")
			bw.WriteString(v)
			bw.WriteString("\r\n")
		}
	}
	if w.chunked {
		bw.WriteString("Transfer-Encoding: chunked\r\n")
	}
	if w.close {
		bw.WriteString("Connection: close\r\n")
	}
	bw.WriteString("\r\n")
}

// Write writes body bytes (as one chunk when chunked).
func (w *leanResponse) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.head || len(p) == 0 {
		return len(p), nil
	}
	if w.chunked {
		w.bw.Write(strconv.AppendInt(w.bw.AvailableBuffer(), int64(len(p)), 16))
		w.bw.WriteString("\r\n")
		n, err := w.bw.Write(p)
		w.bw.WriteString("\r\n")
		return n, err
	}
	return w.bw.Write(p)
}

// Flush sends what is buffered.
func (w *leanResponse) Flush() { _ = w.bw.Flush() }

// finish ends the response (last chunk and trailers).
func (w *leanResponse) finish() {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !w.chunked {
		return
	}
	w.bw.WriteString("0\r\n")
	for k, vv := range w.h {
		if name, ok := strings.CutPrefix(k, http.TrailerPrefix); ok {
			for _, v := range vv {
				w.bw.WriteString(name + ": " + v + "\r\n")
			}
		}
	}
	w.bw.WriteString("\r\n")
}

// errLeanBad is a request the prototype does not take.
var errLeanBad = errors.New("lean: request not supported")

// leanConn serves one client connection.
func leanConn(ctx context.Context, c net.Conn, h http.Handler) {
	defer c.Close()
	br := bufio.NewReaderSize(c, 4096)
	w := &leanResponse{bw: bufio.NewWriterSize(c, 4096), h: http.Header{}}
	r := (&http.Request{Header: http.Header{}, RemoteAddr: c.RemoteAddr().String(),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}).WithContext(ctx)
	keys := map[string]string{}
	lastURI := ""
	for {
		if err := leanReadHead(br, r, keys, &lastURI); err != nil {
			if !errors.Is(err, io.EOF) {
				_, _ = w.bw.WriteString("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
				_ = w.bw.Flush()
			}
			return
		}
		clear(w.h)
		w.status, w.head = 0, r.Method == http.MethodHead
		w.close = r.Close
		h.ServeHTTP(w, r)
		w.finish()
		if r.Body != http.NoBody {
			if _, err := io.Copy(io.Discard, r.Body); err != nil {
				w.close = true
			}
		}
		if w.close || br.Buffered() == 0 {
			if err := w.bw.Flush(); err != nil {
				return
			}
		}
		if w.close {
			return
		}
	}
}

// leanReadHead reads a request head into r, reusing its header map and,
// when the target repeats, its URL.
func leanReadHead(br *bufio.Reader, r *http.Request, keys map[string]string, lastURI *string) error {
	line, err := leanLine(br)
	if err != nil {
		return err
	}
	m, rest, ok1 := bytes.Cut(line, []byte{' '})
	uri, proto, ok2 := bytes.Cut(rest, []byte{' '})
	if !ok1 || !ok2 || len(m) == 0 || len(uri) == 0 || string(proto) != "HTTP/1.1" && string(proto) != "HTTP/1.0" {
		return errLeanBad
	}
	if string(m) != r.Method {
		r.Method = string(m)
	}
	if string(uri) != *lastURI || r.URL == nil {
		u, err := url.ParseRequestURI(string(uri))
		if err != nil {
			return errLeanBad
		}
		r.URL, r.RequestURI = u, string(uri)
		*lastURI = r.RequestURI
	}
	http10 := proto[7] == '0'
	clear(r.Header)
	r.Host, r.ContentLength, r.Body, r.Close = "", 0, http.NoBody, http10
	for {
		line, err := leanLine(br)
		if err != nil {
			return err
		}
		if len(line) == 0 {
			break
		}
		k, v, ok := bytes.Cut(line, []byte{':'})
		if !ok || len(k) == 0 {
			return errLeanBad
		}
		key, ok := keys[string(k)]
		if !ok {
			key = http.CanonicalHeaderKey(string(k))
			keys[string(k)] = key
		}
		val := string(bytes.Trim(v, " \t"))
		switch key {
		case "Host":
			r.Host = val
			continue
		case "Content-Length":
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil || n < 0 {
				return errLeanBad
			}
			r.ContentLength = n
		case "Transfer-Encoding":
			return errLeanBad
		case "Connection":
			if strings.EqualFold(val, "close") {
				r.Close = true
			} else if strings.EqualFold(val, "keep-alive") {
				r.Close = false
			}
		}
		r.Header[key] = append(r.Header[key], val)
	}
	if r.ContentLength > 0 {
		r.Body = io.NopCloser(io.LimitReader(br, r.ContentLength))
	}
	return nil
}

// leanLine reads one line (at most the reader's buffer) without its end.
func leanLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, io.EOF) && len(line) == 0 {
			return nil, io.EOF
		}
		return nil, errLeanBad
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}
