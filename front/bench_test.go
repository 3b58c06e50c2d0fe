package front

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/poolctl/poolctl/apppool"
	"github.com/poolctl/poolctl/internal/nettest"
	"github.com/poolctl/poolctl/store"
)

// The front's request path, measured with the real pieces: a front serving
// one site (access log on) whose application runs on an apppool.Pool with
// one worker process (this test binary, serving 100-byte answers on
// 127.0.0.1, see main_test.go). Run with
//
//	go test -run '^$' -bench 'BenchmarkFront' -benchmem ./front/
//
// BenchmarkFrontRequest goes through the front's net/http server over
// loopback TCP (client, front and worker all real); BenchmarkFrontHandler
// calls the front's handler directly with an in-memory response writer,
// so that its allocations per request are the front's, the pool's and the
// forwarder's only.

// benchFront is a front with its pool and worker, for the benchmarks.
type benchFront struct {
	f    *Front
	addr string // the site's binding, 127.0.0.1:PORT
	key  listenKey
}

// newBenchFront starts the front and the pool's worker and waits until a
// request is answered; everything stops at cleanup.
func newBenchFront(b *testing.B) *benchFront {
	return newBenchFrontOn(b, ServerLean)
}

// newBenchFrontOn is newBenchFront with plain HTTP served by kind.
func newBenchFrontOn(b *testing.B, kind ServerKind) *benchFront {
	b.Helper()
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	logger := slog.New(slog.DiscardHandler)
	mgr := apppool.NewManager(apppool.Launcher{LogDir: dir, BaseEnv: []string{envBenchWorker + "=1"}, NoKernelMemory: true}, nil, logger)
	addr := fmt.Sprintf("127.0.0.1:%d", nettest.FreePort(b))
	off, always := false, "AlwaysRunning"
	cfg := &store.Config{Version: store.FormatVersion,
		ApplicationPools: []store.AppPool{{Name: "P", PoolSettings: store.PoolSettings{StartMode: &always,
			ProcessModel: &store.ProcessModel{Command: &[]string{self}, PingingEnabled: &off}}}},
		Sites: []store.Site{{Name: "S", ID: 1,
			Bindings:     []store.Binding{{Protocol: "http", BindingInformation: addr + ":"}},
			Applications: []store.Application{{Path: "/", ApplicationPool: "P"}}}}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := mgr.Reconcile(ctx, cfg); err != nil {
		b.Fatal(err)
	}
	f := New(PoolsOf(mgr), logger)
	f.LogDir = dir
	f.Server = kind
	if err := f.Apply(ctx, cfg); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), time.Minute)
		defer scancel()
		_ = f.Shutdown(sctx)
		mgr.Shutdown(sctx)
	})
	bf := &benchFront{f: f, addr: addr, key: listenKey{addr: addr}}
	// The worker starts with the pool; wait for its first answer.
	c := &http.Client{Timeout: time.Minute}
	resp, err := c.Get("http://" + addr + "/")
	if err != nil {
		b.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || n != int64(len(benchBody)) {
		b.Fatalf("first request: %s, %d bytes", resp.Status, n)
	}
	return bf
}

// benchParallel runs 32 client goroutines, as bench/host.sh's wrk -c32,
// and reports the CPU time this process used per request (cpu-ns/op:
// user and system time of every thread; the worker is another process),
// which a busy machine disturbs much less than the wall time of ns/op.
func benchParallel(b *testing.B) {
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((32 + procs - 1) / procs)
	b.ReportAllocs()
	start := cpuTime()
	b.Cleanup(func() { b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op") })
	b.ResetTimer()
}

// cpuTime is the CPU time the process has used, in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkFrontRequest measures whole requests: an http.Client on
// loopback, the front's server and handler chain, the pool, the worker;
// once with each server loop of plain-HTTP bindings.
func BenchmarkFrontRequest(b *testing.B) {
	for _, kind := range []ServerKind{ServerLean, ServerNetHTTP} {
		b.Run("server="+strings.ReplaceAll(kind.String(), "/", ""), func(b *testing.B) { benchFrontRequest(b, kind) })
	}
}

func benchFrontRequest(b *testing.B, kind ServerKind) {
	bf := newBenchFrontOn(b, kind)
	tr := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
	b.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr}
	url := "http://" + bf.addr + "/hello?x=1"
	benchParallel(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Get(url)
			if err != nil {
				b.Error(err)
				return
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || n != int64(len(benchBody)) {
				b.Errorf("status %d, %d bytes", resp.StatusCode, n)
				return
			}
		}
	})
}

// BenchmarkFrontHandler calls the front's handler directly, as net/http
// would, with a request on a tracked connection and an in-memory writer.
func BenchmarkFrontHandler(b *testing.B) {
	bf := newBenchFront(b)
	h := bf.f.handler(bf.key)
	local := net.TCPAddrFromAddrPort(netip.MustParseAddrPort(bf.addr))
	benchParallel(b)
	b.RunParallel(func(pb *testing.PB) {
		remote := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000}
		tc := newTrackedConn(addrConn{local: local, remote: remote}, bf.f, netip.MustParseAddr("127.0.0.1"))
		ctx := context.WithValue(context.Background(), http.LocalAddrContextKey, net.Addr(local))
		ctx = connContext(ctx, tc)
		r, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+bf.addr+"/hello?x=1", nil)
		if err != nil {
			b.Error(err)
			return
		}
		r.RemoteAddr = remote.String()
		r.RequestURI = "/hello?x=1"
		r.Header.Set("User-Agent", "bench")
		r.Header.Set("Accept", "*/*")
		w := &benchWriter{h: http.Header{}}
		for pb.Next() {
			clear(w.h)
			w.n, w.status = 0, 0
			h.ServeHTTP(w, r)
			if w.status != http.StatusOK || w.n != len(benchBody) {
				b.Errorf("status %d, %d bytes", w.status, w.n)
				return
			}
		}
	})
}

// benchWriter is an in-memory http.ResponseWriter.
type benchWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *benchWriter) Header() http.Header { return w.h }
func (w *benchWriter) WriteHeader(s int) {
	if w.status == 0 {
		w.status = s
	}
}

func (w *benchWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.n += len(p)
	return len(p), nil
}

// addrConn is a net.Conn that has addresses only (the tracked connection
// of BenchmarkFrontHandler's requests; nothing is read or written on it).
type addrConn struct {
	net.Conn
	local, remote net.Addr
}

func (c addrConn) LocalAddr() net.Addr  { return c.local }
func (c addrConn) RemoteAddr() net.Addr { return c.remote }
func (c addrConn) Close() error         { return nil }
