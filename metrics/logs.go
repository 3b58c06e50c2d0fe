package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/poolctl/poolctl/internal/logfile"
)

var (
	descLogWriteErrors = prometheus.NewDesc("poolctl_log_write_errors_total",
		"Writes to a log file the host keeps (access, worker and event logs) that failed, e.g. on a full disk.", []string{"log"}, nil)
	descLogLinesLost = prometheus.NewDesc("poolctl_log_lines_lost_total",
		"Lines that failed writes did not put in the log file (a partial line is cut back and counted here).", []string{"log"}, nil)
)

// LogWriteCollector reports the write failures of every log file the
// process opened (logfile.Stats), by path.
type LogWriteCollector struct {
	// Stats returns the counters; nil means logfile.Stats.
	Stats func() []logfile.Stat
}

// Describe sends the descriptors.
func (c LogWriteCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descLogWriteErrors
	ch <- descLogLinesLost
}

// Collect reads the counters now.
func (c LogWriteCollector) Collect(ch chan<- prometheus.Metric) {
	stats := c.Stats
	if stats == nil {
		stats = logfile.Stats
	}
	for _, s := range stats() {
		ch <- prometheus.MustNewConstMetric(descLogWriteErrors, prometheus.CounterValue, float64(s.WriteErrors), s.Path)
		ch <- prometheus.MustNewConstMetric(descLogLinesLost, prometheus.CounterValue, float64(s.LinesLost), s.Path)
	}
}
