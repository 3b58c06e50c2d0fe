package commands

import (
	"context"
	"sort"
	"strconv"

	"github.com/poolctl/poolctl/commands/params"
	"github.com/poolctl/poolctl/hostapi"
	"github.com/poolctl/poolctl/store"
)

func wpObject() *object {
	return &object{
		name:    "wp",
		aliases: []string{"wps"},
		summary: "A worker process of a pool (needs the host)",
		actions: map[string]action{
			"list": {listWP, "poolctl list wp [PID] [/apppool.name:POOL] [/host:NAME] [/property:value ...] [/text:ATTR | /text:* | /json]",
				"List worker processes: pid, pool, state, identity, start time, requests served, memory; on a store in etcd, of every live host of the farm (HOST column; /host:NAME asks one)"},
		},
	}
}

func wpView() *view {
	w := func(o any) hostapi.WorkerStatus { return o.(hostapi.WorkerStatus) }
	return newView("WP", []prop{
		{key: "wp.name", aliases: []string{"pid", "name"}, header: "PID", field: numberField("wp.name", "the worker's process id"), get: func(o any) any { return uint64(max(w(o).PID, 0)) }},
		{key: "apppool.name", aliases: []string{"applicationPool", "pool"}, header: "APPPOOL", get: func(o any) any { return w(o).Pool }},
		{key: "state", header: "STATE", get: func(o any) any { return w(o).State }},
		{key: "id", header: "WORKER", field: numberField("id", "the worker's number in its pool (POOLCTL_WORKER_ID)"), get: func(o any) any { return uint64(max(w(o).ID, 0)) }},
		{key: "identity", get: func(o any) any { return w(o).Identity }},
		{key: "started", header: "STARTED", get: func(o any) any { return w(o).Started.Format("2006-01-02T15:04:05Z") }},
		{key: "requests", header: "REQUESTS", field: numberField("requests", "requests served"), get: func(o any) any { return w(o).Requests }},
		{key: "inFlight", header: "IN FLIGHT", field: numberField("inFlight", "requests in flight"), get: func(o any) any { return uint64(max(w(o).InFlight, 0)) }},
		{key: "privateMemory", header: "PRIVATE KB", field: numberField("privateMemory", "private memory in KB"), get: func(o any) any { return w(o).PrivateKB }},
		{key: "virtualMemory", field: numberField("virtualMemory", "virtual memory in KB"), get: func(o any) any { return w(o).VirtualKB }},
		{key: "address", get: func(o any) any { return w(o).Addr }},
	})
}

// numberField makes a runtime property a number: /json writes it as one,
// and filters compare it by value (/requests:$>100).
func numberField(path, help string) *store.Field {
	return &store.Field{Path: path, Kind: store.KindUint, Help: help}
}

func listWP(e *env, a params.Args) error {
	a, only, err := takeHost(e, a, "list wp")
	if err != nil {
		return err
	}
	id, hasID, err := identifier(a, "wp.name")
	if err != nil {
		return err
	}
	rest, _ := a.Take("wp.name")
	rest, mode, err := takeOutput(rest)
	if err != nil {
		return err
	}
	v := wpView()
	if e.onFarm() {
		v = hostView(v)
	}
	filters, err := v.parseFilters(rest.Params)
	if err != nil {
		return err
	}
	if e.onFarm() {
		return listFarmWP(e, v, only, id, hasID, filters, mode)
	}
	ws, err := requireHost(e, hostWorkers(e.host, poolOfFilters(filters))) // hostfilter.go: one pool costs one pool
	if err != nil {
		return err
	}
	var rows []row
	for _, w := range ws {
		r := row{v: v, id: strconv.Itoa(w.PID), obj: w}
		if (!hasID || r.id == id) && r.match(filters) {
			rows = append(rows, r)
		}
	}
	if hasID && len(rows) == 0 {
		return store.NotFound("wp", id)
	}
	sortRowsNumeric(rows)
	return render(e.stdout, v, rows, mode)
}

// sortRowsNumeric orders rows by numeric identifier (pids, request ids).
func sortRowsNumeric(rows []row) {
	sort.SliceStable(rows, func(i, j int) bool {
		x, _ := strconv.ParseUint(rows[i].id, 10, 64)
		y, _ := strconv.ParseUint(rows[j].id, 10, 64)
		return x < y
	})
}

// listFarmWP is list wp on a store in etcd: the workers of every live host
// (or of the one /host names), with a HOST column.
func listFarmWP(e *env, v *view, only, id string, hasID bool, filters []filter, mode outputMode) error {
	answers, err := gatherHosts(e, only, func(ctx context.Context, c *hostapi.Client) ([]hostapi.WorkerStatus, error) {
		return c.Workers(ctx)
	})
	if err != nil {
		return err
	}
	var rows []row
	for _, a := range answers {
		for _, w := range a.val {
			r := row{v: v, id: strconv.Itoa(w.PID), obj: onHost{host: a.host, obj: w}}
			if (!hasID || r.id == id) && r.match(filters) {
				rows = append(rows, r)
			}
		}
	}
	if hasID && len(rows) == 0 {
		return store.NotFound("wp", id)
	}
	sortRowsNumeric(rows)
	sortRowsByHost(rows)
	return render(e.stdout, v, rows, mode)
}

// sortRowsByHost orders farm rows by host, keeping each host's order.
func sortRowsByHost(rows []row) {
	sort.SliceStable(rows, func(i, j int) bool {
		return rows[i].obj.(onHost).host < rows[j].obj.(onHost).host
	})
}
