package front

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/poolctl/poolctl/internal/http1"
)

// ServerKind picks the server loop of HTTP/1.x connections. HTTP/2
// connections (TLS bindings, ALPN h2) are always served by net/http.
type ServerKind int

const (
	// ServerLean is internal/http1 for HTTP/1.x, plain or over TLS: one
	// goroutine per connection, no goroutine or deadline change per
	// request. The default, where the Linux epoll it needs is available.
	ServerLean ServerKind = iota
	// ServerNetHTTP is net/http's server for every connection.
	ServerNetHTTP
)

// String is the name ParseServerKind takes.
func (k ServerKind) String() string {
	if k == ServerNetHTTP {
		return "net/http"
	}
	return "lean"
}

// ParseServerKind parses "lean" or "net/http".
func ParseServerKind(s string) (ServerKind, error) {
	switch strings.ToLower(s) {
	case "lean", "":
		return ServerLean, nil
	case "net/http", "nethttp":
		return ServerNetHTTP, nil
	}
	return 0, fmt.Errorf("http server %q: expected lean or net/http", s)
}

// The limits of a request head, the same with either server.
const (
	headTimeout  = 10 * time.Second // from the head's first byte (lean) or the read's start (net/http)
	maxHeadBytes = 1 << 20
	maxHeadField = 256 // fields of a head (lean only; net/http bounds bytes alone)
)

// httpServer is what serves a listener: net/http's server or http1's.
type httpServer interface {
	Serve(net.Listener) error
	Shutdown(context.Context) error
}

// leanServer reports whether HTTP/1.x connections get the lean loop: when
// asked and supported here (logged once otherwise).
func (f *Front) leanServer() bool {
	if f.Server != ServerLean {
		return false
	}
	if err := http1.Supported(); err != nil {
		f.leanWarn.Do(func() {
			f.logger.Warn("every binding is served by net/http: the lean loop cannot run here", "err", err)
		})
		return false
	}
	return true
}

// newLeanServer makes the lean server of the listener key.
func (f *Front) newLeanServer(key listenKey) *http1.Server {
	return &http1.Server{
		Handler:           f.handler(key),
		ReadHeaderTimeout: headTimeout,
		MaxHeaderBytes:    maxHeadBytes,
		MaxHeaderFields:   maxHeadField,
		ConnState:         f.connState(key),
		ConnContext:       connContext,
		ErrorLog:          f.logger,
	}
}
