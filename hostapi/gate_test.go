package hostapi

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"
)

// TestGate: before the gate opens, an open route answers while a gated
// one waits; once it opens, the gated one answers too.
func TestGate(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "api.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(ServerOptions{HostUID: -1, OperatorGroup: -1})
	s.Handle("GET /v1/status", Read, func(context.Context, *http.Request) (any, error) { return "early", nil })
	s.Handle("GET /v1/apppools", Read, func(context.Context, *http.Request) (any, error) { return "late", nil })
	ready := make(chan struct{})
	s.Gate(ready, "GET /v1/status")
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-served })

	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}}
	get := func(path string) (int, error) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://host"+path, nil)
		if err != nil {
			return 0, err
		}
		req.Header.Set(VersionHeader, Version)
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	gated := make(chan int, 1)
	go func() {
		code, err := get("/v1/apppools")
		if err != nil {
			t.Error(err)
		}
		gated <- code
	}()
	for _, path := range []string{"/v1/status", "/v1/ping"} {
		if code, err := get(path); err != nil || code != http.StatusOK {
			t.Fatalf("GET %s before the gate opened: %d, %v", path, code, err)
		}
	}
	select {
	case code := <-gated:
		t.Fatalf("a gated route answered %d before the gate opened", code)
	default:
	}
	close(ready)
	select {
	case code := <-gated:
		if code != http.StatusOK {
			t.Fatalf("gated route after the gate opened: %d", code)
		}
	case <-time.After(30 * time.Second): // failure guard
		t.Fatal("the gated route did not answer after the gate opened")
	}
}
