// Command testworker is a worker for poolctl's host tests. It listens on
// 127.0.0.1:$PORT like any worker, or on the unix socket whose path is in
// $POOLCTL_LISTEN (processModel.listen unix), and misbehaves on request:
//
//	TW_READY_DELAY=2s   wait before listening (a slow start)
//	TW_WAIT_FILE=path   wait until path exists before listening (a start
//	                    the test releases when it is ready for it)
//	TW_EXIT_AT_START=3  exit with this code at once (a crash at start)
//	TW_SPIN=1           burn CPU in a background goroutine for ever
//	TW_LOG_REQUESTS=1   print one line per request to stdout
//	GET /               "pid=<pid> worker=<id> pool=<pool>"
//	GET /sleep?ms=N     answer after N milliseconds
//	GET /die            exit abruptly while the request is in flight
//	POST /echo          echo the body
//	GET /headers        the request's Host ("Host: <host>") and then every
//	                    header it received, one "Name: value" a line, sorted
//	GET /health         200
//	GET /leak?mb=N      allocate and touch N MB that are never freed, then
//	                    answer like GET / (a memory leak)
//
// SIGTERM makes it stop accepting and finish what it holds.
package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	if code := os.Getenv("TW_EXIT_AT_START"); code != "" {
		n, _ := strconv.Atoi(code)
		fmt.Fprintln(os.Stderr, "testworker: exiting at start as asked")
		os.Exit(n)
	}
	if os.Getenv("TW_SPIN") == "1" {
		go spin()
	}
	if d, err := time.ParseDuration(os.Getenv("TW_READY_DELAY")); err == nil {
		time.Sleep(d)
	}
	if f := os.Getenv("TW_WAIT_FILE"); f != "" {
		waitFile(f)
	}
	ident := fmt.Sprintf("pid=%d worker=%s pool=%s", os.Getpid(), os.Getenv("POOLCTL_WORKER_ID"), os.Getenv("POOLCTL_APPPOOL"))
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, ident)
	})
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/leak", func(w http.ResponseWriter, r *http.Request) {
		mb, _ := strconv.Atoi(r.URL.Query().Get("mb"))
		leak(mb)
		fmt.Fprintln(w, ident)
	})
	mux.HandleFunc("/sleep", func(w http.ResponseWriter, r *http.Request) {
		ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
		select {
		case <-time.After(time.Duration(ms) * time.Millisecond):
		case <-r.Context().Done():
			return
		}
		fmt.Fprintln(w, ident)
	})
	mux.HandleFunc("/status", func(w http.ResponseWriter, r *http.Request) {
		code, err := strconv.Atoi(r.URL.Query().Get("code"))
		if err != nil || code < 200 || code > 599 {
			code = http.StatusBadRequest
		}
		w.WriteHeader(code)
		fmt.Fprintln(w, ident)
	})
	mux.HandleFunc("/die", func(w http.ResponseWriter, r *http.Request) {
		os.Exit(7)
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(w, r.Body)
	})
	mux.HandleFunc("/headers", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "Host: %s\n", r.Host)
		for _, k := range slices.Sorted(maps.Keys(r.Header)) {
			for _, v := range r.Header[k] {
				fmt.Fprintf(w, "%s: %s\n", k, v)
			}
		}
	})
	var handler http.Handler = mux
	if os.Getenv("TW_LOG_REQUESTS") == "1" {
		handler = logRequests(ident, mux)
	}
	srv := &http.Server{Handler: handler}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	ln, err := listen()
	if err != nil {
		fmt.Fprintln(os.Stderr, "testworker:", err)
		os.Exit(1)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		fmt.Fprintln(os.Stderr, "testworker:", err)
		os.Exit(1)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
}

// spin burns one CPU for ever (TW_SPIN=1).
func spin() {
	x := uint64(1)
	for {
		x = x*6364136223846793005 + 1442695040888963407
		if x == 0 {
			fmt.Fprintln(os.Stderr, "testworker: unreachable")
		}
	}
}

// leaked holds what /leak allocated, so that it is never freed.
var (
	leakMu sync.Mutex
	leaked [][]byte
)

// leak allocates mb MB and writes every page, so that it is resident.
func leak(mb int) {
	b := make([]byte, max(mb, 0)<<20)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	leakMu.Lock()
	leaked = append(leaked, b)
	leakMu.Unlock()
}

// logRequests prints one line per request to stdout, with one write.
func logRequests(ident string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(os.Stdout, "testworker: %s %s %s\n", ident, r.Method, r.URL.RequestURI())
		next.ServeHTTP(w, r)
	})
}

// waitFile polls until path exists (TW_WAIT_FILE); the test that set it
// creates the file and kills the worker at its end.
func waitFile(path string) {
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// listen opens the unix socket at $POOLCTL_LISTEN when it is a path,
// else 127.0.0.1:$PORT.
func listen() (net.Listener, error) {
	if p := os.Getenv("POOLCTL_LISTEN"); strings.HasPrefix(p, "/") {
		return net.Listen("unix", p)
	}
	return net.Listen("tcp", "127.0.0.1:"+os.Getenv("PORT"))
}
