package hostapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/poolctl/poolctl/store"
)

// childEnv switches the test binary into a control-API client: it calls
// the socket in $HOSTAPI_CHILD_SOCKET and prints a childResult as JSON.
// The tests run it as another user to get a peer that is not root.
const childEnv = "POOLCTL_HOSTAPI_TEST_CHILD"

// childResult is what the child saw: the raw reply, and how Client.Do
// classified it.
type childResult struct {
	Status    int
	Version   string
	Body      ErrorBody
	RawErr    string // the raw request failed
	ClientErr string
	Forbidden bool // errors.Is(ClientErr, ErrForbidden)
	HostDown  bool // errors.Is(ClientErr, ErrHostDown)
}

// TestMain runs the child client when asked, and the tests otherwise.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		json.NewEncoder(os.Stdout).Encode(childCall(os.Getenv("HOSTAPI_CHILD_SOCKET"), os.Getenv("HOSTAPI_CHILD_METHOD"), os.Getenv("HOSTAPI_CHILD_PATH")))
		return
	}
	// Returning from TestMain exits with m.Run's result.
	m.Run()
	if childBinDir != "" {
		os.RemoveAll(childBinDir)
	}
}

// childCall makes one request twice: raw, to report status and headers,
// and through Client.Do, to report how the client maps the reply.
func childCall(socket, method, path string) childResult {
	var res childResult
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := rawRequest(ctx, socket, method, path, map[string]string{VersionHeader: Version})
	if err != nil {
		res.RawErr = err.Error()
	} else {
		res.Status, res.Version = resp.status, resp.header.Get(VersionHeader)
		_ = json.Unmarshal(resp.body, &res.Body)
	}
	if cerr := NewClient(socket).Do(ctx, method, path, nil, nil); cerr != nil {
		res.ClientErr = cerr.Error()
		res.Forbidden = errors.Is(cerr, ErrForbidden)
		res.HostDown = errors.Is(cerr, ErrHostDown)
	}
	return res
}

type rawReply struct {
	status int
	header http.Header
	body   []byte
}

// rawRequest sends one request over the socket with exactly the given
// headers.
func rawRequest(ctx context.Context, socket, method, path string, hdr map[string]string) (rawReply, error) {
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", socket)
	}}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, method, "http://poolctl"+path, nil)
	if err != nil {
		return rawReply{}, err
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return rawReply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return rawReply{resp.StatusCode, resp.Header, b}, err
}

var (
	childBinOnce sync.Once
	childBinDir  string
	childBin     string
	childBinErr  error
)

// nobodyBinary copies the test binary where uid 65534 may execute it: the
// go build cache directories are private to the user who built it.
func nobodyBinary(t *testing.T) string {
	t.Helper()
	childBinOnce.Do(func() {
		self, err := os.Executable()
		if err != nil {
			childBinErr = err
			return
		}
		childBinDir, err = os.MkdirTemp("", "pcbin")
		if err != nil {
			childBinErr = err
			return
		}
		if err := os.Chmod(childBinDir, 0o755); err != nil {
			childBinErr = err
			return
		}
		data, err := os.ReadFile(self)
		if err != nil {
			childBinErr = err
			return
		}
		childBin = filepath.Join(childBinDir, "hostapi.test")
		childBinErr = os.WriteFile(childBin, data, 0o755)
	})
	if childBinErr != nil {
		t.Fatal(childBinErr)
	}
	return childBin
}

// callAsNobody runs the child client as uid/gid 65534 with the given
// supplementary groups.
func callAsNobody(t *testing.T, socket, method, path string, groups ...uint32) childResult {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("running a client as uid 65534 needs root")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, nobodyBinary(t))
	cmd.Env = append(os.Environ(), childEnv+"=1", "HOSTAPI_CHILD_SOCKET="+socket, "HOSTAPI_CHILD_METHOD="+method, "HOSTAPI_CHILD_PATH="+path)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, Groups: groups}}
	cmd.Dir = "/"
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("child as nobody: %v\n%s%s", err, out.String(), errb.String())
	}
	var res childResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("child output %q: %v (stderr %s)", out.String(), err, errb.String())
	}
	return res
}

// testServer serves s on a fresh socket whose directory anyone may enter
// and whose group is gid; it returns the socket path.
func testServer(t *testing.T, opts ServerOptions, gid int, setup func(*Server)) string {
	t.Helper()
	dir := shortDir(t)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "host.sock")
	if gid >= 0 && os.Geteuid() != 0 {
		gid = -1
	}
	ln, err := Listen(path, gid)
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(opts)
	if setup != nil {
		setup(s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return within 10s of its context ending")
		}
	})
	return path
}

