package hostapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/poolctl/poolctl/store"
)

// Access is what a route needs from its caller.
type Access int

// Route access levels: anyone who can open the socket may read; writes need
// root, the host's own uid, or membership of the operator group.
const (
	Read Access = iota
	Write
)

// Error codes of ErrorBody, mapped from and back to sentinel errors.
const (
	CodeNotFound     = "not_found"
	CodeInvalid      = "invalid"
	CodeConflict     = "conflict"
	CodeAlready      = "already_in_state"
	CodeForbidden    = "permission_denied"
	CodeUnavailable  = "unavailable"
	CodeInternal     = "internal"
	CodeBadVersion   = "bad_version"
	CodeRecycleFail  = "recycle_failed"
	codeUnknownRoute = "unknown_route"
)

// Errors a handler returns to pick the reply's code. Anything else is
// internal.
var (
	ErrConflict       = errors.New("conflict")
	ErrAlreadyInState = errors.New("already in the requested state")
	ErrUnavailable    = errors.New("unavailable")
	ErrRecycleFailed  = errors.New("recycle failed")
)

// HandlerFunc serves one route: it gets the request and returns a value to
// send as JSON, or an error.
type HandlerFunc func(ctx context.Context, r *http.Request) (any, error)

// ServerOptions says who may write.
type ServerOptions struct {
	HostUID       int // the host's own uid
	OperatorGroup int // gid whose members may write; -1 for none
	OperatorName  string
	Logger        *slog.Logger
	// MaxConns bounds the open control connections; 0 means
	// DefaultMaxConns (64). Past it, clients wait to be accepted.
	MaxConns int
	// IdleTimeout closes a connection idle between requests; 0 means
	// DefaultIdleTimeout (30 s).
	IdleTimeout time.Duration
}

// Server is the host's side of the control API.
type Server struct {
	opts ServerOptions
	mux  *http.ServeMux
	srv  *http.Server

	ready <-chan struct{} // Gate's channel; nil: every route serves at once
	open  map[string]bool // routes that serve before ready
}

// Gate makes every route but /v1/ping and those in open wait until ready
// is closed before it runs (a client that gives up meanwhile gets no
// answer). The host serves its socket from its first moment this way:
// status answers at once, while questions about pools wait for the pools
// to be prepared. Call it before Serve.
func (s *Server) Gate(ready <-chan struct{}, open ...string) {
	s.ready = ready
	s.open = map[string]bool{"GET /v1/ping": true}
	for _, p := range open {
		s.open[p] = true
	}
}

// waitReady waits for the gate of pattern; false when the client went
// away first.
func (s *Server) waitReady(r *http.Request, pattern string) bool {
	if s.ready == nil || s.open[pattern] {
		return true
	}
	select {
	case <-s.ready:
		return true
	case <-r.Context().Done():
		return false
	}
}

// NewServer returns a server with no routes but /v1/ping.
func NewServer(opts ServerOptions) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{opts: opts, mux: http.NewServeMux()}
	s.Handle("GET /v1/ping", Read, func(context.Context, *http.Request) (any, error) {
		return map[string]string{"status": "ok"}, nil
	})
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, ErrorBody{Code: codeUnknownRoute, Error: fmt.Sprintf("no route %s %s", r.Method, r.URL.Path)})
	})
	return s
}

// Handle registers a route ("POST /v1/apppools/{name}/recycle").
func (s *Server) Handle(pattern string, access Access, h HandlerFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if !s.admit(w, r, pattern, access) || !s.waitReady(r, pattern) {
			return
		}
		out, err := h(r.Context(), r)
		if err != nil {
			status, body := errorReply(err)
			writeError(w, status, body)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if out == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		// Whole, with its length: the client reads it into one buffer of
		// that size rather than growing one (list apppool at 500 pools).
		var buf bytes.Buffer
		_ = json.NewEncoder(&buf).Encode(out)
		w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
		_, _ = w.Write(buf.Bytes())
	})
}

// StreamFunc serves a route whose reply is JSON lines: it calls send for
// each line. An error it returns before the first send is the reply, as
// for HandlerFunc; after it, the route must say so in a line of its own
// (the status is sent), and the error only ends the reply. send fails
// once the client is gone.
type StreamFunc func(ctx context.Context, r *http.Request, send func(line any) error) error

// HandleStream registers a route answered in JSON lines ("GET /v1/events").
func (s *Server) HandleStream(pattern string, access Access, h StreamFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if !s.admit(w, r, pattern, access) || !s.waitReady(r, pattern) {
			return
		}
		started := false
		enc := json.NewEncoder(w)
		send := func(line any) error {
			if !started {
				started = true
				w.Header().Set("Content-Type", "application/jsonl")
				w.WriteHeader(http.StatusOK)
			}
			return enc.Encode(line)
		}
		if err := h(r.Context(), r, send); err != nil && !started {
			status, body := errorReply(err)
			writeError(w, status, body)
		}
	})
}

