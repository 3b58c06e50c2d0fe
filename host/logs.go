package host

// reopenLogs reopens every log file the host writes, for after logrotate
// (or an operator) renamed them: SIGUSR1 calls it. Later lines go to new
// files at the usual paths; what was written before stays in the renamed
// files. A log that cannot be reopened is reported as a warning and
// retried by its next write. Every log the host keeps open belongs in the
// list below.
func (h *Host) reopenLogs() {
	logs := []struct {
		name   string
		reopen func() error
	}{
		{"event log", h.events.Reopen},
		{"worker logs", h.manager.ReopenLogs},
		{"access logs", h.front.ReopenLogs},
	}
	failed := 0
	for _, l := range logs {
		if err := l.reopen(); err != nil {
			failed++
			h.logger.Warn("SIGUSR1: reopen "+l.name, "err", err)
		}
	}
	h.logger.Info("SIGUSR1: reopened the log files", "reopened", len(logs)-failed, "failed", failed)
}
