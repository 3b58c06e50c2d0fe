package front

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/poolctl/poolctl/store"
)

// TestInheritedMatches: the any-address form takes a socket on 0.0.0.0 or
// ::, an address takes a socket on exactly that address, and the port must
// be the same.
func TestInheritedMatches(t *testing.T) {
	for _, c := range []struct {
		sock, addr string
		want       bool
	}{
		{"0.0.0.0:8080", ":8080", true},
		{"[::]:8080", ":8080", true},
		{"0.0.0.0:8081", ":8080", false},
		{"127.0.0.1:8080", ":8080", false},
		{"127.0.0.1:8080", "127.0.0.1:8080", true},
		{"127.0.0.1:8080", "127.0.0.2:8080", false},
		{"127.0.0.1:8080", "127.0.0.1:8081", false},
		{"[::1]:8443", "[::1]:8443", true},
		{"[::ffff:127.0.0.1]:8080", "127.0.0.1:8080", true},
		{"0.0.0.0:8080", "127.0.0.1:8080", false},
	} {
		sock := netip.MustParseAddrPort(c.sock)
		sock = netip.AddrPortFrom(sock.Addr().Unmap(), sock.Port())
		want, anyAddr, err := parseListenAddr(c.addr)
		if err != nil {
			t.Fatalf("parse %q: %v", c.addr, err)
		}
		if got := matches(sock, want, anyAddr); got != c.want {
			t.Errorf("socket %s, binding %s: match %v, want %v", c.sock, c.addr, got, c.want)
		}
	}
}

// inheritedFixture is an inherited socket on 127.0.0.1 and a fallback
// that records the addresses it was asked for and fails.
type inheritedFixture struct {
	keeper   net.Listener
	addr     string
	inh      *Inherited
	log      *bytes.Buffer
	mu       sync.Mutex
	fallback []string
}

var errFallback = errors.New("fallback listen refused")

