// Command rampload is bench/ramp.sh's load generator: C keep-alive
// connections send GETs to a loopback URL for a bounded duration, and it
// prints the latency distribution and the failures, overall and for the
// requests sent within a window after each recycle mark (a line on stdin,
// written by the script when it starts a recycle).
//
//	rampload -url http://127.0.0.1:8080/ -c 32 -d 20s
//
// Output, one line: "requests p50_ms p99_ms max_ms failures after_n
// after_p99_ms", where after_* cover the requests sent less than -window
// after a recycle mark.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/poolctl/poolctl/bench/loopback"
)

type sample struct {
	at, took time.Duration
	ok       bool
}

func main() {
	url := flag.String("url", "", "loopback URL to load")
	conns := flag.Int("c", 32, "connections")
	dur := flag.Duration("d", 20*time.Second, "duration (at most 10m)")
	window := flag.Duration("window", 500*time.Millisecond, "how long after a recycle mark a request counts as during the recycle")
	flag.Parse()
	if err := run(*url, *conns, *dur, *window); err != nil {
		fmt.Fprintln(os.Stderr, "rampload:", err)
		os.Exit(1)
	}
}

func run(url string, conns int, dur, window time.Duration) error {
	if dur <= 0 || dur > 10*time.Minute || conns < 1 || conns > 1024 {
		return fmt.Errorf("-d must be in (0, 10m] and -c in [1, 1024]")
	}
	u, err := neturl.Parse(url)
	if err != nil || u.Scheme != "http" {
		return fmt.Errorf("-url %q: want an http:// URL", url)
	}
	if err := loopback.Check(u.Host); err != nil {
		return err
	}
	start := time.Now()
	var mu sync.Mutex
	var marks []time.Duration
	go func() { // recycle marks from the script
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			mu.Lock()
			marks = append(marks, time.Since(start))
			mu.Unlock()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	results := make([][]sample, conns)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				t0 := time.Now()
				ok := get(client, url)
				if ctx.Err() != nil && !ok {
					break // cut off by the end of the run
				}
				results[i] = append(results[i], sample{at: t0.Sub(start), took: time.Since(t0), ok: ok})
			}
		}()
	}
	wg.Wait()
	var all, after []time.Duration
	failures := 0
	mu.Lock()
	defer mu.Unlock()
	for _, rs := range results {
		for _, s := range rs {
			if !s.ok {
				failures++
				continue
			}
			all = append(all, s.took)
			for _, m := range marks {
				if s.at >= m && s.at < m+window {
					after = append(after, s.took)
					break
				}
			}
		}
	}
	fmt.Printf("%d %.2f %.2f %.2f %d %d %.2f\n", len(all), ms(q(all, 0.5)), ms(q(all, 0.99)), ms(q(all, 1)), failures, len(after), ms(q(after, 0.99)))
	return nil
}

// get sends one GET and reports whether it got a 200 and its whole body.
func get(c *http.Client, url string) bool {
	resp, err := c.Get(url)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return err == nil && resp.StatusCode == http.StatusOK
}

func q(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[min(int(p*float64(len(d))), len(d)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
