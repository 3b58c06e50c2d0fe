package forward

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"testing"
	"time"
)

// openFDs counts this process's open descriptors.
func openFDs(t testing.TB) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(ents)
}

// settle waits until the goroutines and descriptors are back at most at
// their resting level, failing after a generous deadline.
func settle(t testing.TB, goroutines, fds int, input []byte) {
	deadline := time.Now().Add(20 * time.Second)
	for {
		g, n := runtime.NumGoroutine(), openFDs(t)
		if g <= goroutines && n <= fds {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("after input %q: %d goroutines (rest %d), %d descriptors (rest %d)\n%s", input, g, goroutines, n, fds, buf)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// FuzzForwardRawRequest drives a front (net/http with Forward, answering
// errors as poolctl's front does) over a real listener with random request
// bytes, against a real backend that reads the body and echoes it. After
// each input the client connection is closed, and the process's goroutines
// and descriptors must return to their resting level: no input may pin a
// request, a backend connection or a client connection.
func FuzzForwardRawRequest(f *testing.F) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Site", r.Header.Get("X-Poolctl-Site"))
		_, _ = io.Copy(w, io.LimitReader(r.Body, 1<<20))
	}))
	defer backend.Close()
	tg := NewTarget("tcp", backend.Listener.Addr().String(), Options{})
	defer tg.Close()
	front := newFrontServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set("X-Poolctl-Site", "fuzz")
		forwardOrRefuse(w, r, tg)
	}), false)
	defer front.Close()
	addr := front.Listener.Addr().String()

	restG, restFD := -1, -1
	f.Fuzz(func(t *testing.T, input []byte) {
		if restG < 0 {
			// The resting level, taken on the fuzz function's own
			// goroutine: the servers are up, nothing is connected.
			restG, restFD = runtime.NumGoroutine(), openFDs(t)
		}
		exchange(t, addr, input)
		tg.CloseIdle()
		settle(t, restG, restFD, input)
	})
}

// exchange writes input to a new connection to addr, reads what comes back
// for a moment, and closes the connection.
func exchange(t *testing.T, addr string, input []byte) {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(fmt.Errorf("dial front: %w", err))
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(200 * time.Millisecond))
	_, _ = c.Write(input)
	_, _ = io.Copy(io.Discard, c)
}

// forwardOrRefuse forwards r through tg as the front does, answering what
// the forwarder refuses: 400 for a bad request body, 502 otherwise, and an
// aborted connection once the response has begun.
func forwardOrRefuse(w http.ResponseWriter, r *http.Request, tg *Target) {
	err := tg.Forward(w, r)
	var fe *Error
	switch {
	case err == nil:
	case errors.As(err, &fe) && fe.Committed:
		panic(http.ErrAbortHandler)
	case errors.Is(err, ErrRequestBody):
		w.Header().Set("Connection", "close")
		http.Error(w, "bad request body", http.StatusBadRequest)
	default:
		http.Error(w, "bad gateway", http.StatusBadGateway)
	}
}
