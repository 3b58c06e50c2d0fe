package http1

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

// get sends req on a fresh connection to a server running h and returns
// the final response (body read) and the connection.
func get(t *testing.T, h http.HandlerFunc, req string) (*http.Response, string, *client) {
	t.Helper()
	ts := start(t, h)
	c := ts.dial(t)
	c.send(req)
	method, _, _ := strings.Cut(req, " ")
	resp, body, err := c.response(method)
	if err != nil {
		t.Fatalf("reading the body: %v", err)
	}
	return resp, body, c
}

const getReq = "GET / HTTP/1.1\r\nHost: a\r\n\r\n"

// Contract item 6: Date is added unless the handler's header has the key.
func TestResponseDate(t *testing.T) {
	resp, _, _ := get(t, reply, getReq)
	if _, err := http.ParseTime(resp.Header.Get("Date")); err != nil {
		t.Errorf("Date %q: %v", resp.Header.Get("Date"), err)
	}
	resp, _, _ = get(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", "mine")
		reply(w, r)
	}, getReq)
	if got := resp.Header["Date"]; !reflect.DeepEqual(got, []string{"mine"}) {
		t.Errorf("Date %q, want the handler's", got)
	}
	resp, _, _ = get(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Date"] = nil
		reply(w, r)
	}, getReq)
	if got, ok := resp.Header["Date"]; ok {
		t.Errorf("Date %q, want none (the handler has the key with no value)", got)
	}
}

// Contract item 6: Content-Type is sniffed when the handler's header has
// no such key and the body is not empty.
func TestResponseContentType(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    http.HandlerFunc
		want []string
	}{
		{"html", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "<html><body>hi") }, []string{"text/html; charset=utf-8"}},
		{"text", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") }, []string{"text/plain; charset=utf-8"}},
		{"binary", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte{0, 1, 2, 0xff}) }, []string{"application/octet-stream"}},
		{"empty body", func(w http.ResponseWriter, r *http.Request) {}, nil},
		{"handler's", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/x-mine")
			io.WriteString(w, "<html>")
		}, []string{"application/x-mine"}},
		{"key without value", func(w http.ResponseWriter, r *http.Request) {
			w.Header()["Content-Type"] = nil
			io.WriteString(w, "<html>")
		}, nil},
		{"sniffed from the first write, large and flushed", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "<html>"+strings.Repeat("x", 3000))
			w.(http.Flusher).Flush()
			io.WriteString(w, "more")
		}, []string{"text/html; charset=utf-8"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, _, _ := get(t, tc.h, getReq)
			if got := resp.Header["Content-Type"]; !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Content-Type %q, want %q", got, tc.want)
			}
		})
	}
}

