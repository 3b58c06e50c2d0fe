package metrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/poolctl/poolctl/internal/logfile"
)

// TestLogWriteCollector: every log's write failures and lost lines are
// exported by path.
func TestLogWriteCollector(t *testing.T) {
	const path = "/var/lib/poolctl/logs/sites/a.log"
	c := LogWriteCollector{Stats: func() []logfile.Stat {
		return []logfile.Stat{{Path: path, WriteErrors: 3, LinesLost: 7}}
	}}
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != 1 || m.GetLabel()[0].GetName() != "log" || m.GetLabel()[0].GetValue() != path {
				t.Errorf("%s: labels %v, want log=%s", mf.GetName(), m.GetLabel(), path)
			}
			got[mf.GetName()] = m.GetCounter().GetValue()
		}
	}
	if got["poolctl_log_write_errors_total"] != 3 || got["poolctl_log_lines_lost_total"] != 7 {
		t.Errorf("gathered %v, want 3 write errors and 7 lines lost", got)
	}
}
