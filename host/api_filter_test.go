package host

import (
	"net/http/httptest"
	"testing"

	"github.com/poolctl/poolctl/hostapi"
	"github.com/poolctl/poolctl/runstate"
)

// TestPoolFilterCounts: workers=count answers each pool's worker count
// and no list, so the answer of `list apppool` stays small with many
// pools and workers; without it the list is sent as before.
func TestPoolFilterCounts(t *testing.T) {
	st := hostapi.PoolStatus{Name: "A", State: runstate.PoolStarted, Workers: []hostapi.WorkerStatus{{PID: 1}, {PID: 2}, {PID: 3}}}
	f := readFilter(httptest.NewRequest("GET", "/v1/apppools?sample=false&workers=count", nil), hostapi.QueryName)
	if f.sample || !f.count {
		t.Fatalf("filter %+v, want no sampling and counts", f)
	}
	got := f.shape(st)
	if got.Workers != nil || got.WorkerCount != 3 || got.WorkerTotal() != 3 {
		t.Errorf("counted answer %+v, want WorkerCount 3 and no workers", got)
	}
	f = readFilter(httptest.NewRequest("GET", "/v1/apppools", nil), hostapi.QueryName)
	if got := f.shape(st); len(got.Workers) != 3 || got.WorkerCount != 0 {
		t.Errorf("answer without workers=count %+v, want the list", got)
	}
}
