package http1

import (
	"context"
	"io"
	"net"
	"net/http"
	"reflect"
	"testing"
)

// seen is what a handler saw of its *http.Request.
type seen struct {
	Method, URL, RequestURI, Proto string
	ProtoMajor, ProtoMinor         int
	Header                         http.Header
	Host                           string
	ContentLength                  int64
	NoBody                         bool
	TransferEncoding               []string
	Close                          bool
	RemoteAddr                     string
	Body                           string
	BodyErr                        error
	TrailerBefore, TrailerAfter    http.Header
}

// recordRequests returns a handler sending what it saw of each request
// (its whole body read) on the returned channel.
func recordRequests() (http.Handler, chan seen) {
	ch := make(chan seen, 16)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := seen{
			Method: r.Method, URL: r.URL.String(), RequestURI: r.RequestURI, Proto: r.Proto,
			ProtoMajor: r.ProtoMajor, ProtoMinor: r.ProtoMinor, Header: r.Header.Clone(), Host: r.Host,
			ContentLength: r.ContentLength, NoBody: r.Body == http.NoBody,
			TransferEncoding: r.TransferEncoding, Close: r.Close, RemoteAddr: r.RemoteAddr,
			TrailerBefore: r.Trailer.Clone(),
		}
		b, err := io.ReadAll(r.Body)
		s.Body, s.BodyErr = string(b), err
		s.TrailerAfter = r.Trailer.Clone()
		ch <- s
		io.WriteString(w, "ok")
	}), ch
}

