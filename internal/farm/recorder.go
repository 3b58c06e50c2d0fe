package farm

import (
	"fmt"
	"net/http"

	"github.com/poolctl/poolctl/hostapi"
)

// recorder is the ResponseWriter of a command: it keeps at most limit
// bytes of the body and notes that there were more.
type recorder struct {
	header   http.Header
	status   int
	body     []byte
	limit    int
	overflow bool
}

func newRecorder(limit int) *recorder { return &recorder{header: http.Header{}, limit: limit} }

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	if r.overflow || len(r.body)+len(p) > r.limit {
		r.overflow = true
		return 0, fmt.Errorf("the answer is larger than %d bytes, more than a result through etcd may carry", r.limit)
	}
	r.body = append(r.body, p...)
	return len(p), nil
}

// Flush lets streaming handlers flush; the body is sent whole.
func (r *recorder) Flush() {}

func (r *recorder) result() *Result {
	if r.overflow {
		return errorResult(http.StatusInsufficientStorage, "too_large", fmt.Sprintf("the answer is larger than %d bytes (MaxResultBody), more than a result through etcd may carry; narrow the request", r.limit))
	}
	status := r.status
	if status == 0 {
		status = http.StatusOK
	}
	res := &Result{Status: status, Body: r.body, Header: map[string]string{}}
	for _, k := range []string{"Content-Type", hostapi.VersionHeader} {
		if v := r.header.Get(k); v != "" {
			res.Header[k] = v
		}
	}
	return res
}
