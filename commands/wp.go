package commands

import (
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
			"list": {listWP, "poolctl list wp [PID] [/apppool.name:POOL] [/property:value ...] [/text:ATTR | /text:* | /json]",
				"List worker processes: pid, pool, state, identity, start time, requests served, memory"},
		},
	}
}

func wpView() *view {
	w := func(o any) hostapi.WorkerStatus { return o.(hostapi.WorkerStatus) }
	return newView("WP", []prop{
		{key: "wp.name", aliases: []string{"pid", "name"}, header: "PID", get: func(o any) any { return strconv.Itoa(w(o).PID) }},
		{key: "apppool.name", aliases: []string{"applicationPool", "pool"}, header: "APPPOOL", get: func(o any) any { return w(o).Pool }},
		{key: "state", header: "STATE", get: func(o any) any { return w(o).State }},
		{key: "id", header: "WORKER", get: func(o any) any { return strconv.Itoa(w(o).ID) }},
		{key: "identity", get: func(o any) any { return w(o).Identity }},
		{key: "started", header: "STARTED", get: func(o any) any { return w(o).Started.Format("2006-01-02T15:04:05Z") }},
		{key: "requests", header: "REQUESTS", get: func(o any) any { return strconv.FormatUint(w(o).Requests, 10) }},
		{key: "inFlight", header: "IN FLIGHT", get: func(o any) any { return strconv.Itoa(w(o).InFlight) }},
		{key: "privateMemory", header: "PRIVATE KB", get: func(o any) any { return strconv.FormatUint(w(o).PrivateKB, 10) }},
		{key: "virtualMemory", get: func(o any) any { return strconv.FormatUint(w(o).VirtualKB, 10) }},
		{key: "address", get: func(o any) any { return w(o).Addr }},
	})
}

func listWP(e *env, a params.Args) error {
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
	filters, err := v.parseFilters(rest.Params)
	if err != nil {
		return err
	}
	ws, err := requireHost(e, e.host.Workers)
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
