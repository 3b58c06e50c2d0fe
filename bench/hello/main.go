// Command hello is the benchmark backend for bench/proxy.sh: a net/http
// server on a loopback address that answers every request with the same
// 100-byte body.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/poolctl/poolctl/bench/loopback"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18080", "loopback `address` to listen on (or unix:PATH)")
	flag.Parse()
	if err := run(*addr); err != nil {
		fmt.Fprintln(os.Stderr, "hello:", err)
	}
}

// body is the 100-byte answer.
var body = append(bytes.Repeat([]byte("hello, poolctl! "), 6), "bye\n"...)

// run serves until SIGINT or SIGTERM.
func run(addr string) error {
	if len(body) != 100 {
		return fmt.Errorf("body is %d bytes, want 100", len(body))
	}
	network := "tcp"
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		network, addr = "unix", path
	} else if err := loopback.Check(addr); err != nil {
		return err
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		return fmt.Errorf("listening: %w", err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write(body)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	fmt.Println("hello: listening on", ln.Addr())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving: %w", err)
	}
	return nil
}