// writeRoutes registers a write route that records its callers.
func writeRoutes(calls *int, mu *sync.Mutex) func(*Server) {
	return func(s *Server) {
		s.Handle("POST /v1/apppools/{name}/recycle", Write, func(_ context.Context, r *http.Request) (any, error) {
			mu.Lock()
			*calls++
			mu.Unlock()
			return RecycleResult{Pool: r.PathValue("name")}, nil
		})
	}
}

func call(t *testing.T, socket, method, path string, hdr map[string]string) rawReply {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := rawRequest(ctx, socket, method, path, hdr)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

func decodeError(t *testing.T, r rawReply) ErrorBody {
	t.Helper()
	var eb ErrorBody
	if err := json.Unmarshal(r.body, &eb); err != nil {
		t.Fatalf("reply %d %q is not a JSON error: %v", r.status, r.body, err)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("error reply Content-Type %q, want application/json", ct)
	}
	return eb
}

// TestPingAndWriteAsRoot: ping answers anyone; root may use write routes.
func TestPingAndWriteAsRoot(t *testing.T) {
	var calls int
	var mu sync.Mutex
	sock := testServer(t, ServerOptions{HostUID: 4321, OperatorGroup: -1}, -1, writeRoutes(&calls, &mu))
	c := NewClient(sock)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	res, err := c.Recycle(ctx, "Blue Pool")
	if os.Geteuid() == 0 || os.Geteuid() == 4321 {
		if err != nil || res.Pool != "Blue Pool" || calls != 1 {
			t.Fatalf("Recycle as uid %d: %+v %v (calls %d), want it allowed", os.Geteuid(), res, err, calls)
		}
	} else if !errors.Is(err, ErrForbidden) || calls != 0 {
		t.Fatalf("Recycle as uid %d: %v (calls %d), want ErrForbidden", os.Geteuid(), err, calls)
	}
}

// TestHostUIDMayWrite: the host's own uid may write even when it is not
// root (the test's uid stands for the host's).
func TestHostUIDMayWrite(t *testing.T) {
	var calls int
	var mu sync.Mutex
	sock := testServer(t, ServerOptions{HostUID: os.Geteuid(), OperatorGroup: -1}, -1, writeRoutes(&calls, &mu))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := NewClient(sock).Recycle(ctx, "P"); err != nil || calls != 1 {
		t.Fatalf("Recycle as the host's uid: %v (calls %d)", err, calls)
	}
}

// TestWritePermissionByPeer runs real clients as uid 65534 (identified by
// SO_PEERCRED): reads are open, writes need root, the host's uid or the
// operator group, as primary or supplementary group.
func TestWritePermissionByPeer(t *testing.T) {
	const opGID = 4242 // any gid: the server compares numbers
	tests := []struct {
		name    string
		opGroup int
		groups  []uint32
		method  string
		path    string
		allowed bool
	}{
		{"read as nobody", -1, nil, "GET", "/v1/ping", true},
		{"write as nobody without operator group", -1, nil, "POST", "/v1/apppools/P/recycle", false},
		{"write as nobody outside the operator group", opGID, []uint32{100}, "POST", "/v1/apppools/P/recycle", false},
		{"write as supplementary member", opGID, []uint32{100, opGID}, "POST", "/v1/apppools/P/recycle", true},
		{"write as primary-group member", 65534, nil, "POST", "/v1/apppools/P/recycle", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls int
			var mu sync.Mutex
			sock := testServer(t, ServerOptions{HostUID: 4321, OperatorGroup: tt.opGroup, OperatorName: "ops"}, 65534, writeRoutes(&calls, &mu))
			res := callAsNobody(t, sock, tt.method, tt.path, tt.groups...)
			if res.RawErr != "" {
				t.Fatalf("nobody could not call %s %s: %s", tt.method, tt.path, res.RawErr)
			}
			if res.Version != Version {
				t.Errorf("reply version header %q, want %q", res.Version, Version)
			}
			mu.Lock()
			n := calls
			mu.Unlock()
			if tt.allowed {
				if res.Status/100 != 2 || res.ClientErr != "" {
					t.Fatalf("got %d %+v (client: %s), want success", res.Status, res.Body, res.ClientErr)
				}
				if tt.method == "POST" && n != 2 { // raw call + Client.Do
					t.Errorf("handler ran %d times, want 2", n)
				}
				return
			}
			if res.Status != http.StatusForbidden || res.Body.Code != CodeForbidden {
				t.Fatalf("got %d %+v, want 403 %s", res.Status, res.Body, CodeForbidden)
			}
			if n != 0 {
				t.Errorf("the handler ran %d times for a refused caller", n)
			}
			want := []string{"uid 65534 may not change the host", "writes need root", "uid 4321 (the host's user)"}
			if tt.opGroup >= 0 {
				want = append(want, fmt.Sprintf("members of group ops (%d)", tt.opGroup))
			} else {
				want = append(want, "start the host with --operator-group")
			}
			for _, w := range want {
				if !strings.Contains(res.Body.Error, w) {
					t.Errorf("message %q does not say %q", res.Body.Error, w)
				}
			}
			if !res.Forbidden || !strings.Contains(res.ClientErr, "uid 65534 may not change the host") {
				t.Errorf("client error %q: want ErrForbidden carrying the host's message", res.ClientErr)
			}
		})
	}
}

