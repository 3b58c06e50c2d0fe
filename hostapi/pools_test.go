package hostapi

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/poolctl/poolctl/runstate"
)

// TestPoolCountsAsksForCountsAndCountsEither: PoolCounts asks for the
// worker count alone, unsampled, and WorkerTotal counts the answer of a
// host that sends the count as that of a host that predates the query
// and sends the list.
func TestPoolCountsAsksForCountsAndCountsEither(t *testing.T) {
	var query string
	oldHost := false
	sock := testServer(t, ServerOptions{HostUID: 0, OperatorGroup: -1}, -1, func(s *Server) {
		s.Handle("GET /v1/apppools", Read, func(_ context.Context, r *http.Request) (any, error) {
			query = r.URL.RawQuery
			if oldHost {
				return []PoolStatus{{Name: "A", State: runstate.PoolStarted, Workers: []WorkerStatus{{PID: 1}, {PID: 2}}}}, nil
			}
			return []PoolStatus{{Name: "A", State: runstate.PoolStarted, WorkerCount: 2}}, nil
		})
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := NewClient(sock)
	for _, old := range []bool{false, true} {
		oldHost = old
		pools, err := c.PoolCounts(ctx, "A", 1)
		if err != nil {
			t.Fatal(err)
		}
		if query != "name=A&sample=false&workers=count" {
			t.Errorf("query %q, want the pool, no sampling and the count alone", query)
		}
		if len(pools) != 1 || pools[0].WorkerTotal() != 2 {
			t.Errorf("old host %v: %+v, want A with 2 workers", old, pools)
		}
	}
	if _, err := c.PoolCounts(ctx, "", 0); err != nil || query != "sample=false&workers=count" {
		t.Errorf("every pool: query %q (%v)", query, err)
	}
}
