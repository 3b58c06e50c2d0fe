package front

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/poolctl/poolctl/internal/http1"
)

// tlsSplit serves a TLS binding with both loops: it accepts and runs the
// TLS handshake itself, then hands a connection whose client chose HTTP/2
// to net/http's server and any other (HTTP/1.1, or no ALPN) to the lean
// loop, on the handshake's own goroutine.
type tlsSplit struct {
	cfg    *tls.Config
	lean   *http1.Server
	std    *http.Server // serves h2 connections
	h2     *connQueue   // what std serves
	logger interface{ Debug(string, ...any) }

	closing atomic.Bool
}

// newTLSSplit makes the split server of a TLS binding.
func newTLSSplit(cfg *tls.Config, lean *http1.Server, std *http.Server, logger interface{ Debug(string, ...any) }) *tlsSplit {
	std.TLSConfig = cfg
	return &tlsSplit{cfg: cfg, lean: lean, std: std, logger: logger}
}

// Serve accepts on ln (raw TCP) until it is closed.
func (s *tlsSplit) Serve(ln net.Listener) error {
	s.h2 = newConnQueue(ln.Addr())
	stdDone := make(chan struct{})
	go func() {
		defer close(stdDone)
		_ = s.std.Serve(s.h2)
	}()
	defer func() {
		_ = s.h2.Close()
		<-stdDone
	}()
	var delay time.Duration
	for {
		c, err := ln.Accept()
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
			s.logger.Debug("accept error; retrying", "err", err, "in", delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		go s.handshake(c)
	}
}

// handshake runs the TLS handshake of c (within the head timeout) and
// serves it on the loop its protocol picks.
func (s *tlsSplit) handshake(c net.Conn) {
	tc := tls.Server(c, s.cfg)
	ctx, cancel := context.WithTimeout(context.Background(), headTimeout)
	err := tc.HandshakeContext(ctx)
	cancel()
	if err != nil {
		s.logger.Debug("TLS handshake failed", "remote", c.RemoteAddr().String(), "err", err)
		_ = tc.Close()
		return
	}
	if tc.ConnectionState().NegotiatedProtocol == "h2" {
		if !s.h2.deliver(tc) {
			_ = tc.Close()
		}
		return
	}
	if err := s.lean.ServeConn(tc); err != nil {
		_ = tc.Close()
	}
}

// Shutdown stops both loops gracefully.
func (s *tlsSplit) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	var wg sync.WaitGroup
	var stdErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		stdErr = s.std.Shutdown(ctx)
	}()
	leanErr := s.lean.Shutdown(ctx)
	wg.Wait()
	return errors.Join(stdErr, leanErr)
}

// connQueue is a net.Listener whose connections are handed to it
// (deliver) rather than accepted: the h2 connections of a tlsSplit, for
// net/http's server.
type connQueue struct {
	addr   net.Addr
	conns  chan net.Conn
	done   chan struct{}
	closed sync.Once
}

func newConnQueue(addr net.Addr) *connQueue {
	return &connQueue{addr: addr, conns: make(chan net.Conn), done: make(chan struct{})}
}

// deliver hands c to the server; false once the queue is closed.
func (q *connQueue) deliver(c net.Conn) bool {
	select {
	case q.conns <- c:
		return true
	case <-q.done:
		return false
	}
}

// Accept returns the next delivered connection.
func (q *connQueue) Accept() (net.Conn, error) {
	select {
	case c := <-q.conns:
		return c, nil
	case <-q.done:
		return nil, net.ErrClosed
	}
}

// Close ends Accept and deliver.
func (q *connQueue) Close() error {
	q.closed.Do(func() { close(q.done) })
	return nil
}

// Addr is the TLS binding's address.
func (q *connQueue) Addr() net.Addr { return q.addr }
