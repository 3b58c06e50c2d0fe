package front

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/poolctl/poolctl/apppool"
	"github.com/poolctl/poolctl/store"
)

// memPool is a pool whose one worker answers in memory, without
// allocating, so that what a request allocates is the front's own.
type memPool struct{ w memWorker }

func (p *memPool) FindPool(name string) Pool {
	if name != "P" {
		return nil
	}
	return p
}
func (p *memPool) Name() string   { return "P" }
func (p *memPool) TCPLevel() bool { return false }
func (p *memPool) Acquire(context.Context, *apppool.Request) (Worker, error) {
	return &p.w, nil
}
func (p *memPool) Release(Worker, *apppool.Request)  {}
func (p *memPool) Discard(Worker, string)            {}
func (p *memPool) TakenDown(Worker) bool             { return false }
func (p *memPool) MaxWorkers() int                   { return 1 }
func (p *memPool) ObserveRequest(int, time.Duration) {}
func (p *memPool) Refused(apppool.Refusal)           {}
func (w *memWorker) PID() int                        { return 1 }
func (w *memWorker) Forward(rw http.ResponseWriter, r *http.Request) error {
	if r.Header.Get("X-Poolctl-Site") != "S" {
		return fmt.Errorf("site header %q", r.Header.Get("X-Poolctl-Site"))
	}
	rw.WriteHeader(http.StatusOK)
	_, err := rw.Write(benchBody)
	return err
}

type memWorker struct{}

// TestHandlerAllocations (issue 12): a routed request served by a pool
// allocates next to nothing in the front, access log included: the
// exchange and nothing per request for the connection's addresses, the
// pool's request record, the site header, the pool lookup or the access
// log's fields.
func TestHandlerAllocations(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cfg := &store.Config{Version: store.FormatVersion, Sites: []store.Site{{Name: "S", ID: 1,
		Bindings:     []store.Binding{{Protocol: "http", BindingInformation: addr + ":"}},
		Applications: []store.Application{{Path: "/", ApplicationPool: "P"}}}}}
	f := New(&memPool{}, slog.New(slog.DiscardHandler))
	f.LogDir = t.TempDir()
	if err := f.Apply(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Shutdown(context.Background()) })
	h := f.handler(listenKey{addr: addr})
	local := net.TCPAddrFromAddrPort(netip.MustParseAddrPort(addr))
	remote := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000}
	tc := newTrackedConn(addrConn{local: local, remote: remote}, f, netip.MustParseAddr("127.0.0.1"))
	ctx := context.WithValue(context.Background(), http.LocalAddrContextKey, net.Addr(local))
	ctx = connContext(ctx, tc)
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/hello?x=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.RemoteAddr, r.RequestURI = remote.String(), "/hello?x=1"
	r.Header.Set("User-Agent", "test")
	w := &benchWriter{h: http.Header{}}
	serve := func() {
		clear(w.h)
		w.n, w.status = 0, 0
		h.ServeHTTP(w, r)
	}
	serve()
	if w.status != http.StatusOK || w.n != len(benchBody) {
		t.Fatalf("status %d, %d bytes", w.status, w.n)
	}
	const want = 1 // the exchange
	n := testing.AllocsPerRun(200, serve)
	t.Logf("%v allocations per request", n)
	if n > want {
		t.Errorf("%v allocations per request in the front, want at most %d", n, want)
	}
	if w.status != http.StatusOK || w.n != len(benchBody) {
		t.Fatalf("status %d, %d bytes", w.status, w.n)
	}
}