// Contract item 3: the fields of the *http.Request.
func TestRequestFields(t *testing.T) {
	type want struct {
		Method, URL, RequestURI, Proto string
		Minor                          int
		Header                         http.Header // exact, when not nil
		Host                           string
		ContentLength                  int64
		NoBody                         bool
		TE                             []string
		Close                          bool
		Body                           string
		TrailerBefore, TrailerAfter    http.Header
	}
	for _, tc := range []struct {
		name string
		in   string
		want want
	}{
		{"origin form", "GET /a/b?x=1&y=%20 HTTP/1.1\r\nhost: example.com\r\nX-Foo: bar\r\nx-foo: baz\r\naccept-ENCODING: gzip\r\nX-Empty:\r\nX-Ows: \t a\tb \t\r\n\r\n",
			want{Method: "GET", URL: "/a/b?x=1&y=%20", RequestURI: "/a/b?x=1&y=%20", Proto: "HTTP/1.1", Minor: 1,
				Header: http.Header{"X-Foo": {"bar", "baz"}, "Accept-Encoding": {"gzip"}, "X-Empty": {""}, "X-Ows": {"a\tb"}},
				Host:   "example.com", NoBody: true}},
		{"absolute form", "GET http://other.example:8080/p?q HTTP/1.1\r\nHost: example.com\r\n\r\n",
			want{Method: "GET", URL: "http://other.example:8080/p?q", RequestURI: "http://other.example:8080/p?q", Proto: "HTTP/1.1", Minor: 1,
				Header: http.Header{}, Host: "other.example:8080", NoBody: true}},
		{"CONNECT", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
			want{Method: "CONNECT", URL: "//example.com:443", RequestURI: "example.com:443", Proto: "HTTP/1.1", Minor: 1,
				Header: http.Header{}, Host: "example.com:443", NoBody: true}},
		{"OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
			want{Method: "OPTIONS", URL: "*", RequestURI: "*", Proto: "HTTP/1.1", Minor: 1, Header: http.Header{}, Host: "a", NoBody: true}},
		{"HTTP/1.0", "GET / HTTP/1.0\r\n\r\n",
			want{Method: "GET", URL: "/", RequestURI: "/", Proto: "HTTP/1.0", Minor: 0, Header: http.Header{}, NoBody: true, Close: true}},
		{"HTTP/1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: keep-alive\r\nHost: h\r\n\r\n",
			want{Method: "GET", URL: "/", RequestURI: "/", Proto: "HTTP/1.0", Minor: 0, Header: http.Header{"Connection": {"keep-alive"}}, Host: "h", NoBody: true}},
		{"Connection: close", "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
			want{Method: "GET", URL: "/", RequestURI: "/", Proto: "HTTP/1.1", Minor: 1, Header: http.Header{"Connection": {"close"}}, Host: "h", NoBody: true, Close: true}},
		{"Content-Length", "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
			want{Method: "POST", URL: "/p", RequestURI: "/p", Proto: "HTTP/1.1", Minor: 1, Host: "h", ContentLength: 5, Body: "hello"}},
		{"Content-Length 0", "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
			want{Method: "POST", URL: "/p", RequestURI: "/p", Proto: "HTTP/1.1", Minor: 1, Host: "h", NoBody: true}},
		{"chunked with trailers", "POST /p HTTP/1.1\r\nHost: h\r\nTrailer: X-T, x-u\r\nTransfer-Encoding: chunked\r\n\r\n" +
			"5\r\nhello\r\n6;ext=1;q=\"a\"\r\n world\r\n0\r\nX-T: v\r\nx-u: w1\r\nX-U: w2\r\n\r\n",
			want{Method: "POST", URL: "/p", RequestURI: "/p", Proto: "HTTP/1.1", Minor: 1, Host: "h", ContentLength: -1,
				TE: []string{"chunked"}, Body: "hello world",
				TrailerBefore: http.Header{"X-T": nil, "X-U": nil},
				TrailerAfter:  http.Header{"X-T": {"v"}, "X-U": {"w1", "w2"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, ch := recordRequests()
			ts := start(t, h)
			c := ts.dial(t)
			c.send(tc.in)
			c.ok(tc.want.Method)
			s := recv(t, ch, "the handler")
			w := tc.want
			check := func(what string, got, want any) {
				t.Helper()
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s: %#v, want %#v", what, got, want)
				}
			}
			check("Method", s.Method, w.Method)
			check("URL", s.URL, w.URL)
			check("RequestURI", s.RequestURI, w.RequestURI)
			check("Proto", s.Proto, w.Proto)
			check("ProtoMajor", s.ProtoMajor, 1)
			check("ProtoMinor", s.ProtoMinor, w.Minor)
			if w.Header != nil {
				check("Header", s.Header, w.Header)
			}
			if _, ok := s.Header["Host"]; ok {
				t.Errorf("Header has a Host key: %q", s.Header["Host"])
			}
			check("Host", s.Host, w.Host)
			check("ContentLength", s.ContentLength, w.ContentLength)
			check("Body == http.NoBody", s.NoBody, w.NoBody)
			check("TransferEncoding", s.TransferEncoding, w.TE)
			check("Close", s.Close, w.Close)
			check("RemoteAddr", s.RemoteAddr, c.c.LocalAddr().String())
			check("Body", s.Body, w.Body)
			check("body read error", s.BodyErr, error(nil))
			if w.TrailerBefore != nil || len(s.TrailerBefore) > 0 {
				check("Trailer before EOF", s.TrailerBefore, w.TrailerBefore)
			}
			if w.TrailerAfter != nil || len(s.TrailerAfter) > 0 {
				check("Trailer after EOF", s.TrailerAfter, w.TrailerAfter)
			}
		})
	}
}

type ctxKey struct{}

// Contract item 3: the request's context comes from ConnContext (called
// once per connection, with it), carries http.LocalAddrContextKey and is
// cancelled when the handler returns.
func TestRequestContext(t *testing.T) {
	type got struct {
		ctx   context.Context
		value any
		local any
	}
	ch := make(chan got, 4)
	connCtx := make(chan net.Conn, 4)
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ch <- got{r.Context(), r.Context().Value(ctxKey{}), r.Context().Value(http.LocalAddrContextKey)}
		io.WriteString(w, "ok")
	}), func(s *Server) {
		s.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
			connCtx <- c
			return context.WithValue(ctx, ctxKey{}, c.RemoteAddr().String())
		}
	})
	c := ts.dial(t)
	c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
	c.ok("GET")
	c.ok("GET")
	conn := recv(t, connCtx, "ConnContext")
	if conn.RemoteAddr().String() != c.c.LocalAddr().String() {
		t.Errorf("ConnContext got the conn from %s, want %s", conn.RemoteAddr(), c.c.LocalAddr())
	}
	select {
	case <-connCtx:
		t.Errorf("ConnContext called twice for one connection")
	default:
	}
	for range 2 {
		g := recv(t, ch, "the handler")
		if g.value != c.c.LocalAddr().String() {
			t.Errorf("ConnContext's value %v, want %s", g.value, c.c.LocalAddr())
		}
		if a, ok := g.local.(net.Addr); !ok || a.String() != ts.addr {
			t.Errorf("LocalAddrContextKey %v, want %s", g.local, ts.addr)
		}
		select {
		case <-g.ctx.Done():
		case <-withTimeout(t).Done():
			t.Fatal("the request's context was not cancelled after the handler returned")
		}
	}
}
