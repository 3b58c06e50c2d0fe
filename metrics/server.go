package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/poolctl/poolctl/metrics/expo"
)

// DefaultPort is the port a bare metrics address without one gets.
const DefaultPort = "9419"

var descBuildInfo = expo.NewDesc("poolctl_build_info",
	"Always 1: the version, revision and Go version of the running host.", []string{"version", "revision", "goversion"}, expo.Gauge)

// NewRegistry returns a registry with the pools' collector, the Go runtime
// and process metrics, and poolctl_build_info.
func NewRegistry(src Source, logs LogSource) *Registry {
	r := &Registry{}
	r.MustRegister(&collector{src: src, logs: logs, now: time.Now}, runtimeCollector{}, buildInfoCollector{})
	return r
}

// NormalizeAddress makes a metrics address listenable: a bare ":PORT" (or
// an empty host) listens on 127.0.0.1, so metrics stay on loopback unless
// an operator names an address; a bare host gets DefaultPort.
func NormalizeAddress(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		host, port = addr, DefaultPort
		if ip := net.ParseIP(addr); addr != "" && ip == nil && !isHostName(addr) {
			return "", fmt.Errorf("metrics address %q: expected HOST:PORT, :PORT or HOST: %w", addr, err)
		}
	}
	if host == "" {
		host = "127.0.0.1"
	}
	if port == "" {
		port = DefaultPort
	}
	return net.JoinHostPort(host, port), nil
}

func isHostName(s string) bool {
	for _, r := range s {
		if !(r == '-' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return s != ""
}

// Server serves /metrics on one address.
type Server struct {
	addr string
	srv  *http.Server
	ln   net.Listener
	done chan struct{}
}

// Listen opens addr (already normalised) and serves reg's metrics at
// /metrics until Close.
func Listen(addr string, reg *Registry, logger *slog.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", reg.Handler(logger))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "poolctl host metrics: GET /metrics")
	})
	s := &Server{addr: ln.Addr().String(), ln: ln, done: make(chan struct{}),
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: time.Minute,
			ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelDebug)}}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("metrics endpoint stopped", "addr", s.addr, "err", err)
		}
	}()
	logger.Info("serving metrics", "url", "http://"+s.addr+"/metrics")
	return s, nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() string { return s.addr }

// Close stops the server, letting a scrape in flight finish until ctx is
// done.
func (s *Server) Close(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	<-s.done
	return err
}
