package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Server timeouts. The host is the only client; these only bound a
// misbehaving one. There is no write timeout: CGI scripts may run long.
const (
	readHeaderTimeout = 30 * time.Second
	idleTimeout       = 2 * time.Minute
)

// Run serves spec on addr until ctx is done (SIGTERM is turned into ctx
// cancellation by the caller), then shuts down gracefully within grace. It
// listens before returning from setup so a health check can succeed as
// soon as it is ready. addr is host:port, unix:/path for a unix socket, or
// fd:N for a listening socket inherited as file descriptor N.
// A spec that does not validate is an error before anything listens.
func Run(ctx context.Context, addr string, spec Spec, logger *slog.Logger, grace time.Duration) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h, err := Handler(spec, logger)
	if err != nil {
		return err
	}
	ln, err := listen(addr)
	if err != nil {
		return err
	}
	// What the host handed over (the program's own fd) is not for CGI
	// scripts.
	closeOnExecInherited()
	return serve(ctx, ln, h, logger, grace)
}

// closeOnExecInherited marks every descriptor above stderr close-on-exec,
// so that the children the worker runs (CGI scripts) inherit only their
// standard streams and not what the host passed to the worker (the
// program's descriptor it was started from). Go opens its own descriptors
// close-on-exec already.
func closeOnExecInherited() {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range ents {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
}

// listen opens addr: host:port, unix:/path, or fd:N, a listening socket
// inherited as file descriptor N (the host binds the port itself and hands
// it over, so that no other process can take the port in between).
func listen(addr string) (net.Listener, error) {
	if fd, ok := strings.CutPrefix(addr, fdPrefix); ok {
		n, err := strconv.Atoi(fd)
		if err != nil || n < 3 {
			return nil, fmt.Errorf("worker: listen on %s: not an inherited file descriptor", addr)
		}
		f := os.NewFile(uintptr(n), "inherited listener")
		if f == nil {
			return nil, fmt.Errorf("worker: listen on %s: bad file descriptor", addr)
		}
		defer f.Close() // FileListener holds its own duplicate
		ln, err := net.FileListener(f)
		if err != nil {
			return nil, fmt.Errorf("worker: listen on %s: %w", addr, err)
		}
		return ln, nil
	}
	network, address := "tcp", addr
	if sock, ok := strings.CutPrefix(addr, unixPrefix); ok {
		network, address = "unix", sock
	}
	ln, err := net.Listen(network, address)
	if err != nil {
		return nil, fmt.Errorf("worker: listen on %s: %w", addr, err)
	}
	if network == "unix" {
		// The socket is for the host alone (which runs as root or as the
		// worker's user): no other user may connect, whatever the umask.
		if err := os.Chmod(address, 0o600); err != nil {
			_ = ln.Close()
			return nil, fmt.Errorf("worker: listen on %s: %w", addr, err)
		}
	}
	return ln, nil
}

// Serve is Run on a listener the caller opened (for example one bound to
// port 0, whose address the caller can read). Serve closes ln.
func Serve(ctx context.Context, ln net.Listener, spec Spec, logger *slog.Logger, grace time.Duration) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h, err := Handler(spec, logger)
	if err != nil {
		_ = ln.Close()
		return err
	}
	return serve(ctx, ln, h, logger, grace)
}

// serve runs h on ln until ctx is done, then stops accepting, lets
// in-flight requests finish for up to grace, and closes what is left. It
// returns nil after a clean shutdown and an error wrapping
// context.DeadlineExceeded when requests outlived grace (grace <= 0 closes
// at once).
func serve(ctx context.Context, ln net.Listener, h http.Handler, logger *slog.Logger, grace time.Duration) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	logger.Info("worker listening", "addr", ln.Addr().String())

	select {
	case err := <-served:
		return fmt.Errorf("worker: serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("worker stopping: no new requests, finishing in-flight ones", "grace", grace.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), max(grace, 0))
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
		logger.Warn("serve ended unexpectedly during shutdown", "err", serr)
	}
	if err != nil {
		_ = srv.Close()
		return fmt.Errorf("worker: in-flight requests did not finish within %s: %w", grace, err)
	}
	logger.Info("worker stopped")
	return nil
}
