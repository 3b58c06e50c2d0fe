// Command appstart measures an application's own start-up: the time from
// starting it to its first 200 answer on 127.0.0.1, with no poolctl in
// between. bench/host.sh sets it beside the host's cold start, which adds
// the host's part (routing, launch, readiness, forwarding) to the same
// application's start.
//
// Usage: appstart -port N [-timeout 10s] -- command [args...]
//
// The command runs with PORT=N in its environment; appstart connects to
// 127.0.0.1:N every 200 µs until a GET / answers 200, prints the elapsed
// milliseconds, and kills the command's process group.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

func main() {
	port := flag.Int("port", 0, "the loopback port the application listens on ($PORT)")
	timeout := flag.Duration("timeout", 10*time.Second, "give up after this long")
	flag.Parse()
	if *port <= 0 || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: appstart -port N [-timeout 10s] -- command [args...]")
		os.Exit(2)
	}
	ms, err := measure(*port, *timeout, flag.Args())
	if err != nil {
		fmt.Fprintln(os.Stderr, "appstart:", err)
		os.Exit(1)
	}
	fmt.Printf("%.2f\n", ms)
}

// measure starts args with PORT set and returns the milliseconds until
// its first 200, then stops it.
func measure(port int, timeout time.Duration, args []string) (float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: timeout}
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/"
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start %s: %w", args[0], err)
	}
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	}()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return 0, err
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return float64(time.Since(start).Microseconds()) / 1000, nil
			}
		}
		if ctx.Err() != nil {
			return 0, errors.Join(fmt.Errorf("no 200 from %s within %v", url, timeout), err)
		}
		time.Sleep(200 * time.Microsecond)
	}
}
