package commands

import (
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
			"list": {listRequest, "poolctl list request [ID] [/apppool.name:POOL] [/wp.name:PID] [/site.name:SITE] [/elapsed:MS] [/text:ATTR | /json]",
				"List requests in flight; /elapsed:MS shows those running at least MS milliseconds"},
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
	filters, err := v.parseFilters(rest.Params)
	if err != nil {
		return err
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
