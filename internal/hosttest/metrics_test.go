package hosttest

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape reads the metrics endpoint and returns its families.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("scrape: %s: %s", resp.Status, b)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse metrics: %v", err)
	}
	return fams
}

// metricValue returns the value of the series of family name with the labels,
// and whether it exists.
func metricValue(fams map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		got := map[string]string{}
		for _, l := range m.Label {
			got[l.GetName()] = l.GetValue()
		}
		for k, v := range labels {
			if got[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

// TestMetricsCountRequests scrapes the metrics endpoint while requests
// run, then checks that the counters match what was sent, by status class
// and by pool, and that a removed pool's series go away.
func TestMetricsCountRequests(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	e.addTestPool("A", "/")
	e.addTestPool("B", "/b")
	mport := freePort(t)
	e.launchHost("--metrics", fmt.Sprintf("127.0.0.1:%d", mport))
	murl := fmt.Sprintf("http://127.0.0.1:%d/metrics", mport)

	const ok, notFound, failed, onB = 60, 15, 5, 20
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	send := func(path string, n, want int) {
		defer wg.Done()
		for range n {
			resp, err := http.Get(e.url(path))
			if err != nil {
				errs <- err
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != want {
				errs <- fmt.Errorf("%s: status %d, want %d", path, resp.StatusCode, want)
				return
			}
		}
	}
	wg.Add(4)
	go send("/", ok, 200)
	go send("/status?code=404", notFound, 404)
	go send("/status?code=500", failed, 500)
	go send("/b/", onB, 200)
	// Scrape during the traffic: the endpoint answers and parses.
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	scrapes := 0
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		scrape(t, murl)
		scrapes++
		select {
		case <-done:
		case <-time.After(20 * time.Millisecond):
			continue
		}
		break
	}
	<-done
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if scrapes == 0 {
		t.Fatal("no scrape during traffic")
	}

	// A stopped pool refuses with 503: counted as refused, reason stopped.
	e.run("stop", "apppool", "B")
	const refused = 7
	for range refused {
		if code, _, _ := e.get("/b/"); code != http.StatusServiceUnavailable {
			t.Fatalf("stopped pool: status %d, want 503", code)
		}
	}

	fams := scrape(t, murl)
	want := []struct {
		name   string
		labels map[string]string
		value  float64
	}{
		{"poolctl_requests_total", map[string]string{"pool": "A", "class": "2xx"}, ok},
		{"poolctl_requests_total", map[string]string{"pool": "A", "class": "4xx"}, notFound},
		{"poolctl_requests_total", map[string]string{"pool": "A", "class": "5xx"}, failed},
		{"poolctl_requests_total", map[string]string{"pool": "B", "class": "2xx"}, onB},
		{"poolctl_requests_total", map[string]string{"pool": "B", "class": "5xx"}, refused},
		{"poolctl_requests_refused_total", map[string]string{"pool": "B", "reason": "stopped"}, refused},
		{"poolctl_requests_refused_total", map[string]string{"pool": "A", "reason": "queue_full"}, 0},
		{"poolctl_request_duration_seconds", map[string]string{"pool": "A"}, ok + notFound + failed},
		{"poolctl_pool_state", map[string]string{"pool": "A", "state": "Started"}, 1},
		{"poolctl_pool_state", map[string]string{"pool": "B", "state": "Stopped"}, 1},
		{"poolctl_pool_state", map[string]string{"pool": "B", "state": "Started"}, 0},
		{"poolctl_pool_workers", map[string]string{"pool": "A"}, 1},
		{"poolctl_pool_queue_depth", map[string]string{"pool": "A"}, 0},
		{"poolctl_worker_crashes_total", map[string]string{"pool": "A"}, 0},
	}
	for _, w := range want {
		got, found := metricValue(fams, w.name, w.labels)
		if !found || got != w.value {
			t.Errorf("%s%v = %v (found %v), want %v", w.name, w.labels, got, found, w.value)
		}
	}
	pids := e.workers("A")
	if len(pids) != 1 {
		t.Fatalf("pool A workers: %v", pids)
	}
	pid := strconv.Itoa(pids[0])
	served, found := metricValue(fams, "poolctl_worker_requests_total", map[string]string{"pool": "A", "pid": pid})
	if !found || served != ok+notFound+failed {
		t.Errorf("worker %s served %v (found %v), want %d", pid, served, found, ok+notFound+failed)
	}
	for _, name := range []string{"poolctl_worker_private_memory_bytes", "poolctl_worker_virtual_memory_bytes", "poolctl_worker_age_seconds", "poolctl_worker_cpu_seconds_total"} {
		if v, found := metricValue(fams, name, map[string]string{"pool": "A", "pid": pid}); !found || v < 0 || name != "poolctl_worker_cpu_seconds_total" && v == 0 {
			t.Errorf("%s{pool=A,pid=%s} = %v (found %v)", name, pid, v, found)
		}
	}

	// A recycle on demand is counted with its reason; the replaced
	// worker's series go and the new one's come.
	e.run("recycle", "apppool", "A")
	waitFor(t, 20*time.Second, "recycle counted and old worker gone", func() error {
		fams := scrape(t, murl)
		if v, _ := metricValue(fams, "poolctl_worker_recycles_total", map[string]string{"pool": "A", "reason": "on_demand"}); v != 1 {
			return fmt.Errorf("recycles on_demand = %v", v)
		}
		if _, found := metricValue(fams, "poolctl_worker_requests_total", map[string]string{"pool": "A", "pid": pid}); found {
			return fmt.Errorf("old worker %s still has series", pid)
		}
		return nil
	})

	// Cardinality stays bounded: a removed pool's series disappear.
	e.run("set", "app", "Default Web Site/b", "/applicationPool:A")
	e.run("delete", "apppool", "B")
	waitFor(t, 10*time.Second, "pool B series removed", func() error {
		fams := scrape(t, murl)
		if _, found := metricValue(fams, "poolctl_requests_total", map[string]string{"pool": "B"}); found {
			return fmt.Errorf("pool B still exported")
		}
		return nil
	})
	if _, found := metricValue(scrape(t, murl), "poolctl_build_info", nil); !found {
		t.Error("poolctl_build_info missing")
	}
}
