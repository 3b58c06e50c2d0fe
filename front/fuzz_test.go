package front

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/poolctl/poolctl/internal/nettest"
	"github.com/poolctl/poolctl/store"
)

// fuzzFDs counts this process's open descriptors.
func fuzzFDs(t testing.TB) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(ents)
}

// FuzzFrontRawRequest drives the front (routing, header stripping,
// connection accounting, body limits, error pages) over a real listener
// with random request bytes. The site runs a Low application of Legacy
// isolation mode, so the built-in worker's handler serves it in process
// (a request to the forwarder and a worker process is fuzzed by
// forward.FuzzForwardRawRequest). After each input the connection is
// closed, and the goroutines, the descriptors and the front's connection
// count must return to their resting level.
func FuzzFrontRawRequest(f *testing.F) {
	dir := f.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("hello\n"), 0o600); err != nil {
		f.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", nettest.FreePort(f))
	legacy, low := "Legacy", "Low"
	cfg := &store.Config{Version: store.FormatVersion, Host: &store.HostSettings{IsolationMode: &legacy},
		Sites: []store.Site{{Name: "S", ID: 1,
			Limits:       &store.SiteLimits{ConnectionTimeout: new(store.TimeSpan(2 * time.Second))},
			Bindings:     []store.Binding{{Protocol: "http", BindingInformation: addr + ":"}},
			Applications: []store.Application{{Path: "/", ApplicationPool: "P", PhysicalPath: dir, AppIsolation: &low}}}}}
	fr := New(noPools{}, slog.New(slog.DiscardHandler))
	if err := fr.Apply(f.Context(), cfg); err != nil {
		f.Fatal(err)
	}
	defer func() { _ = fr.Shutdown(f.Context()) }()

	restG, restFD := -1, -1
	f.Fuzz(func(t *testing.T, input []byte) {
		if restG < 0 {
			restG, restFD = runtime.NumGoroutine(), fuzzFDs(t)
		}
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(200 * time.Millisecond))
		_, _ = c.Write(input)
		_, _ = io.Copy(io.Discard, c)
		c.Close()
		deadline := time.Now().Add(20 * time.Second)
		for {
			g, n := runtime.NumGoroutine(), fuzzFDs(t)
			fr.conns.mu.Lock()
			open := fr.conns.total
			fr.conns.mu.Unlock()
			if g <= restG && n <= restFD && open == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("after input %q: %d goroutines (rest %d), %d descriptors (rest %d), %d connections counted", input, g, restG, n, restFD, open)
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
}
