package metrics

import (
	"github.com/poolctl/poolctl/internal/logfile"
	"github.com/poolctl/poolctl/metrics/expo"
)

var (
	descLogWriteErrors = expo.NewDesc("poolctl_log_write_errors_total",
		"Writes to a log file the host keeps (access, worker and event logs) that failed, e.g. on a full disk.", []string{"log"}, expo.Counter)
	descLogLinesLost = expo.NewDesc("poolctl_log_lines_lost_total",
		"Lines that failed writes did not put in the log file (a partial line is cut back and counted here).", []string{"log"}, expo.Counter)
)

// LogWriteCollector reports the write failures of every log file the
// process opened (logfile.Stats), by path.
type LogWriteCollector struct {
	// Stats returns the counters; nil means logfile.Stats.
	Stats func() []logfile.Stat
}

// Collect reads the counters now.
func (c LogWriteCollector) Collect(b *expo.Builder) {
	stats := c.Stats
	if stats == nil {
		stats = logfile.Stats
	}
	for _, s := range stats() {
		b.Add(descLogWriteErrors, float64(s.WriteErrors), s.Path)
		b.Add(descLogLinesLost, float64(s.LinesLost), s.Path)
	}
}
