package hostapi

import (
	"context"
	"errors"
	"github.com/poolctl/poolctl/runstate"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestClientHostDown: a missing socket, a socket file nobody listens on and
// a path through a missing directory all mean ErrHostDown, with the socket
// in the message and the tool's hint after it when the tool gives one.
func TestClientHostDown(t *testing.T) {
	dir := shortDir(t)
	stale := filepath.Join(dir, "stale.sock")
	staleSocket(t, stale)
	tests := []struct {
		name, socket string
		cause        error
	}{
		{"missing socket", filepath.Join(dir, "none.sock"), syscall.ENOENT},
		{"missing directory", filepath.Join(dir, "no", "such", "host.sock"), syscall.ENOENT},
		{"nobody listens", stale, syscall.ECONNREFUSED},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := NewClient(tt.socket).Ping(ctx)
			if !errors.Is(err, ErrHostDown) {
				t.Fatalf("Ping: %v, want ErrHostDown", err)
			}
			if !errors.Is(err, tt.cause) {
				t.Errorf("Ping: %v, want it to wrap %v", err, tt.cause)
			}
			var hd *HostDownError
			if !errors.As(err, &hd) || hd.Socket != tt.socket {
				t.Errorf("error %#v, want a HostDownError for %s", err, tt.socket)
			}
			if !strings.Contains(err.Error(), tt.socket) || strings.Contains(err.Error(), "poolctl host'") {
				t.Errorf("message %q: want the socket, and no hint of the tool's", err)
			}
			hd.Hint = "start it"
			if !strings.HasSuffix(err.Error(), "; start it") {
				t.Errorf("message with a hint: %q", err)
			}
			if errors.Is(err, ErrRemote) || errors.Is(err, ErrForbidden) {
				t.Errorf("host-down error %v also matches ErrRemote or ErrForbidden", err)
			}
		})
	}
}

// TestClientDecodesReply: a successful reply is decoded into out, and the
// request carries the version header.
func TestClientDecodesReply(t *testing.T) {
	var got string
	sock := testServer(t, ServerOptions{HostUID: 0, OperatorGroup: -1}, -1, func(s *Server) {
		s.Handle("GET /v1/apppools", Read, func(_ context.Context, r *http.Request) (any, error) {
			got = r.Header.Get(VersionHeader)
			return []PoolStatus{{Name: "A", State: runstate.PoolStarted, Workers: []WorkerStatus{{PID: 42}}}}, nil
		})
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pools, err := NewClient(sock).Pools(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(pools) != 1 || pools[0].Name != "A" || pools[0].State != runstate.PoolStarted || len(pools[0].Workers) != 1 || pools[0].Workers[0].PID != 42 {
		t.Errorf("Pools = %+v", pools)
	}
	if got != Version {
		t.Errorf("request %s %q, want %q", VersionHeader, got, Version)
	}
}

// TestClientSocketPermission: a caller the socket's mode keeps out gets
// ErrForbidden naming the socket and the fix, not a host-down error.
func TestClientSocketPermission(t *testing.T) {
	sock := testServer(t, ServerOptions{HostUID: 0, OperatorGroup: -1}, -1, nil)
	res := callAsNobody(t, sock, "GET", "/v1/ping")
	if !strings.Contains(res.RawErr, "permission denied") {
		t.Fatalf("nobody reached a root-only socket: %+v", res)
	}
	if !res.Forbidden || res.HostDown {
		t.Errorf("client error %q: want ErrForbidden and not ErrHostDown", res.ClientErr)
	}
	for _, want := range []string{sock, "--operator-group", "sudo"} {
		if !strings.Contains(res.ClientErr, want) {
			t.Errorf("client error %q lacks %q", res.ClientErr, want)
		}
	}
}