// Contract item 6: the framing the server picks: the handler's
// Content-Length; Content-Length for at most 2048 bytes written before the
// handler returns without Flush; chunked otherwise (HTTP/1.1).
func TestResponseFraming(t *testing.T) {
	writeN := func(n, pieces int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			for i := range pieces {
				io.WriteString(w, strings.Repeat("x", n/pieces+boolInt(i < n%pieces)))
			}
		}
	}
	for _, tc := range []struct {
		name    string
		h       http.HandlerFunc
		size    int
		chunked bool
	}{
		{"nothing", writeN(0, 1), 0, false},
		{"1 byte", writeN(1, 1), 1, false},
		{"2048 bytes", writeN(2048, 1), 2048, false},
		{"2048 bytes in 7 writes", writeN(2048, 7), 2048, false},
		{"2049 bytes", writeN(2049, 1), 2049, true},
		{"2049 bytes in 7 writes", writeN(2049, 7), 2049, true},
		{"100 KiB", writeN(100<<10, 3), 100 << 10, true},
		{"small then Flush", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "abc")
			w.(http.Flusher).Flush()
		}, 3, true},
		{"Flush first", func(w http.ResponseWriter, r *http.Request) {
			w.(http.Flusher).Flush()
			io.WriteString(w, "abc")
		}, 3, true},
		{"handler's Content-Length, large, flushed", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "5000")
			io.WriteString(w, strings.Repeat("y", 2500))
			w.(http.Flusher).Flush()
			io.WriteString(w, strings.Repeat("y", 2500))
		}, 5000, false},
		{"handler's Content-Length 0", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "0")
			w.WriteHeader(200)
		}, 0, false},
		{"WriteHeader only", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(201) }, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body, c := get(t, tc.h, getReq)
			if len(body) != tc.size {
				t.Fatalf("body of %d bytes, want %d", len(body), tc.size)
			}
			if tc.chunked {
				if !reflect.DeepEqual(resp.TransferEncoding, []string{"chunked"}) || resp.ContentLength != -1 {
					t.Errorf("Transfer-Encoding %q, Content-Length %d; want chunked", resp.TransferEncoding, resp.ContentLength)
				}
			} else if resp.TransferEncoding != nil || resp.ContentLength != int64(tc.size) || resp.Header.Get("Content-Length") == "" {
				t.Errorf("Transfer-Encoding %q, Content-Length %d (%q); want Content-Length %d", resp.TransferEncoding, resp.ContentLength, resp.Header.Get("Content-Length"), tc.size)
			}
			c.expectOpen()
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Contract item 6: the chunked encoding on the wire, byte for byte: hex
// sizes, CRLFs, the last chunk and the final CRLF, no empty chunk in the
// middle.
func TestResponseChunkedBytes(t *testing.T) {
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", "d")
		w.Header().Set("Content-Type", "t")
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		io.WriteString(w, "hello")
		w.(http.Flusher).Flush()
		w.(http.Flusher).Flush()
		io.WriteString(w, strings.Repeat("z", 26))
	}))
	c := ts.dial(t)
	c.send(getReq)
	want := "HTTP/1.1 200 OK\r\nContent-Type: t\r\nDate: d\r\nTransfer-Encoding: chunked\r\n\r\n" +
		"5\r\nhello\r\n1a\r\n" + strings.Repeat("z", 26) + "\r\n0\r\n\r\n"
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c.br, got); err != nil {
		t.Fatalf("read %q: %v", got, err)
	}
	// Header order is not specified: compare the head as a set of lines.
	gh, gb, _ := strings.Cut(string(got), "\r\n\r\n")
	wh, wb, _ := strings.Cut(want, "\r\n\r\n")
	if !sameLines(gh, wh) || gb != wb {
		t.Fatalf("response\n%q\nwant\n%q", got, want)
	}
	c.expectOpen()
}

// sameLines reports whether a and b hold the same CRLF-separated lines,
// the first in first place, the others in any order.
func sameLines(a, b string) bool {
	al, bl := strings.Split(a, "\r\n"), strings.Split(b, "\r\n")
	if len(al) != len(bl) || al[0] != bl[0] {
		return false
	}
	count := map[string]int{}
	for _, l := range al {
		count[l]++
	}
	for _, l := range bl {
		count[l]--
	}
	for _, n := range count {
		if n != 0 {
			return false
		}
	}
	return true
}

// Contract item 6: to HTTP/1.0 a body without Content-Length is sent
// close-delimited with Connection: close, keep-alive or not.
func TestResponseHTTP10CloseDelimited(t *testing.T) {
	for name, req := range map[string]string{
		"close":      "GET / HTTP/1.0\r\n\r\n",
		"keep-alive": "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			big := strings.Repeat("b", 5000)
			ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "small")
				w.(http.Flusher).Flush()
				io.WriteString(w, big)
			}))
			c := ts.dial(t)
			c.send(req)
			resp, body, err := c.response("GET")
			if err != nil || body != "small"+big {
				t.Fatalf("body of %d bytes (%v)", len(body), err)
			}
			if resp.TransferEncoding != nil || resp.ContentLength != -1 || !resp.Close {
				t.Errorf("Transfer-Encoding %q, Content-Length %d, Close %v; want none, none, true", resp.TransferEncoding, resp.ContentLength, resp.Close)
			}
			c.expectClosed()
		})
	}
}

// Contract item 6: HEAD responses carry no body bytes, whatever the
// handler writes (the next response on the connection parses).
func TestResponseHEAD(t *testing.T) {
	for _, n := range []int{0, 5, 5000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodHead {
					io.WriteString(w, strings.Repeat("h", n))
					return
				}
				io.WriteString(w, "after")
			}))
			c := ts.dial(t)
			c.send("HEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
			resp, _, err := c.response("HEAD")
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("HEAD: %v %v", resp.Status, err)
			}
			if resp.Header.Get("Transfer-Encoding") != "" {
				t.Errorf("HEAD response with Transfer-Encoding %q", resp.Header.Get("Transfer-Encoding"))
			}
			if got := c.ok("GET"); got != "after" {
				t.Fatalf("the response after HEAD: %q", got)
			}
		})
	}
}

