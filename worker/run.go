package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
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
// soon as it is ready. addr is host:port, or unix:/path for a unix socket.
// A spec that does not validate is an error before anything listens.
func Run(ctx context.Context, addr string, spec Spec, logger *slog.Logger, grace time.Duration) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h, err := Handler(spec, logger)
	if err != nil {
		return err
	}
	network, address := "tcp", addr
	if sock, ok := strings.CutPrefix(addr, unixPrefix); ok {
		network, address = "unix", sock
	}
	ln, err := net.Listen(network, address)
	if err != nil {
		return fmt.Errorf("worker: listen on %s: %w", addr, err)
	}
	return serve(ctx, ln, h, logger, grace)
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
