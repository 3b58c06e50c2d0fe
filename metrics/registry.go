package metrics

import (
	"bytes"
	"compress/gzip"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/poolctl/poolctl/internal/buildinfo"
	"github.com/poolctl/poolctl/metrics/expo"
)

// maxScrapesInFlight bounds the scrapes served at once; more are answered
// 503 (as client_golang's handler did with MaxRequestsInFlight 4).
const maxScrapesInFlight = 4

// contentType is the text exposition format's media type.
const contentType = "text/plain; version=0.0.4; charset=utf-8; escaping=underscores"

// Registry is the set of collectors one endpoint serves.
type Registry struct {
	mu         sync.Mutex
	collectors []Collector
	inFlight   chan struct{}
	once       sync.Once
}

// MustRegister adds collectors.
func (r *Registry) MustRegister(cs ...Collector) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.collectors = append(r.collectors, cs...)
}

// Gather runs every collector once.
func (r *Registry) Gather() *expo.Builder {
	r.mu.Lock()
	cs := append([]Collector(nil), r.collectors...)
	r.mu.Unlock()
	b := expo.NewBuilder()
	for _, c := range cs {
		c.Collect(b)
	}
	return b
}

// Handler serves the registry in the text format, gzip-compressed when the
// client accepts it.
func (r *Registry) Handler(logger *slog.Logger) http.Handler {
	r.once.Do(func() { r.inFlight = make(chan struct{}, maxScrapesInFlight) })
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		select {
		case r.inFlight <- struct{}{}:
			defer func() { <-r.inFlight }()
		default:
			http.Error(w, "too many scrapes in flight", http.StatusServiceUnavailable)
			return
		}
		var body bytes.Buffer
		if _, err := r.Gather().WriteTo(&body); err != nil {
			logger.Warn("metrics: encode", "err", err)
			http.Error(w, "encoding the metrics failed", http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", contentType)
		h.Set("Vary", "Accept-Encoding")
		if acceptsGzip(req.Header.Get("Accept-Encoding")) {
			h.Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			_, err := body.WriteTo(zw)
			if cerr := zw.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				logger.Debug("metrics: write", "err", err)
			}
			return
		}
		h.Set("Content-Length", strconv.Itoa(body.Len()))
		if _, err := body.WriteTo(w); err != nil {
			logger.Debug("metrics: write", "err", err)
		}
	})
}

// acceptsGzip reports whether an Accept-Encoding value lists gzip with a
// non-zero quality.
func acceptsGzip(v string) bool {
	for part := range strings.SplitSeq(v, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		q, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q=")
		if !ok {
			return true
		}
		f, err := strconv.ParseFloat(q, 64)
		return err == nil && f > 0
	}
	return false
}

// runtimeCollector adds the go_* and process_* families.
type runtimeCollector struct{}

// Collect reads the runtime and /proc/self now.
func (runtimeCollector) Collect(b *expo.Builder) {
	expo.CollectGo(b)
	expo.CollectProcess(b)
}

// buildInfoCollector adds poolctl_build_info.
type buildInfoCollector struct{}

// Collect adds the constant 1 with the build's labels.
func (buildInfoCollector) Collect(b *expo.Builder) {
	info := buildinfo.Read()
	b.Add(descBuildInfo, 1, buildinfo.Version(), info.Revision, info.GoVersion)
}
