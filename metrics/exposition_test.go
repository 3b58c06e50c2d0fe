package metrics

import (
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/poolctl/poolctl/internal/logfile"
	"github.com/poolctl/poolctl/metrics/expo"
)

// goldenCollector adds the fixture pools and logs of golden_fixture_test.go.
type goldenCollector struct{}

func (goldenCollector) Collect(b *expo.Builder) {
	for _, p := range goldenPools() {
		collectPool(b, p.st, p.snap)
		for _, w := range p.st.Workers {
			collectWorker(b, p.st.Name, w, goldenNow)
		}
	}
	collectLogs(b, goldenLogs{})
}

// goldenRegistry is NewRegistry's registry over the fixtures.
func goldenRegistry() *Registry {
	reg := NewRegistry(emptySource{}, nil)
	reg.MustRegister(goldenCollector{}, LogWriteCollector{Stats: func() []logfile.Stat {
		return []logfile.Stat{{Path: "/var/log/a.log", WriteErrors: 3, LinesLost: 7}}
	}})
	return reg
}

// scrapeRegistry serves one scrape of reg and returns the body.
func scrapeRegistry(t *testing.T, reg *Registry) string {
	t.Helper()
	rec := httptest.NewRecorder()
	reg.Handler(discardLogger()).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("scrape: status %d", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q", ct)
	}
	b, err := io.ReadAll(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var (
	runtimeSeries = regexp.MustCompile(`(?m)^((?:go|process)_\S*) \S+$`)
	goVersion     = regexp.MustCompile(`(version|goversion)="go[^"]*"`)
)

// normalize replaces the values of the go_* and process_* series (they
// change from run to run) and the Go version.
func normalize(s string) string {
	s = runtimeSeries.ReplaceAllString(s, "$1 V")
	return goVersion.ReplaceAllString(s, `$1="GO"`)
}

// TestExpositionGolden: the /metrics output has every family, type, help
// text, label set and poolctl_ value the client_golang-based exposition
// had (testdata/exposition.golden was written by it, before the port).
func TestExpositionGolden(t *testing.T) {
	got := normalize(scrapeRegistry(t, goldenRegistry()))
	want, err := os.ReadFile("testdata/exposition.golden")
	if err != nil {
		t.Fatal(err)
	}
	if got != normalize(string(want)) {
		gl, wl := strings.Split(got, "\n"), strings.Split(normalize(string(want)), "\n")
		for i := range max(len(gl), len(wl)) {
			g, w := "", ""
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("line %d:\n got  %q\n want %q", i+1, g, w)
			}
		}
	}
}

// TestExpositionPromtool: promtool accepts the output (skipped where it is
// not installed).
func TestExpositionPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not installed")
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(scrapeRegistry(t, goldenRegistry()))
	out, err := cmd.CombinedOutput()
	// promtool exits 3 for lint warnings (e.g. a counter's name); those are
	// the metric names the issue keeps. Exit 1 is a parse error.
	if err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
			t.Fatalf("promtool check metrics: %v\n%s", err, out)
		}
	}
	for line := range strings.SplitSeq(string(out), "\n") {
		if strings.Contains(line, "error") {
			t.Errorf("promtool: %s", line)
		}
	}
}

// TestExpositionGzip: a client that accepts gzip gets the same body
// compressed.
func TestExpositionGzip(t *testing.T) {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	goldenRegistry().Handler(discardLogger()).ServeHTTP(rec, req)
	if rec.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q, want gzip", rec.Header().Get("Content-Encoding"))
	}
	if !strings.HasPrefix(rec.Body.String(), "\x1f\x8b") {
		t.Errorf("body is not gzip")
	}
	for _, v := range []string{"gzip;q=0", "identity", ""} {
		if acceptsGzip(v) {
			t.Errorf("acceptsGzip(%q) = true", v)
		}
	}
	if !acceptsGzip("deflate, gzip;q=0.5") {
		t.Errorf("acceptsGzip(deflate, gzip;q=0.5) = false")
	}
}

// TestWorkerAgeNotNegative: a worker started after the scrape time (clock
// steps) has age 0.
func TestWorkerAgeNotNegative(t *testing.T) {
	b := expo.NewBuilder()
	collectWorker(b, "p", goldenPools()[0].st.Workers[0], goldenNow.Add(-time.Hour))
	var out strings.Builder
	if _, err := b.WriteTo(&out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `poolctl_worker_age_seconds{pid="101",pool="p"} 0`+"\n") {
		t.Errorf("age not clamped:\n%s", out.String())
	}
}