// Contract item 6: WriteHeader with a 1xx status (but 101) writes that
// informational response at once; the final one follows.
func TestResponseInformational(t *testing.T) {
	g := newGate(t)
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		g.wait() // the client has read the 103 before the handler goes on
		w.Header().Del("Link")
		io.WriteString(w, "final")
	}))
	c := ts.dial(t)
	c.send(getReq)
	resp, err := http.ReadResponse(c.br, &http.Request{Method: "GET"})
	if err != nil || resp.StatusCode != http.StatusEarlyHints {
		t.Fatalf("first response %v (%v), want 103", resp, err)
	}
	if resp.Header.Get("Link") == "" {
		t.Errorf("103 without the Link field: %v", resp.Header)
	}
	g.open()
	if got := c.ok("GET"); got != "final" {
		t.Fatalf("final body %q", got)
	}
	c.expectOpen()
}

// Contract item 6: 204 and 304 have no body: Write returns
// http.ErrBodyNotAllowed and nothing is sent.
func TestResponseNoBodyStatus(t *testing.T) {
	for _, code := range []int{http.StatusNoContent, http.StatusNotModified} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			errs := make(chan error, 1)
			ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/still-open" {
					reply(w, r)
					return
				}
				w.WriteHeader(code)
				_, err := io.WriteString(w, "body")
				errs <- err
			}))
			c := ts.dial(t)
			c.send(getReq)
			resp, body, err := c.response("GET")
			if err != nil || resp.StatusCode != code || body != "" {
				t.Fatalf("response %v %q (%v)", resp.Status, body, err)
			}
			if resp.Header.Get("Content-Length") != "" && code == http.StatusNoContent || resp.Header.Get("Transfer-Encoding") != "" {
				t.Errorf("%d with framing fields: %v", code, resp.Header)
			}
			if err := recv(t, errs, "the handler"); !errors.Is(err, http.ErrBodyNotAllowed) {
				t.Errorf("Write: %v, want http.ErrBodyNotAllowed", err)
			}
			c.expectOpen()
		})
	}
}

// Contract item 6: writing past the declared Content-Length returns
// http.ErrContentLength; writing less closes the connection after the
// response (the client sees a short body).
func TestResponseContentLengthMismatch(t *testing.T) {
	errs := make(chan error, 1)
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "5")
		io.WriteString(w, "hel")
		_, err := io.WriteString(w, "lo!")
		errs <- err
	}))
	c := ts.dial(t)
	c.send(getReq)
	resp, err := http.ReadResponse(c.br, &http.Request{Method: "GET"})
	if err != nil || resp.ContentLength != 5 {
		t.Fatalf("response %v (%v)", resp, err)
	}
	if err := recv(t, errs, "the handler"); !errors.Is(err, http.ErrContentLength) {
		t.Errorf("Write past Content-Length: %v, want http.ErrContentLength", err)
	}
	b, err := io.ReadAll(resp.Body)
	if err == nil {
		t.Fatalf("read the whole body %q, want it short", b)
	}
	if !strings.HasPrefix("hello", string(b)) {
		t.Fatalf("body %q", b)
	}
	c.expectClosed()

	// Less than declared, without an error.
	ts = start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "10")
		io.WriteString(w, "short")
	}))
	c = ts.dial(t)
	c.send(getReq)
	resp, err = http.ReadResponse(c.br, &http.Request{Method: "GET"})
	if err != nil || resp.ContentLength != 10 {
		t.Fatalf("response %v (%v)", resp, err)
	}
	if b, err := io.ReadAll(resp.Body); err == nil || string(b) != "short" {
		t.Fatalf("body %q (%v), want \"short\" then an error", b, err)
	}
	c.expectClosed()
}

