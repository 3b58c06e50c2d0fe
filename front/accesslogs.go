package front

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/poolctl/poolctl/accesslog"
	"github.com/poolctl/poolctl/internal/buildinfo"
	"github.com/poolctl/poolctl/internal/logfile"
	"github.com/poolctl/poolctl/metrics"
	"github.com/poolctl/poolctl/store"
)

// siteLogs are the sites' open access logs. A log is kept across
// reconciles while its site's log settings stay the same.
type siteLogs struct {
	mu   sync.Mutex
	open map[string]*siteLog // by lower-case site name
}

type siteLog struct {
	site string
	conf logConf
	log  *accesslog.Log
}

// logConf is what a site's access log is opened with.
type logConf struct {
	path   string
	format accesslog.Format
	rotate logfile.Options
}

// same reports whether two configurations open the same log the same way.
func (c logConf) same(o logConf) bool {
	return c.path == o.path && c.format == o.format && c.rotate.MaxSize == o.rotate.MaxSize &&
		c.rotate.MaxAge == o.rotate.MaxAge && c.rotate.Keep == o.rotate.Keep
}

// periods maps logFile.period to the age at which a new file is started.
var periods = map[string]time.Duration{"MaxSize": 0, "Hourly": time.Hour, "Daily": 24 * time.Hour,
	"Weekly": 7 * 24 * time.Hour, "Monthly": 30 * 24 * time.Hour}

// siteLogSetting returns a site's effective logFile setting.
func siteLogSetting(s *store.Site, path string) any {
	f := store.SiteSchema.Field("logFile." + path)
	if v, ok := f.Get(s); ok {
		return v
	}
	return f.DefaultValue()
}

// logConfOf returns the access log settings of a site, and false when its
// log is off. A site without logFile.directory logs under dir; with neither, there is no log.
func logConfOf(s *store.Site, dir string) (logConf, bool) {
	if !siteLogSetting(s, "enabled").(bool) {
		return logConf{}, false
	}
	format := accesslog.Format(siteLogSetting(s, "logFormat").(string))
	if d := siteLogSetting(s, "directory").(string); d != "" {
		dir = d
	}
	if dir == "" {
		return logConf{}, false // no state directory (a front in a test): no log
	}
	name := "access.log"
	if format == accesslog.JSON {
		name = "access.jsonl"
	}
	return logConf{
		path:   filepath.Join(dir, "W3SVC"+strconv.FormatUint(s.ID, 10), name),
		format: format,
		rotate: logfile.Options{
			MaxSize: int64(siteLogSetting(s, "truncateSize").(uint64)),
			MaxAge:  periods[siteLogSetting(s, "period").(string)],
			Keep:    int(siteLogSetting(s, "keep").(uint64)),
		},
	}, true
}

// applyLogs opens the access log of every site in t that has one, reusing
// logs whose settings did not change, and attaches each to its site's
// routes. It returns the logs that are no longer used, for the caller to
// close once the new routes are in place, and the sites whose log could
// not be opened (they serve without one).
func (f *Front) applyLogs(cfg *store.Config, t *table) (stale []*accesslog.Log, err error) {
	routes := map[string][]*siteRoute{}
	for _, pr := range t.ports {
		for i := range pr.bindings {
			sr := pr.bindings[i].site
			key := strings.ToLower(sr.name)
			routes[key] = append(routes[key], sr)
		}
	}
	f.logs.mu.Lock()
	defer f.logs.mu.Unlock()
	if f.logs.open == nil {
		f.logs.open = map[string]*siteLog{}
	}
	var errs []error
	keep := map[string]bool{}
	for i := range cfg.Sites {
		s := &cfg.Sites[i]
		key := strings.ToLower(s.Name)
		srs := routes[key]
		if len(srs) == 0 {
			continue // not started
		}
		conf, on := logConfOf(s, f.LogDir)
		if !on {
			continue
		}
		sl := f.logs.open[key]
		if sl == nil || !sl.conf.same(conf) {
			l, err := accesslog.Open(conf.path, accesslog.Options{Format: conf.format, Rotate: conf.rotate,
				Software: "poolctl " + buildinfo.Version()})
			if err != nil {
				errs = append(errs, fmt.Errorf("site %q: access log: %w", s.Name, err))
				continue
			}
			if sl != nil {
				stale = append(stale, sl.log)
			}
			sl = &siteLog{site: s.Name, conf: conf, log: l}
			f.logs.open[key] = sl
		}
		keep[key] = true
		for _, sr := range srs {
			sr.log = sl.log
		}
	}
	for key, sl := range f.logs.open {
		if !keep[key] {
			stale = append(stale, sl.log)
			delete(f.logs.open, key)
		}
	}
	return stale, errors.Join(errs...)
}

// closeLogs flushes and closes logs, reporting failures.
func (f *Front) closeLogs(logs []*accesslog.Log) {
	for _, l := range logs {
		if err := l.Close(); err != nil {
			f.logger.Warn("close access log", "path", l.Path(), "err", err)
		}
	}
}

// ReopenLogs reopens every access log at its path, for log rotation by
// an outside tool (SIGUSR1).
func (f *Front) ReopenLogs() error {
	f.logs.mu.Lock()
	defer f.logs.mu.Unlock()
	var errs []error
	for _, sl := range f.logs.open {
		if err := sl.log.Reopen(); err != nil {
			errs = append(errs, fmt.Errorf("site %q: %w", sl.site, err))
		}
	}
	return errors.Join(errs...)
}

// AccessLogStats returns each open access log's counters, by site name.
func (f *Front) AccessLogStats() map[string]metrics.LogStats {
	f.logs.mu.Lock()
	defer f.logs.mu.Unlock()
	out := make(map[string]metrics.LogStats, len(f.logs.open))
	for _, sl := range f.logs.open {
		out[sl.site] = metrics.LogStats{Written: sl.log.Written(), Dropped: sl.log.Dropped()}
	}
	return out
}

// Unrouted returns how many requests no site or application matched.
func (f *Front) Unrouted() uint64 { return f.unrouted.Load() }
