package forward

import (
	"errors"
	"io"
	"net/http"
	"testing"
)

// TestMalformedChunkedBodyEndsBothSides: a client whose chunked body is
// malformed, sent to a backend that reads the body before answering, makes
// Forward return at once with ErrRequestBody and close the backend
// connection, instead of waiting for a response the backend cannot give.
func TestMalformedChunkedBodyEndsBothSides(t *testing.T) {
	for name, body := range map[string]string{
		"bad size":    "zz\r\nhello\r\n",
		"overflowing": "fffffffffffffffff1\r\nhello\r\n",
		"no CRLF":     "5\r\nhelloXX0\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			b := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(w, r.Body)
			})
			f := newFront(t, b.addr())
			c, _ := dialFront(t, f)
			req := "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + body
			if _, err := io.WriteString(c, req); err != nil {
				t.Fatal(err)
			}
			fe := f.nextErr(t)
			if !errors.Is(fe, ErrRequestBody) || fe.Committed {
				t.Fatalf("Forward error = %v (sent %v), want ErrRequestBody before anything was sent", fe, fe.Committed)
			}
			b.waitClosed(t, 1)
		})
	}
}

// TestConnectionCannotDropPrivateHeaders: a client's Connection header
// cannot make the forwarder drop a header the caller set for the worker
// (X-Poolctl-*), while other headers it names are still dropped.
func TestConnectionCannotDropPrivateHeaders(t *testing.T) {
	b := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Header.Get("X-Poolctl-Site")+"|"+r.Header.Get("X-Other"))
	})
	f := newFront(t, b.addr())
	req, err := http.NewRequest("GET", f.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Poolctl-Site", "mine")
	req.Header.Set("X-Other", "dropped")
	req.Header.Set("Connection", "x-poolctl-site, X-Other")
	resp, err := newClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if string(got) != "mine|" {
		t.Fatalf("backend saw %q, want %q", got, "mine|")
	}
}
