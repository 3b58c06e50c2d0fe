// Command sleeper is a worker stand-in for the tests of package proc. It
// sleeps until SIGTERM (or -exit-after), and on request listens for HTTP,
// ignores SIGTERM, allocates memory or runs a copy of itself as a child. It
// prints "ready" on stdout once it is set up.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// sink keeps the leaked memory reachable.
var sink []byte

func main() {
	os.Exit(run())
}

func run() int {
	listen := flag.Int("listen", 0, "serve HTTP 200 on / and /health at 127.0.0.1:`port`")
	listenUnix := flag.String("listen-unix", "", "serve HTTP 200 on / and /health on the unix socket at `path`")
	listenDelay := flag.Duration("listen-delay", 0, "wait this long before listening")
	ignoreTerm := flag.Bool("ignore-term", false, "ignore SIGTERM")
	child := flag.Bool("child", false, "run a copy of itself (ignoring SIGTERM) as a child and print its pid")
	childLeak := flag.Int("child-leak-mb", 0, "the child allocates and touches this many MiB")
	leak := flag.Int("leak-mb", 0, "allocate and touch this many MiB")
	exitAfter := flag.Duration("exit-after", 0, "exit after this long (0 = never)")
	exitCode := flag.Int("exit-code", 0, "exit code for -exit-after")
	report := flag.Bool("report", false, "print the working directory, $POOLCTL_TEST_VAR and the arguments")
	maxLife := flag.Duration("max-life", 2*time.Minute, "exit with code 99 after this long, whatever happens")
	flag.Parse()

	stop := make(chan os.Signal, 1)
	if *ignoreTerm {
		signal.Ignore(syscall.SIGTERM)
	} else {
		signal.Notify(stop, syscall.SIGTERM)
	}

	if *report {
		wd, _ := os.Getwd()
		fmt.Printf("cwd=%s\n", wd)
		fmt.Printf("var=%s\n", os.Getenv("POOLCTL_TEST_VAR"))
		fmt.Printf("args=%s\n", strings.Join(flag.Args(), ","))
		fmt.Printf("envcount=%d\n", len(os.Environ()))
		fmt.Fprintln(os.Stderr, "to-stderr")
	}
	if *leak > 0 {
		sink = make([]byte, *leak<<20)
		for i := 0; i < len(sink); i += 4096 {
			sink[i] = 1
		}
	}
	if *child {
		pid, err := startChild(*childLeak, *maxLife)
		if err != nil {
			fmt.Fprintln(os.Stderr, "sleeper:", err)
			return 2
		}
		fmt.Printf("child %d\n", pid)
	}
	if *listen != 0 || *listenUnix != "" {
		if *listenDelay > 0 {
			time.Sleep(*listenDelay)
		}
		network, addr := "tcp", "127.0.0.1:"+strconv.Itoa(*listen)
		if *listenUnix != "" {
			network, addr = "unix", *listenUnix
		}
		ln, err := net.Listen(network, addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "sleeper:", err)
			return 2
		}
		mux := http.NewServeMux()
		mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
		mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "healthy") })
		go func() { _ = http.Serve(ln, mux) }()
	}
	fmt.Println("ready")

	var exitTimer <-chan time.Time
	if *exitAfter > 0 {
		exitTimer = time.After(*exitAfter)
	}
	select {
	case <-stop:
		return 0
	case <-exitTimer:
		return *exitCode
	case <-time.After(*maxLife):
		return 99
	}
}

// startChild runs a copy of this program that ignores SIGTERM, waits until it
// is set up, and returns its pid.
func startChild(leakMB int, maxLife time.Duration) (int, error) {
	self, err := os.Executable()
	if err != nil {
		return 0, err
	}
	cmd := exec.Command(self, "-ignore-term", "-leak-mb", strconv.Itoa(leakMB), "-max-life", maxLife.String())
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		return 0, fmt.Errorf("child not ready: %q, %v", line, err)
	}
	return cmd.Process.Pid, nil
}
