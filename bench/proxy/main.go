// Command proxy is the benchmark front for bench/proxy.sh: a net/http server
// on a loopback address whose handler relays every request to one backend
// with forward.Target (or, with -mode reverseproxy, with a tuned
// httputil.ReverseProxy, for comparison; with -mode lean, forward.Target
// behind internal/http1, the host's HTTP/1.x server loop,
// instead of net/http's server).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/poolctl/poolctl/bench/loopback"
	"github.com/poolctl/poolctl/forward"
	"github.com/poolctl/poolctl/internal/http1"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18081", "loopback `address` to listen on")
	backend := flag.String("backend", "127.0.0.1:18080", "backend `address` (loopback, or unix:PATH)")
	mode := flag.String("mode", "forward", "forwarder: forward, lean or reverseproxy")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to `file` until shutdown")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "proxy:", err)
			return
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "proxy:", err)
			return
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(*addr, *backend, *mode); err != nil {
		fmt.Fprintln(os.Stderr, "proxy:", err)
	}
}

// run serves until SIGINT or SIGTERM.
func run(addr, backend, mode string) error {
	network := "tcp"
	if path, ok := strings.CutPrefix(backend, "unix:"); ok {
		network, backend = "unix", path
	} else if err := loopback.Check(backend); err != nil {
		return err
	}
	if err := loopback.Check(addr); err != nil {
		return err
	}
	var h http.Handler
	switch mode {
	case "forward", "lean":
		t := forward.NewTarget(network, backend, forward.Options{})
		defer t.Close()
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := t.Forward(w, r); err != nil {
				var fe *forward.Error
				if errors.As(err, &fe) && fe.Committed {
					// Too late to answer: abort so the client sees a
					// broken response.
					panic(http.ErrAbortHandler)
				}
				http.Error(w, "502 bad gateway: "+err.Error(), http.StatusBadGateway)
			}
		})
	case "reverseproxy":
		if network != "tcp" {
			return fmt.Errorf("-mode reverseproxy needs a TCP backend")
		}
		u := &url.URL{Scheme: "http", Host: backend}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConns = 256
		tr.MaxIdleConnsPerHost = 256
		rp := httputil.NewSingleHostReverseProxy(u)
		rp.Transport = tr
		rp.BufferPool = bufferPool{}
		h = rp
	default:
		return fmt.Errorf("unknown -mode %q", mode)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var srv interface {
		Serve(net.Listener) error
		Shutdown(context.Context) error
	}
	if mode == "lean" {
		srv = &http1.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	} else {
		srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	fmt.Println("proxy: listening on", ln.Addr(), "mode", mode, "backend", backend)
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving: %w", err)
	}
	return nil
}

// bufferPool gives httputil.ReverseProxy pooled 32 KiB buffers.
type bufferPool struct{}

var bufs = make(chan []byte, 256)

// Get returns a pooled buffer or a new one.
func (bufferPool) Get() []byte {
	select {
	case b := <-bufs:
		return b
	default:
		return make([]byte, 32<<10)
	}
}

// Put returns b to the pool.
func (bufferPool) Put(b []byte) {
	select {
	case bufs <- b:
	default:
	}
}
