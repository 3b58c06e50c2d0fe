package commands

import (
	"context"

	"github.com/poolctl/poolctl/hostapi"
)

// poolOfFilters returns the pool an exact /apppool.name:POOL filter names,
// or "" when there is none (or a wildcard or comparison). The host then
// answers about that pool alone; the filters still run on its answer, so
// the host's case-insensitive match only narrows what is sent.
func poolOfFilters(filters []filter) string {
	for _, f := range filters {
		if f.prop != nil && f.prop.key == "apppool.name" && f.op == "=" {
			return f.value
		}
	}
	return ""
}

// hostWorkers returns a call for the workers of pool ("" for all), with
// their memory and CPU time (list wp shows them).
func hostWorkers(c *hostapi.Client, pool string) func(context.Context) ([]hostapi.WorkerStatus, error) {
	return func(ctx context.Context) ([]hostapi.WorkerStatus, error) { return c.WorkersOf(ctx, pool, true) }
}

// poolFilterID is the pool list apppool NAME asks the host about ("" for
// every pool).
func poolFilterID(id string, hasID bool) string {
	if !hasID {
		return ""
	}
	return id
}
