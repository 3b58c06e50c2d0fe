package http1

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// defaultMaxHeaderBytes is Server.MaxHeaderBytes when it is 0.
const defaultMaxHeaderBytes = 1 << 20

// newConnGrace is how long Shutdown leaves a new connection that has sent
// nothing yet, as its first request may be on the way (net/http's
// figure).
const newConnGrace = 5 * time.Second

// Server serves HTTP/1.x on listeners with one goroutine per connection.
// Its fields are set before Serve and not changed after.
type Server struct {
	// Handler answers every request.
	Handler http.Handler
	// ReadHeaderTimeout is how long a request head may take once its
	// first byte has arrived; 0: no limit.
	ReadHeaderTimeout time.Duration
	// MaxHeaderBytes bounds a request head (and a chunked body's trailer);
	// 0: 1 MiB.
	MaxHeaderBytes int
	// MaxHeaderFields bounds the fields of a head (and of a trailer); 0:
	// 256.
	MaxHeaderFields int
	// ConnState, if set, is told of each connection's state changes, as
	// with net/http.
	ConnState func(net.Conn, http.ConnState)
	// ConnContext, if set, makes the context of a new connection's
	// requests.
	ConnContext func(context.Context, net.Conn) context.Context
	// ErrorLog receives the server's own errors; nil: discarded.
	ErrorLog *slog.Logger

	mu        sync.Mutex
	listeners map[*net.Listener]struct{}
	conns     map[*conn]struct{}
	closing   atomic.Bool
}

// Serve accepts connections on ln and serves each on its own goroutine
// until Shutdown or Close; it then returns http.ErrServerClosed. The listener
// is closed when Serve returns.
func (s *Server) Serve(ln net.Listener) error {
	hub, err := theHub()
	if err != nil {
		return fmt.Errorf("http1: %w", err)
	}
	if !s.track(&ln) {
		_ = ln.Close()
		return http.ErrServerClosed
	}
	defer s.untrack(&ln)
	defer ln.Close()
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.closing.Load() {
				return http.ErrServerClosed
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			// Out of descriptors, or a connection aborted before it was
			// accepted: wait a little and go on, as net/http does.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			s.logf("http1: accept error; retrying", "err", err, "in", delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		c := s.newConn(nc)
		if c == nil {
			_ = nc.Close()
			continue
		}
		hub.watch(c)
		c.setState(http.StateNew)
		go c.serve()
	}
}

// ServeConn serves one connection accepted elsewhere (a TLS connection
// whose handshake chose HTTP/1.1) on the calling goroutine until it ends.
// It returns http.ErrServerClosed, without serving, once the server is
// closing; the caller then closes nc.
func (s *Server) ServeConn(nc net.Conn) error {
	hub, err := theHub()
	if err != nil {
		return fmt.Errorf("http1: %w", err)
	}
	c := s.newConn(nc)
	if c == nil {
		return http.ErrServerClosed
	}
	hub.watch(c)
	c.setState(http.StateNew)
	c.serve()
	return nil
}

// newConn sets up a connection, or returns nil when the server is closing.
func (s *Server) newConn(nc net.Conn) *conn {
	ctx := context.WithValue(context.Background(), http.LocalAddrContextKey, nc.LocalAddr())
	if s.ConnContext != nil {
		ctx = s.ConnContext(ctx, nc)
	}
	rb := readBufs.Get().(*[]byte)
	bw := writeBufs.Get().(*bufio.Writer)
	bw.Reset(nc)
	c := &conn{srv: s, nc: nc, ctx: ctx, bw: bw, keys: keyCache{}, accept: time.Now(),
		in: inbuf{src: nc, buf: *rb}}
	if ra := nc.RemoteAddr(); ra != nil {
		c.remote = ra.String()
	}
	if tc, ok := nc.(*tls.Conn); ok {
		st := tc.ConnectionState() // the handshake is done: ServeConn's caller did it
		c.tls = &st
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		c.releaseBuffers()
		return nil
	}
	if s.conns == nil {
		s.conns = map[*conn]struct{}{}
	}
	s.conns[c] = struct{}{}
	return c
}

// track adds a listener Serve serves; false once the server is closing.
func (s *Server) track(ln *net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return false
	}
	if s.listeners == nil {
		s.listeners = map[*net.Listener]struct{}{}
	}
	s.listeners[ln] = struct{}{}
	return true
}

func (s *Server) untrack(ln *net.Listener) {
	s.mu.Lock()
	delete(s.listeners, ln)
	s.mu.Unlock()
}

// forget drops a connection that closed or was hijacked.
func (s *Server) forget(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// unwatch stops the hangup watch of c.
func (s *Server) unwatch(c *conn) {
	if hub, err := theHub(); err == nil {
		hub.unwatch(c)
	}
}

// shuttingDown reports whether Shutdown or Close was called.
func (s *Server) shuttingDown() bool { return s.closing.Load() }

// closeListeners closes every listener Serve serves. Called with s.mu
// held.
func (s *Server) closeListeners() error {
	var errs []error
	for ln := range s.listeners {
		if err := (*ln).Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Shutdown stops the server gracefully: listeners close at once, idle
// connections close, and busy ones close once their response is done. It
// returns when no connection is left, or with ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	s.mu.Lock()
	lerr := s.closeListeners()
	s.mu.Unlock()
	wait := time.Millisecond
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		if s.closeIdle() {
			return lerr
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
			wait = min(2*wait, 500*time.Millisecond)
			timer.Reset(wait)
		}
	}
}

// closeIdle closes the idle connections and reports whether none is left.
func (s *Server) closeIdle() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		switch http.ConnState(c.state.Load()) {
		case http.StateIdle:
		case http.StateNew:
			if time.Since(c.accept) < newConnGrace {
				continue
			}
		default:
			continue
		}
		_ = c.nc.Close() // its loop ends and forgets it
	}
	return len(s.conns) == 0
}

// Close closes the listeners and every connection at once.
func (s *Server) Close() error {
	s.closing.Store(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.closeListeners()
	for c := range s.conns {
		_ = c.nc.Close()
	}
	return err
}

// headLimits returns the head size and field limits in effect.
func (s *Server) headLimits() (maxBytes, maxFields int) {
	maxBytes, maxFields = s.MaxHeaderBytes, s.MaxHeaderFields
	if maxBytes <= 0 {
		maxBytes = defaultMaxHeaderBytes
	}
	if maxFields <= 0 {
		maxFields = defaultMaxHeaderFields
	}
	return maxBytes, maxFields
}

// logf logs an error of the server's.
func (s *Server) logf(msg string, args ...any) {
	if s.ErrorLog != nil {
		s.ErrorLog.Error(msg, args...)
	}
}

// debugf logs what only debugging needs.
func (s *Server) debugf(msg string, args ...any) {
	if s.ErrorLog != nil {
		s.ErrorLog.Debug(msg, args...)
	}
}
