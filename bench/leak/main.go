// Command leak is the driver of bench/leak.sh: it sends GET /leak?mb=N to
// a poolctl site at a fixed rate over one keep-alive connection for a
// bounded time, samples the private memory (RssAnon+VmSwap, summed over
// the process group) of every worker that answered, every -sample, from
// /proc, and reports per recycled worker the peak overshoot past the limit
// and the time from the first sample over the limit to the first answer
// from a different worker, and what the request that crossed the limit
// left on its own (sampled right after its answer: the floor no reaction
// of the host can go below, since that request must complete). It prints
// a Markdown summary with medians.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "leak:", err)
		os.Exit(1)
	}
}

// worker is what the driver knows of one worker pid.
type worker struct {
	pid      int
	peakKB   uint64
	crossed  time.Time // first sample over the limit
	replaced time.Time // first answer from another worker after crossed
	answers  int
	floorKB  uint64 // private memory right after the answer that took it over the limit
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:19180", "the site's address")
	mb := flag.Int("mb", 5, "MB leaked per request")
	rate := flag.Int("rate", 20, "requests a second")
	dur := flag.Duration("duration", 20*time.Second, "how long to send")
	limitKB := flag.Uint64("limit", 102400, "the pool's privateMemory limit, KB")
	every := flag.Duration("sample", 50*time.Millisecond, "sampling interval")
	label := flag.String("label", "", "row label")
	flag.Parse()
	if *rate <= 0 || *rate > 1000 || *dur <= 0 || *dur > 10*time.Minute {
		return errors.New("-rate must be 1..1000 and -duration at most 10m")
	}

	var mu sync.Mutex
	workers := map[int]*worker{}
	var order []int
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() { // the sampler
		defer close(sampled)
		t := time.NewTicker(*every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case now := <-t.C:
				mu.Lock()
				for _, w := range workers {
					kb, err := groupPrivateKB(w.pid)
					if err != nil {
						continue
					}
					w.peakKB = max(w.peakKB, kb)
					if kb > *limitKB && w.crossed.IsZero() {
						w.crossed = now
					}
				}
				mu.Unlock()
			}
		}
	}()

	c := &client{addr: *addr}
	defer c.close()
	start := time.Now()
	gap := time.Second / time.Duration(*rate)
	sent, failed := 0, 0
	var failures []string
	for n := 0; time.Since(start) < *dur; n++ {
		if wait := time.Until(start.Add(time.Duration(n) * gap)); wait > 0 {
			time.Sleep(wait) // the request rate
		}
		sent++
		pid, err := c.get(fmt.Sprintf("/leak?mb=%d", *mb))
		now := time.Now()
		if err != nil {
			failed++
			if len(failures) < 5 {
				failures = append(failures, err.Error())
			}
			continue
		}
		mu.Lock()
		w := workers[pid]
		if w == nil {
			w = &worker{pid: pid}
			workers[pid] = w
			order = append(order, pid)
			for _, o := range workers {
				if o != w && !o.crossed.IsZero() && o.replaced.IsZero() {
					o.replaced = now
				}
			}
		}
		w.answers++
		if w.floorKB == 0 {
			// Sampled right after the answer: what the request that
			// crossed the limit left, before the host could act.
			if kb, err := groupPrivateKB(pid); err == nil && kb > *limitKB {
				w.floorKB = kb
			}
		}
		mu.Unlock()
	}
	elapsed := time.Since(start)
	close(stop)
	<-sampled

	var over, floor []float64
	var react []time.Duration
	var rows []string
	for _, pid := range order {
		w := workers[pid]
		if w.crossed.IsZero() || w.replaced.IsZero() {
			continue
		}
		o := (float64(w.peakKB) - float64(*limitKB)) / 1024
		f := (float64(w.floorKB) - float64(*limitKB)) / 1024
		if w.floorKB == 0 {
			f = -1
		}
		over = append(over, o)
		floor = append(floor, f)
		react = append(react, w.replaced.Sub(w.crossed))
		rows = append(rows, fmt.Sprintf("pid %d: %d answers, peak %.1f MB (%.1f MB over; %.1f MB after the crossing request), replaced %s after crossing",
			pid, w.answers, float64(w.peakKB)/1024, o, f, w.replaced.Sub(w.crossed).Round(time.Millisecond)))
	}
	rps := float64(sent) / elapsed.Seconds()
	fmt.Printf("<!-- %s: %s -->\n", *label, strings.Join(rows, "; "))
	fmt.Printf("| %s | %.1f | %d | %d | %s | %s | %s | %s |\n", *label, rps, sent, failed,
		fmtMB(median(over)), fmtMB(median(floor)), fmtDur(medianDur(react)), fmtMB(maxOf(over)))
	if failed > 0 {
		fmt.Fprintf(os.Stderr, "leak: %d failed requests: %s\n", failed, strings.Join(failures, "; "))
	}
	return nil
}