// TestErrorReplies: version mismatches, unknown routes and handler errors
// get their status and code, every reply carries the version header, and
// the client maps codes back to the sentinels.
func TestErrorReplies(t *testing.T) {
	sock := testServer(t, ServerOptions{HostUID: os.Geteuid(), OperatorGroup: -1}, -1, func(s *Server) {
		s.Handle("GET /v1/missing", Read, func(context.Context, *http.Request) (any, error) {
			return nil, store.NotFound("apppool", "Nope")
		})
		s.Handle("POST /v1/already", Write, func(context.Context, *http.Request) (any, error) {
			return nil, fmt.Errorf("apppool %q is already started: %w", "P", ErrAlreadyInState)
		})
		s.Handle("GET /v1/invalid", Read, func(context.Context, *http.Request) (any, error) {
			return nil, fmt.Errorf("bad: %w", store.ErrInvalid)
		})
		s.Handle("GET /v1/boom", Read, func(context.Context, *http.Request) (any, error) {
			return nil, errors.New("boom")
		})
		s.Handle("GET /v1/empty", Read, func(context.Context, *http.Request) (any, error) {
			return nil, nil
		})
	})
	v := map[string]string{VersionHeader: Version}
	tests := []struct {
		name, method, path string
		hdr                map[string]string
		status             int
		code               string
		sentinel           error
	}{
		{"ping", "GET", "/v1/ping", v, 200, "", nil},
		{"ping without version header", "GET", "/v1/ping", nil, 200, "", nil},
		{"no content", "GET", "/v1/empty", v, 204, "", nil},
		{"version mismatch", "GET", "/v1/ping", map[string]string{VersionHeader: "99"}, 400, CodeBadVersion, nil},
		{"unknown route", "GET", "/v1/nothing/here", v, 404, codeUnknownRoute, ErrRemote},
		{"wrong method", "DELETE", "/v1/ping", v, 404, codeUnknownRoute, ErrRemote},
		{"not found", "GET", "/v1/missing", v, 404, CodeNotFound, store.ErrNotFound},
		{"already in state", "POST", "/v1/already", v, 409, CodeAlready, ErrAlreadyInState},
		{"invalid", "GET", "/v1/invalid", v, 400, CodeInvalid, store.ErrInvalid},
		{"internal", "GET", "/v1/boom", v, 500, CodeInternal, ErrRemote},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, sock, tt.method, tt.path, tt.hdr)
			if r.status != tt.status {
				t.Fatalf("status %d (%s), want %d", r.status, r.body, tt.status)
			}
			if got := r.header.Get(VersionHeader); got != Version {
				t.Errorf("reply %s header %q, want %q", VersionHeader, got, Version)
			}
			if tt.code != "" {
				eb := decodeError(t, r)
				if eb.Code != tt.code || eb.Error == "" {
					t.Errorf("error body %+v, want code %s and a message", eb, tt.code)
				}
				if tt.code == CodeBadVersion && (!strings.Contains(eb.Error, "99") || !strings.Contains(eb.Error, "version "+Version)) {
					t.Errorf("bad_version message %q should name both versions", eb.Error)
				}
			}
			if tt.sentinel == nil || tt.hdr == nil {
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := NewClient(sock).Do(ctx, tt.method, tt.path, nil, nil)
			if !errors.Is(err, tt.sentinel) || !errors.Is(err, ErrRemote) {
				t.Fatalf("client error %v (%T): want errors.Is %v and ErrRemote", err, err, tt.sentinel)
			}
			var re *RemoteError
			if !errors.As(err, &re) || re.Status != tt.status || re.Body.Code != tt.code {
				t.Errorf("client error %#v, want RemoteError %d %s", re, tt.status, tt.code)
			}
			if errors.Is(err, ErrHostDown) || errors.Is(err, ErrForbidden) {
				t.Errorf("client error %v also matches ErrHostDown or ErrForbidden", err)
			}
		})
	}
}
