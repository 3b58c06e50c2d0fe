package http1

import (
	"bufio"
	"net/http"
	"strconv"
	"strings"

	"github.com/poolctl/poolctl/internal/httpsyntax"
)

// sendHead writes the status line and header to the connection's buffer
// and settles the framing: the Content-Length, else chunked (HTTP/1.1)
// or to the connection's close (HTTP/1.0). first is the first body bytes
// when none are pending (for sniffing a Content-Type). Called with c.wmu
// held.
func (w *response) sendHead(first []byte) {
	w.sent = true
	c, r := w.c, w.req
	if b := w.body; b != nil && b.cont.Swap(false) {
		// 100 Continue was never sent: the client may not send its body
		// at all, so the connection cannot carry another request.
		w.closeAfter = true
	}
	if r.Close || httpsyntax.HasToken(w.h["Connection"], "close") || c.srv.shuttingDown() {
		w.closeAfter = true
	}
	if w.length < 0 && w.bodyOK {
		if r.ProtoMinor >= 1 {
			w.chunked = true
		} else {
			w.closeAfter = true // the body ends when the connection does
		}
	}
	trailers := w.h["Trailer"]
	bw := c.bw
	writeStatusLine(bw, w.status)
	for k, vv := range w.h {
		switch {
		case k == "Connection" || k == "Transfer-Encoding":
			continue // decided below
		case k == "Content-Length" && w.chunked:
			continue
		case strings.HasPrefix(k, http.TrailerPrefix):
			continue
		case len(trailers) > 0 && httpsyntax.HasToken(trailers, k):
			continue // a trailer: sent after the body
		case !httpsyntax.ValidToken(k):
			continue
		}
		writeField(bw, k, vv)
	}
	if _, ok := w.h["Date"]; !ok {
		bw.WriteString(currentDate())
	}
	if w.autoLength && w.length >= 0 {
		bw.WriteString("Content-Length: ")
		bw.Write(strconv.AppendInt(bw.AvailableBuffer(), w.length, 10))
		bw.WriteString("\r\n")
	}
	if _, ok := w.h["Content-Type"]; !ok && bodyAllowed(w.status) {
		sniff := w.pending
		if len(sniff) == 0 {
			sniff = first
		}
		if len(sniff) > 0 {
			bw.WriteString("Content-Type: ")
			bw.WriteString(http.DetectContentType(sniff))
			bw.WriteString("\r\n")
		}
	}
	switch {
	case w.closeAfter:
		bw.WriteString("Connection: close\r\n")
	case r.ProtoMinor == 0 && w.length >= 0:
		bw.WriteString("Connection: keep-alive\r\n")
	default:
		if vv := w.h["Connection"]; len(vv) > 0 {
			writeField(bw, "Connection", vv)
		}
	}
	if w.chunked {
		bw.WriteString("Transfer-Encoding: chunked\r\n")
	}
	bw.WriteString("\r\n")
	if len(w.pending) > 0 {
		p := w.pending
		w.pending = nil
		_, _ = w.writeBody(p)
	}
}

// hasTrailers reports whether the handler declared or set trailers.
func (w *response) hasTrailers() bool {
	if len(w.h["Trailer"]) > 0 {
		return true
	}
	for k := range w.h {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			return true
		}
	}
	return false
}

// writeTrailers writes the trailer fields: those the Trailer field
// declared, and those set with http.TrailerPrefix. Called with c.wmu
// held.
func (w *response) writeTrailers() {
	bw := w.c.bw
	httpsyntax.ForEachToken(w.h["Trailer"], func(tok string) bool {
		k := http.CanonicalHeaderKey(tok)
		if vv := w.h[k]; len(vv) > 0 && httpsyntax.ValidToken(k) && !forbiddenTrailer(k) {
			writeField(bw, k, vv)
		}
		return true
	})
	for k, vv := range w.h {
		if name, ok := strings.CutPrefix(k, http.TrailerPrefix); ok && httpsyntax.ValidToken(name) && !forbiddenTrailer(http.CanonicalHeaderKey(name)) {
			writeField(bw, name, vv)
		}
	}
}

// writeStatusLine writes "HTTP/1.1 code text".
func writeStatusLine(bw *bufio.Writer, code int) {
	bw.WriteString("HTTP/1.1 ")
	bw.Write(strconv.AppendInt(bw.AvailableBuffer(), int64(code), 10))
	bw.WriteByte(' ')
	if text := http.StatusText(code); text != "" {
		bw.WriteString(text)
	} else {
		bw.WriteString("status code ")
		bw.Write(strconv.AppendInt(bw.AvailableBuffer(), int64(code), 10))
	}
	bw.WriteString("\r\n")
}

// writeField writes one field line per value; CR and LF in a value become
// spaces.
func writeField(bw *bufio.Writer, k string, vv []string) {
	for _, v := range vv {
		bw.WriteString(k)
		bw.WriteString(": ")
		if strings.ContainsAny(v, "\r\n") {
			v = strings.Map(func(r rune) rune {
				if r == '\r' || r == '\n' {
					return ' '
				}
				return r
			}, v)
		}
		bw.WriteString(trimOWS(v))
		bw.WriteString("\r\n")
	}
}