func fmtMB(v float64) string {
	if v < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f", v)
}

func fmtDur(d time.Duration) string {
	if d < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%d ms", d.Milliseconds())
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return -1
	}
	v = slices.Clone(v)
	slices.Sort(v)
	return v[len(v)/2]
}

func maxOf(v []float64) float64 {
	if len(v) == 0 {
		return -1
	}
	return slices.Max(v)
}

func medianDur(v []time.Duration) time.Duration {
	if len(v) == 0 {
		return -1
	}
	v = slices.Clone(v)
	slices.Sort(v)
	return v[len(v)/2]
}

// groupPrivateKB sums RssAnon+VmSwap over the process group pgid.
func groupPrivateKB(pgid int) (uint64, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0, fmt.Errorf("read /proc: %w", err)
	}
	var total uint64
	found := false
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		s := string(st)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 3 || f[2] != strconv.Itoa(pgid) {
			continue
		}
		kb, err := privateKB(pid)
		if err != nil {
			continue
		}
		total += kb
		found = true
	}
	if !found {
		return 0, fmt.Errorf("no process in group %d", pgid)
	}
	return total, nil
}

// privateKB reads RssAnon+VmSwap of one process.
func privateKB(pid int) (uint64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("open status: %w", err)
	}
	defer f.Close()
	var kb uint64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "RssAnon" && k != "VmSwap") {
			continue
		}
		n, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		kb += n
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read status: %w", err)
	}
	return kb, nil
}

// client is one raw HTTP/1.1 keep-alive connection that never retries.
type client struct {
	addr string
	conn net.Conn
	br   *bufio.Reader
}

// get sends GET path and returns the pid the testworker's answer names.
func (c *client) get(path string) (int, error) {
	if c.conn == nil {
		conn, err := net.DialTimeout("tcp", c.addr, 5*time.Second)
		if err != nil {
			return 0, fmt.Errorf("dial: %w", err)
		}
		c.conn, c.br = conn, bufio.NewReader(conn)
	}
	_ = c.conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(c.conn, "GET "+path+" HTTP/1.1\r\nHost: "+c.addr+"\r\n\r\n"); err != nil {
		c.close()
		return 0, fmt.Errorf("write: %w", err)
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		c.close()
		return 0, fmt.Errorf("read: %w", err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	if err != nil || resp.Close {
		c.close()
	}
	if err != nil {
		return 0, fmt.Errorf("read body: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("status %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	rest, ok := strings.CutPrefix(string(body), "pid=")
	if !ok {
		return 0, fmt.Errorf("answer names no worker: %q", body)
	}
	num, _, _ := strings.Cut(rest, " ")
	pid, err := strconv.Atoi(num)
	if err != nil {
		return 0, fmt.Errorf("answer names no worker: %q", body)
	}
	return pid, nil
}

func (c *client) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn, c.br = nil, nil
	}
}