// admit checks the client's API version and, for a write, that the peer
// may write; it answers the refusal itself and reports whether to serve.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, pattern string, access Access) bool {
	w.Header().Set(VersionHeader, Version)
	if v := r.Header.Get(VersionHeader); v != "" && v != Version {
		writeError(w, http.StatusBadRequest, ErrorBody{Code: CodeBadVersion,
			Error: fmt.Sprintf("this host speaks control API version %s, the tool %s: use the poolctl binary that matches the host", Version, v)})
		return false
	}
	peer, _ := PeerFrom(r.Context())
	if from, ok := FarmOperatorFrom(r.Context()); ok {
		// A command through etcd: whoever could write it under the
		// store's prefix is an operator (etcd's RBAC decided).
		if access == Write {
			s.opts.Logger.Info("control API command through etcd", "from", from, "route", pattern)
		}
		return true
	}
	if access == Write {
		if err := s.authorizeWrite(peer); err != nil {
			s.opts.Logger.Warn("control API write refused", "uid", peer.UID, "pid", peer.PID, "route", pattern)
			writeError(w, http.StatusForbidden, ErrorBody{Code: CodeForbidden, Error: err.Error()})
			return false
		}
	}
	return true
}

func (s *Server) authorizeWrite(p Peer) error {
	if p.UID == 0 || p.UID == s.opts.HostUID {
		return nil
	}
	// p's groups were taken when the connection was accepted: never
	// looked up by PID now, as the PID may belong to another process.
	if s.opts.OperatorGroup >= 0 && (p.GID == s.opts.OperatorGroup || slices.Contains(p.Groups, s.opts.OperatorGroup)) {
		return nil
	}
	who := "root"
	if s.opts.HostUID != 0 {
		who += fmt.Sprintf(" or uid %d (the host's user)", s.opts.HostUID)
	}
	if s.opts.OperatorGroup >= 0 {
		who += fmt.Sprintf(" or members of group %s (%d)", s.opts.OperatorName, s.opts.OperatorGroup)
	} else {
		who += "; to let others write, start the host with --operator-group GROUP"
	}
	return fmt.Errorf("uid %d may not change the host: writes need %s", p.UID, who)
}

func errorReply(err error) (int, ErrorBody) {
	b := ErrorBody{Error: err.Error()}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, ErrorBody{Code: CodeNotFound, Error: b.Error}
	case errors.Is(err, store.ErrInvalid):
		return http.StatusBadRequest, ErrorBody{Code: CodeInvalid, Error: b.Error}
	case errors.Is(err, ErrAlreadyInState):
		return http.StatusConflict, ErrorBody{Code: CodeAlready, Error: b.Error}
	case errors.Is(err, ErrConflict):
		return http.StatusConflict, ErrorBody{Code: CodeConflict, Error: b.Error}
	case errors.Is(err, ErrRecycleFailed):
		return http.StatusInternalServerError, ErrorBody{Code: CodeRecycleFail, Error: b.Error}
	case errors.Is(err, ErrUnavailable):
		return http.StatusServiceUnavailable, ErrorBody{Code: CodeUnavailable, Error: b.Error}
	}
	return http.StatusInternalServerError, ErrorBody{Code: CodeInternal, Error: b.Error}
}

func writeError(w http.ResponseWriter, status int, b ErrorBody) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(b)
}

// farmKey marks a request that came through etcd (package internal/farm).
type farmKey struct{}

// WithFarmOperator marks ctx as that of a command that came through etcd
// from the tool of from ("user@machine"): a farm operator, whom etcd's
// role-based access control authorised to write the store's prefix. The
// peer is nobody (uid -1): only the farm mark admits writes.
func WithFarmOperator(ctx context.Context, from string) context.Context {
	ctx = context.WithValue(ctx, peerKey{}, Peer{UID: -1, GID: -1, PID: -1})
	return context.WithValue(ctx, farmKey{}, from)
}

// FarmOperatorFrom reports whether ctx is a farm operator's command
// (WithFarmOperator), and from whom.
func FarmOperatorFrom(ctx context.Context) (string, bool) {
	from, ok := ctx.Value(farmKey{}).(string)
	return from, ok
}

// Handler returns the server's routes as an http.Handler, for requests
// that do not come through the control socket (a farm operator's commands
// through etcd, marked with WithFarmOperator). A request with no peer in
// its context is served as nobody's (uid -1), never as root's.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := r.Context().Value(peerKey{}).(Peer); !ok {
			r = r.WithContext(context.WithValue(r.Context(), peerKey{}, Peer{UID: -1, GID: -1, PID: -1}))
		}
		w.Header().Set(VersionHeader, Version)
		s.mux.ServeHTTP(w, r)
	})
}

// Serve answers control requests on ln until ctx is done, then shuts down,
// letting requests in progress finish for up to 5 seconds. Each
// connection's peer is taken when it is accepted; at most MaxConns are
// open at once, and idle ones are closed after IdleTimeout (a client that
// sends no request header within 10 s too).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	maxConns, idle := s.opts.MaxConns, s.opts.IdleTimeout
	if maxConns <= 0 {
		maxConns = DefaultMaxConns
	}
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	ln = newPeerListener(ln, maxConns)
	s.srv = &http.Server{
		// Every reply carries the version, also the mux's own (unknown
		// routes, redirects).
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set(VersionHeader, Version)
			s.mux.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       idle,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			p := Peer{UID: -1, GID: -1, PID: -1}
			if pc, ok := c.(*peerConn); ok {
				p = pc.peer
			}
			return context.WithValue(ctx, peerKey{}, p)
		},
	}
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("control API: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(sctx)
	<-errc
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("control API shutdown: %w", err)
	}
	return nil
}
