// Command sockprobe measures when poolctl host's control socket first
// answers: it polls GET /v1/status on the socket, every millisecond, until
// an answer with status 200, and prints the milliseconds from -since (a
// time in Unix nanoseconds, taken just before the host was started) to
// that answer. It starts no poolctl process and loads no store, so the
// figure is the host's alone. bench/cli.sh uses it.
//
//	sockprobe -socket /run/poolctl/host.sock -since "$(date +%s%N)" [-timeout 60s]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/poolctl/poolctl/hostapi"
)

func main() {
	socket := flag.String("socket", "", "the host's control socket")
	since := flag.Int64("since", 0, "when the host was started, in Unix nanoseconds (default: now)")
	timeout := flag.Duration("timeout", time.Minute, "give up after this long")
	flag.Parse()
	if *socket == "" {
		fmt.Fprintln(os.Stderr, "sockprobe: -socket is required")
		os.Exit(2)
	}
	start := time.Now()
	if *since != 0 {
		start = time.Unix(0, *since)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	at, err := probe(ctx, *socket)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sockprobe:", err)
		os.Exit(1)
	}
	fmt.Println(at.Sub(start).Milliseconds())
}

// probe polls the socket until GET /v1/status answers 200 and returns
// when it did.
func probe(ctx context.Context, socket string) (time.Time, error) {
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
		DisableKeepAlives: true,
	}}
	var last error
	for {
		if ok, err := statusOK(ctx, client); ok {
			return time.Now(), nil
		} else if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("no answer from %s: %w (last: %w)", socket, ctx.Err(), last)
		case <-time.After(time.Millisecond):
		}
	}
}

func statusOK(ctx context.Context, client *http.Client) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://poolctl/v1/status", nil)
	if err != nil {
		return false, err
	}
	req.Header.Set(hostapi.VersionHeader, hostapi.Version)
	resp, err := client.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return false, errors.New(resp.Status)
	}
	return true, nil
}
