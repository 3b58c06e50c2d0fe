package metrics

import (
	"strings"
	"testing"

	"github.com/poolctl/poolctl/internal/logfile"
	"github.com/poolctl/poolctl/metrics/expo"
)

// TestLogWriteCollector: every log's write failures and lost lines are
// exported by path.
func TestLogWriteCollector(t *testing.T) {
	const path = "/var/lib/poolctl/logs/sites/a.log"
	c := LogWriteCollector{Stats: func() []logfile.Stat {
		return []logfile.Stat{{Path: path, WriteErrors: 3, LinesLost: 7}}
	}}
	b := expo.NewBuilder()
	c.Collect(b)
	var out strings.Builder
	if _, err := b.WriteTo(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`poolctl_log_write_errors_total{log="` + path + `"} 3`,
		`poolctl_log_lines_lost_total{log="` + path + `"} 7`,
	} {
		if !strings.Contains(out.String(), want+"\n") {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
