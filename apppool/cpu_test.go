package apppool

import (
	"testing"

	"github.com/poolctl/poolctl/internal/cgroup"
)

// TestCPUControls: Throttle caps at the limit; ThrottleUnderLoad weighs the
// limit against the default weight every unlimited pool has, never above
// it, so a limited pool never outweighs an unlimited one.
func TestCPUControls(t *testing.T) {
	for _, c := range []struct {
		v             cgroup.Version
		limit         int64
		action        string
		quota, weight int64
	}{
		{cgroup.V2, 0, "NoAction", 0, 100},
		{cgroup.V1, 0, "NoAction", 0, 1024},
		{cgroup.V2, 20000, "Throttle", 20000, 100},
		{cgroup.V2, 50000, "ThrottleUnderLoad", 0, 50},
		{cgroup.V1, 50000, "ThrottleUnderLoad", 0, 512},
		{cgroup.V2, 100000, "ThrottleUnderLoad", 0, 100},
		{cgroup.V2, 250000, "ThrottleUnderLoad", 0, 100}, // 2.5 CPUs: still not above an unlimited pool
		{cgroup.V1, 250000, "ThrottleUnderLoad", 0, 1024},
		{cgroup.V2, 100, "ThrottleUnderLoad", 0, 1},
		{cgroup.V2, 50000, "KillW3wp", 0, 100},
	} {
		q, w := cpuControls(c.v, c.limit, c.action)
		if q != c.quota || w != c.weight {
			t.Errorf("%s limit %d %s: quota %d weight %d, want %d %d", c.v, c.limit, c.action, q, w, c.quota, c.weight)
		}
	}
}
