package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/poolctl/poolctl/internal/buildinfo"
)

// DefaultPort is the port a bare metrics address without one gets.
const DefaultPort = "9419"

// Registry returns a private registry with the pools' collector, the Go
// runtime and process collectors, and poolctl_build_info.
func Registry(src Source, logs LogSource) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(&collector{src: src, logs: logs, now: time.Now})
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	info := buildinfo.Read()
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "poolctl_build_info",
		Help: "Always 1: the version, revision and Go version of the running host."}, []string{"version", "revision", "goversion"})
	build.WithLabelValues(buildinfo.Version(), info.Revision, info.GoVersion).Set(1)
	reg.MustRegister(build)
	return reg
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
func Listen(addr string, reg *prometheus.Registry, logger *slog.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:            slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	}))
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
