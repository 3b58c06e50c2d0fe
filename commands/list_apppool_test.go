package commands

import (
	"reflect"
	"testing"

	"github.com/poolctl/poolctl/store"
)

// TestApppoolViewMatchesEffective: the apppool view's properties, which
// find what a pool inherits once for every pool, are Config.Effective for
// every pool and property, with values set in the pool, in the defaults,
// or in neither.
func TestApppoolViewMatchesEffective(t *testing.T) {
	str := func(s string) *string { return &s }
	n := func(v uint64) *uint64 { return &v }
	cfg := &store.Config{
		Version: store.FormatVersion,
		ApplicationPoolDefaults: store.PoolSettings{
			StartMode:    str("AlwaysRunning"),
			QueueLength:  n(2000),
			ProcessModel: &store.ProcessModel{Command: &[]string{"/bin/app", "-x"}, PingPath: str("tcp:")},
		},
		ApplicationPools: []store.AppPool{
			{Name: "Plain"},
			{Name: "Own", PoolSettings: store.PoolSettings{
				StartMode:            str("OnDemand"),
				ProcessModel:         &store.ProcessModel{IdentityType: str("LocalService"), Command: &[]string{"/bin/own"}},
				EnvironmentVariables: &[]store.EnvironmentVariable{{Name: "A", Value: "1"}},
			}},
			{Name: "Third"},
		},
	}
	v := apppoolView()
	rows := poolRows(cfg, v, nil, "", false)
	for _, r := range rows {
		obj := r.obj.(*poolObj)
		for i := range v.props {
			p := &v.props[i]
			if p.field == nil {
				continue
			}
			want, _ := cfg.Effective(obj.pool, p.field)
			if got := p.get(obj); !reflect.DeepEqual(got, want) {
				t.Errorf("%s %s = %#v; Effective %#v", obj.pool.Name, p.key, got, want)
			}
		}
	}
	// A list a row hands out is its own: changing it changes no other row.
	cmd := v.props[indexOf(t, v, "processModel.command")]
	first := cmd.get(rows[0].obj).([]string)
	first[0] = "changed"
	if got := cmd.get(rows[2].obj).([]string); got[0] != "/bin/app" {
		t.Errorf("another pool's inherited command changed to %q", got)
	}
}

func indexOf(t *testing.T, v *view, key string) int {
	t.Helper()
	for i := range v.props {
		if v.props[i].key == key {
			return i
		}
	}
	t.Fatalf("no property %s", key)
	return -1
}

// TestPoolRowsOnePool: list apppool NAME builds the row of that pool
// alone (case-insensitively), not one per pool of the store.
func TestPoolRowsOnePool(t *testing.T) {
	cfg := &store.Config{Version: store.FormatVersion}
	for _, name := range []string{"Alpha", "Beta", "Gamma"} {
		cfg.ApplicationPools = append(cfg.ApplicationPools, store.AppPool{Name: name})
	}
	v := apppoolView()
	if rows := poolRows(cfg, v, nil, "beta", true); len(rows) != 1 || rows[0].id != "Beta" {
		t.Fatalf("rows for beta: %+v; want Beta alone", rows)
	}
	if rows := poolRows(cfg, v, nil, "Delta", true); len(rows) != 0 {
		t.Fatalf("rows for a missing pool: %+v; want none", rows)
	}
	if rows := poolRows(cfg, v, nil, "", false); len(rows) != 3 {
		t.Fatalf("%d rows for every pool; want 3", len(rows))
	}
}
