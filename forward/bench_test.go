package forward

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"runtime"
	"testing"
)

// helloBody is the benchmark backend's 100-byte answer.
var helloBody = []byte("0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456\n\n\n")

// newHelloBackend starts a backend that answers helloBody.
func newHelloBackend(b *testing.B) *httptest.Server {
	b.Helper()
	if len(helloBody) != 100 {
		b.Fatalf("hello body is %d bytes", len(helloBody))
	}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write(helloBody)
	}))
	b.Cleanup(s.Close)
	return s
}

// BenchmarkForward measures whole requests through a front on 127.0.0.1
// (client, front and backend in this process), with 32 client goroutines:
// forward.Target against httputil.ReverseProxy with a tuned Transport.
func BenchmarkForward(b *testing.B) {
	be := newHelloBackend(b)
	u, _ := url.Parse(be.URL)
	tg := NewTarget("tcp", u.Host, Options{})
	b.Cleanup(tg.Close)
	forwardHandler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := tg.Forward(w, r); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
		}
	})
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 256
	tr.MaxIdleConnsPerHost = 256
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = tr
	b.Cleanup(tr.CloseIdleConnections)

	for _, bc := range []struct {
		name string
		h    http.Handler
	}{
		{"forward", forwardHandler},
		{"reverseproxy", rp},
	} {
		b.Run(bc.name, func(b *testing.B) {
			fs := httptest.NewServer(bc.h)
			defer fs.Close()
			ctr := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
			defer ctr.CloseIdleConnections()
			client := &http.Client{Transport: ctr}
			procs := runtime.GOMAXPROCS(0)
			b.SetParallelism((32 + procs - 1) / procs)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := client.Get(fs.URL)
					if err != nil {
						b.Error(err)
						return
					}
					n, _ := io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if n != 100 || resp.StatusCode != 200 {
						b.Errorf("status %d, %d bytes", resp.StatusCode, n)
						return
					}
				}
			})
		})
	}
}

// discardWriter is a minimal http.ResponseWriter for BenchmarkForwardOnly.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(s int)   { w.status = s }
func (w *discardWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	return len(p), nil
}

// BenchmarkForwardOnly calls Target.Forward directly (no front server), so
// that ns/op and allocs/op are the forwarder's own plus the backend's.
func BenchmarkForwardOnly(b *testing.B) {
	be := newHelloBackend(b)
	u, _ := url.Parse(be.URL)
	tg := NewTarget("tcp", u.Host, Options{})
	b.Cleanup(tg.Close)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((32 + procs - 1) / procs)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		r := httptest.NewRequest("GET", "/hello?x=1", nil).WithContext(ctx)
		r.Header.Set("User-Agent", "bench")
		r.Header.Set("Accept", "*/*")
		w := &discardWriter{h: make(http.Header)}
		for pb.Next() {
			clear(w.h)
			w.n = 0
			if err := tg.Forward(w, r); err != nil {
				b.Error(err)
				return
			}
			if w.n != 100 || w.status != 200 {
				b.Errorf("status %d, %d bytes", w.status, w.n)
				return
			}
		}
	})
}
