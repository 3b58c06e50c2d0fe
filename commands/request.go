package commands

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/poolctl/poolctl/commands/params"
	"github.com/poolctl/poolctl/hostapi"
	"github.com/poolctl/poolctl/store"
)

func requestObject() *object {
	return &object{
		name:    "request",
		aliases: []string{"requests"},
		summary: "A request queued or in flight in the host (needs the host)",
		actions: map[string]action{
			"list": {listRequest, "poolctl list request [ID] [/apppool.name:POOL] [/host:NAME] [/wp.name:PID] [/site.name:SITE] [/elapsed:MS] [/text:ATTR | /json]",
				"List requests in flight; /elapsed:MS shows those running at least MS milliseconds; on a store in etcd, of every live host (HOST column; /host:NAME asks one)"},
		},
	}
}

func requestView() *view {
	r := func(o any) hostapi.RequestStatus { return o.(hostapi.RequestStatus) }
	return newView("REQUEST", []prop{
		{key: "request.name", aliases: []string{"id", "name"}, header: "ID", get: func(o any) any { return fmt.Sprintf("%016x", r(o).ID) }},
		{key: "verb", aliases: []string{"method"}, header: "METHOD", get: func(o any) any { return r(o).Method }},
		{key: "url", header: "URL", get: func(o any) any { return r(o).URL }},
		{key: "client", header: "CLIENT", get: func(o any) any { return r(o).Client }},
		{key: "site.name", get: func(o any) any { return r(o).Site }},
		{key: "apppool.name", header: "APPPOOL", get: func(o any) any { return r(o).Pool }},
		{key: "wp.name", header: "WORKER PID", get: func(o any) any {
			if r(o).WorkerPID == 0 {
				return "queued"
			}
			return strconv.Itoa(r(o).WorkerPID)
		}, json: func(o any) any {
			if r(o).WorkerPID == 0 {
				return nil // queued: no worker yet
			}
			return r(o).WorkerPID
		}},
		{key: "elapsed", aliases: []string{"time"}, header: "ELAPSED MS", field: elapsedField, get: func(o any) any { return uint64(max(r(o).ElapsedMS, 0)) }},
	})
}

// elapsedField lets /elapsed compare as a number.
var elapsedField = &store.Field{Path: "elapsed", Kind: store.KindUint, Help: "milliseconds since the request arrived"}

func listRequest(e *env, a params.Args) error {
	a, only, err := takeHost(e, a, "list request")
	if err != nil {
		return err
	}
	id, hasID, err := identifier(a, "request.name")
	if err != nil {
		return err
	}
	rest, _ := a.Take("request.name")
	rest, mode, err := takeOutput(rest)
	if err != nil {
		return err
	}
	// appcmd's /elapsed:N means "running at least N ms".
	for i, p := range rest.Params {
		if strings.EqualFold(p.Name, "elapsed") && !strings.HasPrefix(p.Value, "$") {
			rest.Params[i].Value = "$>=" + p.Value
		}
	}
	v := requestView()
	if e.onFarm() {
		v = hostView(v)
	}
	filters, err := v.parseFilters(rest.Params)
	if err != nil {
		return err
	}
	if e.onFarm() {
		return listFarmRequests(e, v, only, id, hasID, filters, mode)
	}
	reqs, err := requireHost(e, e.host.Requests)
	if err != nil {
		return err
	}
	var rows []row
	for _, q := range reqs {
		r := row{v: v, id: fmt.Sprintf("%016x", q.ID), obj: q}
		if (!hasID || strings.EqualFold(r.id, id)) && r.match(filters) {
			rows = append(rows, r)
		}
	}
	if hasID && len(rows) == 0 {
		return store.NotFound("request", id)
	}
	sortRows(rows)
	return render(e.stdout, v, rows, mode)
}

// listFarmRequests is list request on a store in etcd: the requests of
// every live host (or of the one /host names), with a HOST column.
func listFarmRequests(e *env, v *view, only, id string, hasID bool, filters []filter, mode outputMode) error {
	answers, err := gatherHosts(e, only, func(ctx context.Context, c *hostapi.Client) ([]hostapi.RequestStatus, error) {
		return c.Requests(ctx)
	})
	if err != nil {
		return err
	}
	var rows []row
	for _, a := range answers {
		for _, q := range a.val {
			r := row{v: v, id: fmt.Sprintf("%016x", q.ID), obj: onHost{host: a.host, obj: q}}
			if (!hasID || strings.EqualFold(r.id, id)) && r.match(filters) {
				rows = append(rows, r)
			}
		}
	}
	if hasID && len(rows) == 0 {
		return store.NotFound("request", id)
	}
	sortRows(rows)
	sortRowsByHost(rows)
	return render(e.stdout, v, rows, mode)
}
