package http1

import (
	"io"
	"net/http"
)

// Entry points of the parsers for the fuzz and differential tests.

// parseHead parses one complete request head (request line, fields, the
// final empty line; CRLF line ends) into a new *http.Request. Body,
// RemoteAddr and the context are not set. An invalid head returns a
// *headError.
func parseHead(head []byte, maxFields int) (*http.Request, error) {
	r := &http.Request{}
	if err := parseHeadInto(r, head, maxFields, nil); err != nil {
		return nil, err
	}
	return r, nil
}

// decodeChunked decodes a whole chunked body from src as the server
// would for a handler, with the given head limits (0: the defaults): the
// data and the trailer, or the error the handler would have seen. For
// tests and fuzzing.
func decodeChunked(src io.Reader, maxHeaderBytes, maxFields int) ([]byte, http.Header, error) {
	srv := &Server{MaxHeaderBytes: maxHeaderBytes, MaxHeaderFields: maxFields}
	c := &conn{srv: srv, in: inbuf{src: src, buf: make([]byte, inbufSize)}}
	r := &http.Request{}
	b := &body{c: c, r: r, chunked: true}
	data, err := io.ReadAll(b)
	return data, r.Trailer, err
}