func newInheritedFixture(t *testing.T) *inheritedFixture {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	fx := &inheritedFixture{keeper: ln, addr: ln.Addr().String(), log: &bytes.Buffer{}}
	logger := slog.New(slog.NewTextHandler(syncBuffer{&fx.mu, fx.log}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	fx.inh, err = NewInherited([]net.Listener{ln}, func(network, addr string) (net.Listener, error) {
		fx.mu.Lock()
		defer fx.mu.Unlock()
		fx.fallback = append(fx.fallback, addr)
		return nil, errFallback
	}, logger)
	if err != nil {
		t.Fatal(err)
	}
	return fx
}

func (fx *inheritedFixture) logged() string {
	fx.mu.Lock()
	defer fx.mu.Unlock()
	return fx.log.String()
}

type syncBuffer struct {
	mu *sync.Mutex
	w  io.Writer
}

func (s syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// acceptOne dials addr, accepts on ln and checks a byte gets across.
func acceptOne(t *testing.T, ln net.Listener, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	acceptFrom(t, ln, c)
}

// acceptFrom accepts a connection on ln and checks it is c's.
func acceptFrom(t *testing.T, ln net.Listener, c net.Conn) {
	t.Helper()
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	ln.(*inheritedListener).Listener.(*net.TCPListener).SetDeadline(time.Now().Add(2 * time.Second))
	s, err := ln.Accept()
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	defer s.Close()
	if s.RemoteAddr().String() != c.LocalAddr().String() {
		t.Fatalf("accepted %s, want the connection from %s", s.RemoteAddr(), c.LocalAddr())
	}
	b := make([]byte, 1)
	s.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.ReadFull(s, b); err != nil || b[0] != 'x' {
		t.Fatalf("read %q, %v", b, err)
	}
}

// TestInheritedCloseKeepsSocket: a listener handed out on an inherited
// socket accepts its connections; closing it leaves the socket listening
// (a connection made then waits in the backlog) and the next Listen takes
// it again and accepts that very connection. The fallback is not used.
func TestInheritedCloseKeepsSocket(t *testing.T) {
	fx := newInheritedFixture(t)
	l1, err := fx.inh.Listen("tcp", fx.addr)
	if err != nil {
		t.Fatal(err)
	}
	acceptOne(t, l1, fx.addr)
	if err := l1.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l1.Close(); err == nil {
		t.Error("second Close of the same listener: no error")
	}
	waiting, err := net.DialTimeout("tcp", fx.addr, 2*time.Second)
	if err != nil {
		t.Fatalf("dial while no listener was handed out: %v (the socket was closed)", err)
	}
	defer waiting.Close()
	l2, err := fx.inh.Listen("tcp", fx.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	acceptFrom(t, l2, waiting)
	if len(fx.fallback) != 0 {
		t.Errorf("fallback called for %v", fx.fallback)
	}
	if n := fx.users(); n != 1 {
		t.Errorf("users %d, want 1 (the double Close counted once)", n)
	}
}

// TestInheritedFallback: an address no inherited socket matches goes to
// the fallback; on the port of an inherited socket, its error says which
// socket holds the port.
func TestInheritedFallback(t *testing.T) {
	fx := newInheritedFixture(t)
	_, port, _ := net.SplitHostPort(fx.addr)
	_, err := fx.inh.Listen("tcp", "127.0.0.2:"+port)
	if !errors.Is(err, errFallback) || !strings.Contains(err.Error(), "the inherited socket "+fx.addr+" holds port") {
		t.Errorf("Listen on another address of the inherited port: %v", err)
	}
	other := "127.0.0.1:1"
	if fx.addr == other {
		other = "127.0.0.1:2"
	}
	_, err = fx.inh.Listen("tcp", other)
	if !errors.Is(err, errFallback) || strings.Contains(err.Error(), "inherited") {
		t.Errorf("Listen on another port: %v", err)
	}
	if len(fx.fallback) != 2 {
		t.Errorf("fallback calls %v, want 2", fx.fallback)
	}
}

// TestInheritedReportUnused: an unused socket is reported once; not while
// a binding uses it; when its last listener closes that is logged at once.
func TestInheritedReportUnused(t *testing.T) {
	fx := newInheritedFixture(t)
	if got := fx.inh.ReportUnused(); len(got) != 1 || got[0].String() != fx.addr {
		t.Fatalf("first report %v, want [%s]", got, fx.addr)
	}
	if got := fx.inh.ReportUnused(); len(got) != 0 {
		t.Fatalf("second report %v, want none", got)
	}
	l, err := fx.inh.Listen("tcp", fx.addr)
	if err != nil {
		t.Fatal(err)
	}
	if got := fx.inh.ReportUnused(); len(got) != 0 {
		t.Fatalf("report while used %v, want none", got)
	}
	l.Close()
	if !strings.Contains(fx.logged(), "no longer used by any binding") {
		t.Errorf("closing the last listener not logged:\n%s", fx.logged())
	}
	if got := fx.inh.ReportUnused(); len(got) != 0 {
		t.Fatalf("report after the close was logged %v, want none", got)
	}
}

// TestInheritedNotTCP: a unix socket is not for the front.
func TestInheritedNotTCP(t *testing.T) {
	ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "s"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = NewInherited([]net.Listener{ln}, net.Listen, slog.New(slog.DiscardHandler))
	if !errors.Is(err, ErrNotTCP) {
		t.Fatalf("NewInherited(unix): %v, want ErrNotTCP", err)
	}
}

type noPools struct{}

func (noPools) FindPool(string) Pool { return nil }

// TestFrontOnInheritedSocket: the front serves a site on the inherited
// socket (the test holds the port, so nothing else could listen there);
// when the site stops, a client that connects waits in the backlog, and
// is answered once the site starts again on the same socket.
func TestFrontOnInheritedSocket(t *testing.T) {
	fx := newInheritedFixture(t)
	f := New(noPools{}, slog.New(slog.DiscardHandler))
	fx.inh.fallback = f.Listen
	f.Listen = fx.inh.Listen
	off := false
	site := func(started bool) *store.Config {
		s := store.Site{Name: "Act", ID: 1, Bindings: []store.Binding{{Protocol: "http", BindingInformation: fx.addr + ":"}},
			Applications: []store.Application{{Path: "/", ApplicationPool: "Missing"}}}
		if !started {
			s.ServerAutoStart = &off
		}
		return &store.Config{Sites: []store.Site{s}}
	}
	ctx := context.Background()
	if err := f.Apply(ctx, site(true)); err != nil {
		t.Fatal(err)
	}
	defer f.Shutdown(ctx)
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	get := func() error {
		resp, err := c.Get("http://" + fx.addr + "/")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("X-Poolctl-Reason") != "N/A" {
			return fmt.Errorf("status %d reason %q, want the front's 503 for a missing pool", resp.StatusCode, resp.Header.Get("X-Poolctl-Reason"))
		}
		return nil
	}
	if err := get(); err != nil {
		t.Fatal(err)
	}
	if err := f.Apply(ctx, site(false)); err != nil {
		t.Fatal(err)
	}
	// The stopped site's server shuts down in the background.
	deadline := time.Now().Add(5 * time.Second)
	for fx.users() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the stopped site's listener was not closed within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	done := make(chan error, 1)
	go func() { done <- get() }()
	select {
	case err := <-done:
		t.Fatalf("GET answered with the site stopped: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	if err := f.Apply(ctx, site(true)); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("GET that waited in the backlog: %v", err)
	}
}

func (fx *inheritedFixture) users() int {
	fx.inh.mu.Lock()
	defer fx.inh.mu.Unlock()
	return fx.inh.socks[0].users
}
