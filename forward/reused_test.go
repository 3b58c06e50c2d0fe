package forward

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"testing"
)

// TestReusedConnectionFailureIsFlagged: a request that goes out on a
// kept-alive connection which the worker closes before a byte of answer
// is reported as Sent with Reused set (the caller may send an idempotent
// request again, as net/http's client does); the same failure on a fresh
// connection is Sent without Reused (it may be the request's doing).
func TestReusedConnectionFailureIsFlagged(t *testing.T) {
	// Each connection answers its first request and reads, then drops,
	// its second; a connection whose first request is /drop drops it.
	addr := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		for n := 0; ; n++ {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			if n > 0 || req.URL.Path == "/drop" {
				return // closes without an answer
			}
			fmt.Fprint(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	f := newFront(t, addr)
	client := newClient(t)
	get := func(path string) int {
		t.Helper()
		resp, err := client.Get(f.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get("/"); code != 200 {
		t.Fatalf("first request: %d", code)
	}
	// The probe sees the connection alive: the backend drops it only
	// after reading the next request.
	if code := get("/"); code != http.StatusBadGateway {
		t.Fatalf("second request: %d, want 502", code)
	}
	fe := f.nextErr(t)
	if fe.Outcome != Sent || !fe.Reused {
		t.Errorf("on a reused connection: outcome %v reused %v, want Sent and reused", fe.Outcome, fe.Reused)
	}
	if code := get("/drop"); code != http.StatusBadGateway {
		t.Fatalf("third request: %d, want 502", code)
	}
	fe = f.nextErr(t)
	if fe.Outcome != Sent || fe.Reused {
		t.Errorf("on a fresh connection: outcome %v reused %v, want Sent and not reused", fe.Outcome, fe.Reused)
	}
}
