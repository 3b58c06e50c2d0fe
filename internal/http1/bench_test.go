package http1

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
)

// BenchmarkServerLoop measures the server loop alone, side by side with
// net/http's server: 32 client connections (raw bytes, keep-alive, one
// request at a time each, as wrk -c32) ask for a 100-byte answer that the
// handler writes with a Content-Length. cpu-ns/op is the CPU time of the
// whole process per request (the clients' share is the same for both
// servers), allocs/op the allocations. Run with
//
//	go test -run '^$' -bench BenchmarkServerLoop -benchmem ./internal/http1/
func BenchmarkServerLoop(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 100)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Length"] = []string{"100"}
		w.Header()["Content-Type"] = []string{"text/plain"}
		_, _ = w.Write(body)
	})
	for _, name := range []string{"lean", "nethttp"} {
		b.Run("server="+name, func(b *testing.B) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			var srv interface{ Close() error }
			if name == "lean" {
				s := &Server{Handler: h}
				go func() { _ = s.Serve(ln) }()
				srv = s
			} else {
				s := &http.Server{Handler: h}
				go func() { _ = s.Serve(ln) }()
				srv = s
			}
			b.Cleanup(func() { _ = srv.Close() })
			benchClients(b, ln.Addr().String())
		})
	}
}

// benchClients runs 32 raw keep-alive clients against addr until b.N
// requests are answered, and reports the process's CPU per request.
func benchClients(b *testing.B, addr string) {
	req := []byte("GET /hello?x=1 HTTP/1.1\r\nHost: bench\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n")
	b.SetParallelism(16) // 32 clients on 2 CPUs
	b.ReportAllocs()
	start := cpuNanos()
	b.Cleanup(func() { b.ReportMetric(float64(cpuNanos()-start)/float64(b.N), "cpu-ns/op") })
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Error(err)
			return
		}
		defer c.Close()
		buf := make([]byte, 4096)
		for pb.Next() {
			if _, err := c.Write(req); err != nil {
				b.Error(err)
				return
			}
			if err := readAnswer(c, buf); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// readAnswer reads one response with a 100-byte body: its head up to the
// empty line, then the body.
func readAnswer(c net.Conn, buf []byte) error {
	n := 0
	for {
		m, err := c.Read(buf[n:])
		if err != nil {
			return err
		}
		n += m
		if i := bytes.Index(buf[:n], []byte("\r\n\r\n")); i >= 0 && n >= i+4+100 {
			if n != i+4+100 {
				return io.ErrUnexpectedEOF // more than one answer: not expected
			}
			return nil
		}
	}
}

// cpuNanos is the CPU time the process has used.
func cpuNanos() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
