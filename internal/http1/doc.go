// Package http1 is the front's HTTP/1.1 server loop (plain HTTP, and TLS
// connections whose client chose HTTP/1.1): one goroutine per client connection that reads a request head,
// runs the handler and writes the response through per-connection
// buffers, with no goroutine per request and no deadline change on the
// common path. It serves an ordinary http.Handler, and answers like
// net/http's server where the front depends on it (framing, 100-continue,
// Date, trailers, Hijack, http.ResponseController, ConnState, graceful
// Shutdown), and is stricter where net/http is lenient with input a
// request smuggler would send (bare LF, obs-fold, Content-Length with
// Transfer-Encoding). HTTP/2 stays on net/http. ServeConn serves one
// connection accepted (and TLS-handshaken) elsewhere.
//
// A client that closes or resets its connection while its request is
// being served cancels the request's context, as with net/http, but it is
// noticed by one epoll set for the whole process (hangup_linux.go) instead
// of a background read per request. Supported reports whether that set
// can run here; where it cannot, the front uses net/http.
package http1
