package dist

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// metricName matches a poolctl metric name in an expression or in Go code.
var metricName = regexp.MustCompile(`poolctl_[a-z_]+[a-z]`)

// exported returns the names of the metrics the metrics package declares
// (prometheus.NewDesc("poolctl_..."), read from its source), with the
// series names a histogram adds.
func exported(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "metrics", "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("metrics sources: %v (%d files)", err, len(files))
	}
	decl := regexp.MustCompile(`NewDesc\(\s*"(poolctl_[a-z_]+)"`)
	names := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range decl.FindAllStringSubmatch(string(src), -1) {
			names[m[1]] = true
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				names[m[1]+s] = true
			}
		}
	}
	if len(names) < 10 {
		t.Fatalf("found only %d metrics in ../metrics: the declaration pattern no longer matches", len(names))
	}
	return names
}

// checkNames fails for every poolctl_ name in text that is not exported.
func checkNames(t *testing.T, what, text string, names map[string]bool) []string {
	t.Helper()
	var used []string
	for _, n := range metricName.FindAllString(text, -1) {
		if !names[n] {
			t.Errorf("%s names %s, which package metrics does not export", what, n)
		}
		if !slices.Contains(used, n) {
			used = append(used, n)
		}
	}
	return used
}

// TestDashboard: the Grafana dashboard parses, every panel has a query,
// every metric it queries exists, and it has the pool variable.
func TestDashboard(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("grafana", "poolctl.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Title      string `json:"title"`
		UID        string `json:"uid"`
		Templating struct {
			List []struct {
				Name string `json:"name"`
			} `json:"list"`
		} `json:"templating"`
		Panels []struct {
			Title   string `json:"title"`
			Type    string `json:"type"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("grafana/poolctl.json: %v", err)
	}
	if d.Title == "" || d.UID == "" {
		t.Error("the dashboard has no title or uid")
	}
	var vars []string
	for _, v := range d.Templating.List {
		vars = append(vars, v.Name)
	}
	for _, want := range []string{"datasource", "pool"} {
		if !slices.Contains(vars, want) {
			t.Errorf("the dashboard has no $%s variable (has %v)", want, vars)
		}
	}
	names := exported(t)
	var used, exprs []string
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			if strings.Count(tg.Expr, "(") != strings.Count(tg.Expr, ")") || strings.Count(tg.Expr, "{") != strings.Count(tg.Expr, "}") {
				t.Errorf("panel %q: unbalanced query %s", p.Title, tg.Expr)
			}
			used = append(used, checkNames(t, "panel "+p.Title, tg.Expr, names)...)
			exprs = append(exprs, tg.Expr)
		}
	}
	checkPromQL(t, exprs)
	// The panels the dashboard promises.
	for _, want := range []string{"poolctl_requests_total", "poolctl_request_duration_seconds_bucket", "poolctl_pool_queue_depth",
		"poolctl_pool_workers", "poolctl_worker_recycles_total", "poolctl_worker_private_memory_bytes", "poolctl_worker_cpu_seconds_total"} {
		if !slices.Contains(used, want) {
			t.Errorf("no panel shows %s", want)
		}
	}
}

// TestAlertRules: the rules name only exported metrics, cover the alerts
// operators need, and promtool (when installed) accepts them.
func TestAlertRules(t *testing.T) {
	path := filepath.Join("prometheus", "poolctl-rules.yml")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	var exprs strings.Builder
	for line := range strings.SplitSeq(text, "\n") {
		if e, ok := strings.CutPrefix(strings.TrimSpace(line), "expr:"); ok {
			exprs.WriteString(e + "\n")
		}
	}
	checkNames(t, path, exprs.String(), exported(t))
	for _, alert := range []string{"PoolctlHostDown", "PoolctlPoolDisabledByRapidFail", "PoolctlQueueFull", "PoolctlFrequentRecycles"} {
		if !strings.Contains(text, "alert: "+alert+"\n") {
			t.Errorf("%s has no alert %s", path, alert)
		}
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not installed (Debian: apt-get install prometheus); the rules were checked for metric names only")
	}
	out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules %s: %v\n%s", path, err, out)
	}
}

// checkPromQL has promtool parse the dashboard's queries, with Grafana's
// variables replaced, as recording rules: promtool has no other offline
// PromQL check. Without promtool it does nothing.
func checkPromQL(t *testing.T, exprs []string) {
	t.Helper()
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Log("promtool is not installed: the dashboard's queries were not parsed")
		return
	}
	vars := strings.NewReplacer("$__rate_interval", "5m", "$job", ".*", "$pool", ".*")
	var b strings.Builder
	b.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	for i, e := range exprs {
		q, err := json.Marshal(vars.Replace(e)) // a JSON string is a YAML string
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "      - record: dashboard:query%d\n        expr: %s\n", i, q)
	}
	path := filepath.Join(t.TempDir(), "dashboard-rules.yml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput(); err != nil {
		t.Errorf("promtool does not parse the dashboard's queries: %v\n%s", err, out)
	}
}
