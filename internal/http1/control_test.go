package http1

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// Contract item 9: http.ResponseController's SetReadDeadline works: a body
// read past it fails with a timeout.
func TestSetReadDeadline(t *testing.T) {
	errs := make(chan error, 1)
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := http.NewResponseController(w).SetReadDeadline(time.Now().Add(100 * time.Millisecond)); err != nil {
			errs <- fmt.Errorf("SetReadDeadline: %w", err)
			return
		}
		_, err := io.ReadAll(r.Body)
		errs <- err
		w.WriteHeader(http.StatusRequestTimeout)
	}))
	c := ts.dial(t)
	c.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n01234") // the rest never comes
	err := recv(t, errs, "the handler")
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("body read: %v, want a deadline error", err)
	}
	if _, _, err := c.readAnyResponse(); err != nil && !isReset(err) {
		t.Fatalf("response: %v", err)
	}
	c.expectClosed()
}

// Contract item 10: a read deadline the handler set is cleared before the
// next head is read.
func TestReadDeadlineClearedAfterHandler(t *testing.T) {
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/set" {
			http.NewResponseController(w).SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		}
		io.WriteString(w, r.URL.Path)
	}))
	c := ts.dial(t)
	c.send("GET /set HTTP/1.1\r\nHost: a\r\n\r\n")
	c.ok("GET")
	time.Sleep(300 * time.Millisecond) // well past the handler's deadline
	c.send("GET /next HTTP/1.1\r\nHost: a\r\n\r\n")
	if got := c.ok("GET"); got != "/next" {
		t.Fatalf("body %q", got)
	}
}

// Contract item 9: SetWriteDeadline works: writes to a client that does
// not read fail once it has passed.
func TestSetWriteDeadline(t *testing.T) {
	errs := make(chan error, 1)
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(200 * time.Millisecond)); err != nil {
			errs <- fmt.Errorf("SetWriteDeadline: %w", err)
			return
		}
		chunk := []byte(strings.Repeat("w", 64<<10))
		for range 1024 { // 64 MiB at most: far more than socket buffers hold
			if _, err := w.Write(chunk); err != nil {
				errs <- err
				return
			}
			if err := rc.Flush(); err != nil {
				errs <- err
				return
			}
		}
		errs <- nil
	}))
	c := ts.dial(t)
	c.send(getReq) // and never read
	err := recv(t, errs, "the handler")
	if err == nil {
		t.Fatal("64 MiB written to a client that reads nothing, past the write deadline")
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Logf("write error %v (not os.ErrDeadlineExceeded)", err)
	}
}

// Contract item 9: EnableFullDuplex returns nil, and the handler can read
// the body while it writes the response: an echo, one piece at a time.
func TestFullDuplexEcho(t *testing.T) {
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.EnableFullDuplex(); err != nil {
			w.WriteHeader(500)
			return
		}
		w.WriteHeader(200)
		rc.Flush()
		br := bufio.NewReader(r.Body)
		for {
			line, err := br.ReadString('\n')
			if line != "" {
				io.WriteString(w, "echo "+line)
				rc.Flush()
			}
			if err != nil {
				return
			}
		}
	}))
	c := ts.dial(t)
	c.send("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
	resp, err := http.ReadResponse(c.br, &http.Request{Method: "POST"})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("response %v (%v)", resp, err)
	}
	body := bufio.NewReader(resp.Body)
	for i := range 5 {
		msg := fmt.Sprintf("ping %d\n", i)
		c.send(fmt.Sprintf("%x\r\n%s\r\n", len(msg), msg))
		got, err := body.ReadString('\n')
		if err != nil || got != "echo "+msg {
			t.Fatalf("echo %q (%v), want %q", got, err, "echo "+msg)
		}
	}
	c.send("0\r\n\r\n")
	if rest, err := io.ReadAll(body); err != nil || len(rest) != 0 {
		t.Fatalf("rest %q (%v)", rest, err)
	}
	c.expectOpen()
}
