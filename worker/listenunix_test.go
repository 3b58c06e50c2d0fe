package worker_test

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/poolctl/poolctl/worker"
)

// TestFromEnvUnixPath: processModel.listen unix gives the worker a bare
// socket path in POOLCTL_LISTEN and no PORT; the built-in worker listens
// there ("unix:/path" still works).
func TestFromEnvUnixPath(t *testing.T) {
	for _, listen := range []string{"/run/poolctl/Shop/w1.sock", "unix:/run/poolctl/Shop/w1.sock"} {
		addr, _, err := worker.FromEnv(envOf(map[string]string{"POOLCTL_LISTEN": listen, worker.SpecEnv: "{}"}))
		if err != nil || addr != "unix:/run/poolctl/Shop/w1.sock" {
			t.Errorf("POOLCTL_LISTEN=%s: FromEnv = %q, %v; want unix:/run/poolctl/Shop/w1.sock", listen, addr, err)
		}
	}
	// A relative path is neither host:port nor a socket path.
	if _, _, err := worker.FromEnv(envOf(map[string]string{"POOLCTL_LISTEN": "run/w1.sock", worker.SpecEnv: "{}"})); err == nil {
		t.Error("a relative POOLCTL_LISTEN was accepted")
	}
}

// TestRunUnixSocketMode: the built-in worker's socket is its owner's
// alone (0600), whatever the umask.
func TestRunUnixSocketMode(t *testing.T) {
	f := newFixture(t)
	dir, err := os.MkdirTemp("", "wk")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "w1.sock")
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- worker.Run(ctx, "unix:"+sock, f.spec, nil, time.Second) }()
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
	}}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := client.Get("http://worker/page.html")
		if err == nil {
			_ = resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET over the unix socket: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	fi, err := os.Lstat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want a socket with 0600", fi.Mode())
	}
	client.CloseIdleConnections()
	cancel()
	if err := <-ran; err != nil {
		t.Errorf("Run = %v", err)
	}
	if _, err := os.Lstat(sock); !os.IsNotExist(err) {
		t.Errorf("the socket is still there after the worker stopped: %v", err)
	}
}
