package forward

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/poolctl/poolctl/internal/http1"
)

// leanFront says which server loop the tests' plain-HTTP fronts run:
// internal/http1 (the host's default) or net/http's. TestMain runs every
// test of the package once with each, so that every forwarding behaviour
// is pinned on both loops. TLS fronts are always net/http's, as in the
// host.
var leanFront bool

// TestMain runs the package's tests on net/http's server, then on the
// lean loop.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 && http1.Supported() == nil {
		fmt.Println("=== the same tests with fronts on the lean server loop (internal/http1)")
		leanFront = true
		code = m.Run()
	}
	os.Exit(code)
}

// frontServer is a front's server: an httptest.Server, or the lean loop on
// a 127.0.0.1 listener.
type frontServer struct {
	URL      string
	Listener net.Listener
	client   *http.Client
	close    func()
}

// newFrontServer starts serving h on 127.0.0.1.
func newFrontServer(h http.Handler, tls bool) *frontServer {
	if tls || !leanFront {
		var s *httptest.Server
		if tls {
			s = httptest.NewUnstartedServer(h)
			s.Config.ErrorLog = log.New(io.Discard, "", 0)
			s.StartTLS()
		} else {
			s = httptest.NewUnstartedServer(h)
			s.Config.ErrorLog = log.New(io.Discard, "", 0)
			s.Start()
		}
		return &frontServer{URL: s.URL, Listener: s.Listener, client: s.Client(), close: s.Close}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("listen: %v", err))
	}
	srv := &http1.Server{Handler: h, ReadHeaderTimeout: testTimeout}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	tr := &http.Transport{}
	return &frontServer{URL: "http://" + ln.Addr().String(), Listener: ln, client: &http.Client{Transport: tr},
		close: func() {
			tr.CloseIdleConnections()
			_ = srv.Close()
			<-done
		}}
}

// Client returns a client for the server.
func (s *frontServer) Client() *http.Client { return s.client }

// Close stops the server and closes its connections.
func (s *frontServer) Close() { s.close() }
