package front

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// envBenchWorker makes the test binary a worker process: with it set,
// TestMain serves benchBody on the worker's address instead of running
// tests (the worker of the apppool benchmarks, bench_test.go).
const envBenchWorker = "POOLCTL_FRONT_BENCH_WORKER"

func TestMain(m *testing.M) {
	if os.Getenv(envBenchWorker) != "" {
		if err := benchWorkerMain(); err != nil {
			fmt.Fprintln(os.Stderr, "bench worker:", err)
			os.Exit(2) //nolint:gocritic // the test binary acting as a worker process
		}
		return
	}
	os.Exit(m.Run())
}

// benchWorkerMain serves benchBody, like bench/hello, on POOLCTL_LISTEN
// (127.0.0.1:$PORT, or a unix socket path).
func benchWorkerMain() error {
	network, addr := "tcp", os.Getenv("POOLCTL_LISTEN")
	if strings.HasPrefix(addr, "/") {
		network = "unix"
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		return err
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write(benchBody)
	})}
	return srv.Serve(ln)
}

// benchBody is the 100-byte answer of the benchmark workers.
var benchBody = []byte(strings.Repeat("hello, poolctl! ", 6) + "bye\n")
