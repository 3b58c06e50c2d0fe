package commands

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/poolctl/poolctl/commands/params"
	"github.com/poolctl/poolctl/internal/farm"
	"github.com/poolctl/poolctl/store"
)

func hostObject() *object {
	return &object{
		name:    "host",
		aliases: []string{"hosts"},
		summary: "A member of the web farm that follows a store in etcd (needs --config etcd://…)",
		actions: map[string]action{
			"list": {listHost, "poolctl list host [NAME] [/state:Ready|Stale|Gone] [/property:value ...] [/text:ATTR | /text:* | /json]",
				"List the farm's hosts: address, version, applied store version, lag, state (Ready, Stale, Gone), pools, workers"},
			"delete": {deleteHost, "poolctl delete host NAME",
				"Forget a Gone host: remove the record a host that left the farm for good leaves behind"},
		},
	}
}

// needsFarm is the error of a farm command on a store that is not in etcd.
func needsFarm(verb string) error {
	return usagef("%s host needs a store in etcd (--config etcd://…); a single host is `poolctl list apppool`", verb)
}

func hostListView() *view {
	h := func(o any) farm.HostView { return o.(farm.HostView) }
	at := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02T15:04:05Z")
	}
	return newView("HOST", []prop{
		{key: "name", aliases: []string{"host.name", "host"}, header: "HOST", get: func(o any) any { return h(o).Name }},
		{key: "address", aliases: []string{"addresses"}, header: "ADDRESS", get: func(o any) any { return h(o).Addresses },
			json: func(o any) any { return append([]string{}, h(o).Addresses...) }},
		{key: "version", header: "VERSION", get: func(o any) any { return h(o).Version }},
		{key: "storeVersion", aliases: []string{"store"}, header: "STORE", get: func(o any) any { return h(o).StoreVersion }},
		{key: "lag", header: "LAG", get: func(o any) any { return lagText(h(o).Lag) },
			json: func(o any) any { return h(o).Lag.Milliseconds() }},
		{key: "state", header: "STATE", get: func(o any) any { return h(o).State.String() }},
		{key: "pools", header: "POOLS", get: func(o any) any { return fmt.Sprintf("%d/%d", h(o).PoolsStarted, h(o).Pools) },
			json: func(o any) any { return h(o).Pools }},
		{key: "poolsStarted", field: numberField("poolsStarted", "pools started"), get: func(o any) any { return uint64(max(h(o).PoolsStarted, 0)) }},
		{key: "workers", header: "WORKERS", field: numberField("workers", "worker processes running"), get: func(o any) any { return uint64(max(h(o).Workers, 0)) }},
		{key: "updated", header: "UPDATED", get: func(o any) any { return at(h(o).Updated) },
			json: func(o any) any { return atJSON(h(o).Updated) }},
		{key: "started", get: func(o any) any { return at(h(o).Started) },
			json: func(o any) any { return atJSON(h(o).Started) }},
		{key: "connected", get: func(o any) any { return strconv.FormatBool(h(o).Connected) },
			json: func(o any) any { return h(o).Connected }},
		{key: "offline", get: func(o any) any { return strconv.FormatBool(h(o).Offline) },
			json: func(o any) any { return h(o).Offline }},
		{key: "storeRevision", field: numberField("storeRevision", "etcd revision of the store the host applied"), get: func(o any) any { return uint64(max(h(o).StoreRevision, 0)) }},
		{key: "generation", field: numberField("generation", "the host's apply generation"), get: func(o any) any { return h(o).Generation }},
		{key: "instance", get: func(o any) any { return h(o).Instance }},
		{key: "pendingSince", get: func(o any) any { return at(h(o).PendingSince) },
			json: func(o any) any { return atJSON(h(o).PendingSince) }},
	})
}

// lagText prints a lag for the table: "-" when none, else seconds.
func lagText(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return d.Round(100 * time.Millisecond).String()
}

// atJSON is a time for /json: null when unknown.
func atJSON(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

// listHost lists the farm's members, each judged against the store's
// current version (farm.Judge).
func listHost(e *env, a params.Args) error {
	if !e.onFarm() {
		return needsFarm("list")
	}
	v := hostListView()
	l, err := parseList(a, "name", v)
	if err != nil {
		return err
	}
	f, err := e.farm()
	if err != nil {
		return err
	}
	ctx, cancel := e.withTimeout()
	defer cancel()
	data, err := e.store.Read(ctx)
	if err != nil {
		return err
	}
	current := store.VersionOf(data)
	recs, alive, err := f.hosts(ctx)
	if err != nil {
		return err
	}
	now := e.now()
	seen := map[string]bool{}
	var rows []row
	add := func(hv farm.HostView) {
		r := row{v: v, id: hv.Name, obj: hv}
		if (!l.hasID || strings.EqualFold(r.id, l.id)) && r.match(l.filters) {
			rows = append(rows, r)
		}
	}
	for _, rec := range recs {
		seen[rec.Name] = true
		add(farm.Judge(rec, alive[rec.Name], current, now))
	}
	for n := range alive {
		if !seen[n] { // alive, not reported yet: starting, nothing applied
			add(farm.HostView{HostRecord: farm.HostRecord{Name: n}, State: farm.HostStale})
		}
	}
	if l.hasID && len(rows) == 0 && !seen[l.id] && !alive[l.id] {
		return store.NotFound("host", l.id)
	}
	sortRows(rows)
	return render(e.stdout, v, rows, l.mode)
}

// deleteHost forgets a Gone host's record.
func deleteHost(e *env, a params.Args) error {
	if !e.onFarm() {
		return needsFarm("delete")
	}
	name, err := idOnly(a, "delete", "host", "name")
	if err != nil {
		return err
	}
	f, err := e.farm()
	if err != nil {
		return err
	}
	ctx, cancel := e.withTimeout()
	defer cancel()
	if err := f.etcdErr(farm.Forget(ctx, f.cli, f.b.Key, name)); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "HOST object %q deleted\n", name)
	return nil
}
