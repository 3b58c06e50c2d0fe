package host

import (
	"encoding/json"
	"net/http/httptest"
	"reflect"
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

// TestPoolFilterCountsCompact: the workers=count answer leaves out the
// list's key and every zero value, so it is about half the size at many
// pools, and reads back into PoolStatus as the full form would.
func TestPoolFilterCountsCompact(t *testing.T) {
	sts := []hostapi.PoolStatus{
		{Name: "A", State: runstate.PoolStarted, Workers: []hostapi.WorkerStatus{{PID: 1}, {PID: 2}}},
		{Name: "B", State: runstate.PoolStopped, Reason: "stopped by an administrator", Disabled: true, Queue: 2, Served: 7},
	}
	f := readFilter(httptest.NewRequest("GET", "/v1/apppools?sample=false&workers=count", nil), hostapi.QueryName)
	data, err := json.Marshal(f.answer(sts))
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"name":"A","state":"Started","workerCount":2},` +
		`{"name":"B","state":"Stopped","reason":"stopped by an administrator","disabled":true,"queue":2,"served":7,"workerCount":0}]`
	if string(data) != want {
		t.Fatalf("answer %s\nwant   %s", data, want)
	}
	var back []hostapi.PoolStatus
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	for i := range sts {
		if full := f.shape(sts[i]); !reflect.DeepEqual(back[i], full) {
			t.Errorf("read back %+v, want %+v", back[i], full)
		}
	}
	// Without workers=count the answer is the list of PoolStatus, as before.
	f = readFilter(httptest.NewRequest("GET", "/v1/apppools", nil), hostapi.QueryName)
	if got, ok := f.answer(sts).([]hostapi.PoolStatus); !ok || len(got) != 2 || len(got[0].Workers) != 2 {
		t.Errorf("answer without workers=count %+v, want the statuses", f.answer(sts))
	}
}