// Contract item 6: trailers declared in the Trailer header and keys with
// http.TrailerPrefix are sent after the last chunk, for small and for
// flushed bodies.
func TestResponseTrailers(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    http.HandlerFunc
		want http.Header
	}{
		{"declared", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Trailer", "X-A, X-B")
			io.WriteString(w, "body")
			w.Header().Set("X-A", "a")
			w.Header().Set("X-B", "b")
		}, http.Header{"X-A": {"a"}, "X-B": {"b"}}},
		{"declared, flushed", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Add("Trailer", "X-A")
			io.WriteString(w, "body")
			w.(http.Flusher).Flush()
			w.Header().Set("X-A", "a")
		}, http.Header{"X-A": {"a"}}},
		{"prefix", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "body")
			w.Header().Set(http.TrailerPrefix+"X-C", "c")
		}, http.Header{"X-C": {"c"}}},
		{"prefix, flushed", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "body")
			w.(http.Flusher).Flush()
			w.Header().Set(http.TrailerPrefix+"X-C", "c")
		}, http.Header{"X-C": {"c"}}},
		{"both", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Trailer", "X-A")
			w.WriteHeader(200)
			io.WriteString(w, "body")
			w.Header().Set("X-A", "a")
			w.Header().Set(http.TrailerPrefix+"X-C", "c")
		}, http.Header{"X-A": {"a"}, "X-C": {"c"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body, c := get(t, tc.h, getReq)
			if body != "body" {
				t.Fatalf("body %q", body)
			}
			got := resp.Trailer.Clone()
			for k, v := range got {
				if v == nil {
					delete(got, k) // declared, never set
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("trailers %v, want %v", resp.Trailer, tc.want)
			}
			for k := range tc.want {
				if _, ok := resp.Header[k]; ok {
					t.Errorf("trailer %s in the header too", k)
				}
			}
			c.expectOpen()
		})
	}
}

// Contract item 6: a handler's Connection: close, and a request's, close
// the connection after the response.
func TestResponseConnectionClose(t *testing.T) {
	resp, _, c := get(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		io.WriteString(w, "bye")
	}, getReq)
	if !resp.Close {
		t.Errorf("no Connection: close in the response")
	}
	c.expectClosed()

	resp, _, c = get(t, reply, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
	if !resp.Close {
		t.Errorf("no Connection: close in the response to a request with one")
	}
	c.expectClosed()
}

// Contract item 6: CR and LF in header values become spaces (no header
// or response injection); the status line is always HTTP/1.1.
func TestResponseHeaderInjection(t *testing.T) {
	resp, body, c := get(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Evil", "a\r\nInjected: yes")
		w.Header().Add("X-Evil2", "b\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK")
		w.Header().Set("X-Cr", "c\rd")
		io.WriteString(w, "real")
	}, getReq)
	if body != "real" {
		t.Fatalf("body %q", body)
	}
	if got := resp.Header.Get("Injected"); got != "" {
		t.Errorf("a header field was injected: Injected: %q", got)
	}
	if got := resp.Header.Get("X-Evil"); got != "a  Injected: yes" {
		t.Errorf("X-Evil %q, want CR and LF as spaces", got)
	}
	if got := resp.Header.Get("X-Cr"); got != "c d" {
		t.Errorf("X-Cr %q", got)
	}
	c.expectOpen()
}

// Contract item 7: Flush (and FlushError) send the header and what is
// buffered at once.
func TestFlush(t *testing.T) {
	g := newGate(t)
	flushErrs := make(chan error, 1)
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fe, ok := w.(interface{ FlushError() error })
		if !ok {
			flushErrs <- errors.New("no FlushError method")
			return
		}
		io.WriteString(w, "part1")
		flushErrs <- fe.FlushError()
		g.wait()
		io.WriteString(w, "part2")
		http.NewResponseController(w).Flush()
		g.wait()
	}))
	c := ts.dial(t)
	c.send(getReq)
	if err := recv(t, flushErrs, "FlushError"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(c.br, &http.Request{Method: "GET"})
	if err != nil {
		t.Fatalf("the header was not sent on Flush: %v", err)
	}
	got := make([]byte, 5)
	if _, err := io.ReadFull(resp.Body, got); err != nil || string(got) != "part1" {
		t.Fatalf("read %q (%v) before the handler went on", got, err)
	}
	g.open()
	rest, err := io.ReadAll(resp.Body)
	if err != nil || string(rest) != "part2" {
		t.Fatalf("rest %q (%v)", rest, err)
	}
}

// Contract item 7: Flush of a header only (no body yet) sends it.
func TestFlushHeaderOnly(t *testing.T) {
	g := newGate(t)
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		w.(http.Flusher).Flush()
		g.wait()
	}))
	c := ts.dial(t)
	c.send(getReq)
	c.c.SetReadDeadline(time.Now().Add(guard))
	resp, err := http.ReadResponse(c.br, &http.Request{Method: "GET"})
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("response %v (%v) before the handler returned", resp, err)
	}
	g.open()
	if b, err := io.ReadAll(resp.Body); err != nil || len(b) != 0 {
		t.Fatalf("body %q (%v)", b, err)
	}
}
