package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/poolctl/poolctl/commands/params"
	"github.com/poolctl/poolctl/events"
	"github.com/poolctl/poolctl/host"
	"github.com/poolctl/poolctl/hostapi"
	"github.com/poolctl/poolctl/store"
)

func eventObject() *object {
	return &object{
		name:    "event",
		aliases: []string{"events"},
		summary: "A recorded pool or worker event, with its IIS event id (from the host; without one, from the state directory)",
		actions: map[string]action{
			"list": {listEvent, "poolctl list event [/apppool.name:POOL] [/id:N] [/since:TIMESPAN] [/property:value ...] [/text:ATTR | /text:* | /json]",
				"List recorded events oldest first; /since:10m (or 00:10:00) shows those of the last ten minutes"},
		},
		schema: func() []propHelp {
			return []propHelp{
				{name: "time", kind: "time", def: "-", help: "when it happened, UTC (RFC 3339; /json has the fraction)"},
				{name: "id", kind: "uint", def: "-", help: "the IIS event id: 5079 on-demand recycle, 5009 crash ... (docs/reference/events.md)"},
				{name: "apppool.name", kind: "string", def: "-", help: "the pool"},
				{name: "pid", kind: "uint", def: "-", help: "the worker's process id; 0 for a pool event"},
				{name: "worker", kind: "string", def: "-", help: "the worker's number in its pool; empty for a pool event"},
				{name: "reason", kind: "string", def: "-", help: "what happened, in words"},
				{name: "since", kind: "timeSpan", def: "-", help: "filter only: events newer than this long ago (/since:10m, /since:00:10:00)"},
			}
		},
	}
}

// eventTime prints as RFC 3339 seconds in UTC (table, /text, filters) and
// as the recorded time with its fraction in /json.
type eventTime time.Time

func (t eventTime) String() string { return time.Time(t).UTC().Format(time.RFC3339) }

// MarshalJSON writes the full recorded time.
func (t eventTime) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Time(t).UTC().Format(time.RFC3339Nano))
}

// eventIDField and eventPIDField let /id and /pid compare as numbers.
var (
	eventIDField  = &store.Field{Path: "id", Kind: store.KindUint, Help: "the IIS event id"}
	eventPIDField = &store.Field{Path: "pid", Kind: store.KindUint, Help: "the worker's process id; 0 for a pool event"}
)

func eventView() *view {
	ev := func(o any) events.Event { return o.(events.Event) }
	return newView("EVENT", []prop{
		{key: "time", header: "TIME", get: func(o any) any { return eventTime(ev(o).Time) }},
		{key: "id", aliases: []string{"event"}, header: "ID", field: eventIDField, get: func(o any) any { return uint64(max(ev(o).ID, 0)) }},
		{key: "apppool.name", aliases: []string{"applicationPool", "pool"}, header: "APPPOOL", get: func(o any) any { return ev(o).Pool }},
		{key: "pid", aliases: []string{"wp.name"}, header: "PID", field: eventPIDField, get: func(o any) any { return uint64(max(ev(o).PID, 0)) }},
		{key: "worker", get: func(o any) any { return ev(o).Worker }},
		{key: "reason", header: "REASON", get: func(o any) any { return ev(o).Reason }},
	})
}

// listEvent lists the recorded events oldest first: the host's, or with no
// host running those of the event files in the state directory (the
// rotated ones first). A missing state directory or event file lists
// nothing and succeeds.
func listEvent(e *env, a params.Args) error {
	if a.HasID {
		return usagef("list event takes no identifier, got %q: filter with /apppool.name:POOL or /id:N", a.ID)
	}
	rest, mode, err := takeOutput(a)
	if err != nil {
		return err
	}
	rest, taken := rest.Take("since")
	var since time.Time
	switch {
	case len(taken) > 1:
		return usagef("give /since once")
	case len(taken) == 1:
		p := taken[0]
		span, err := store.ParseTimeSpan(p.Value)
		if err != nil || !p.HasValue {
			return usagef("/since:%s: %v", p.Value, fmt.Errorf("a time span ago is needed: %w", store.ErrTimeSpan))
		}
		since = e.now().Add(-span.Duration())
	}
	v := eventView()
	filters, err := v.parseFilters(rest.Params)
	if err != nil {
		return err
	}
	if mode.hasText && mode.text != "*" {
		if _, ok := v.lookup(mode.text); !ok {
			return v.unknown(mode.text)
		}
	}
	evs, err := readEvents(e, since)
	if err != nil {
		return err
	}
	// Files are written in time order; a stable sort keeps that order for
	// equal times and mends files merged by hand.
	slices.SortStableFunc(evs, func(x, y events.Event) int { return x.Time.Compare(y.Time) })
	var rows []row
	for i, ev := range evs {
		if !since.IsZero() && !ev.Time.After(since) {
			continue
		}
		r := row{v: v, id: strconv.Itoa(i + 1), obj: ev}
		if r.match(filters) {
			rows = append(rows, r)
		}
	}
	return render(e.stdout, v, rows, mode)
}

// readEvents returns the recorded events newer than since (all when zero),
// in the order they were written: from the host when one runs, else from
// the event files of the state directory. Lines that are not events are
// skipped with a warning.
func readEvents(e *env, since time.Time) ([]events.Event, error) {
	skip := func(file string, line int, err any) {
		fmt.Fprintf(e.stderr, "warning: %s:%d: skipped: %v\n", file, line, err)
	}
	var evs []events.Event
	_, up, err := hostAct(e, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, e.host.Events(ctx, hostapi.EventQuery{Since: since}, func(l hostapi.EventLine) error {
			switch {
			case l.Event != nil:
				evs = append(evs, *l.Event)
			case l.Skipped != nil:
				skip(l.Skipped.File, l.Skipped.Line, l.Skipped.Error)
			}
			return nil
		})
	})
	if up || err != nil {
		return evs, err
	}
	return events.ReadDir(e.statDir, func(file string, line int, err error) { skip(file, line, err) })
}

// stateDirOf is the state directory: --state-dir of the nearest command
// that has it set (host's own flag, then the global one), $POOLCTL_STATE_DIR,
// or host.DefaultStateDir(), so `poolctl host --state-dir X` and
// `poolctl --state-dir X list event` agree.
func stateDirOf(c *cli.Context) string {
	for _, x := range c.Lineage() {
		if s := strings.TrimSpace(x.String("state-dir")); s != "" {
			return s
		}
	}
	return host.DefaultStateDir()
}

// eventLogOptions reads the host's --event-log-max-size,
// --event-log-max-age and --event-log-keep.
func eventLogOptions(c *cli.Context) ([]events.Option, error) {
	size, err := events.ParseSize(c.String("event-log-max-size"))
	if err != nil {
		return nil, usagef("--event-log-max-size: %v", err)
	}
	if size < 1024 {
		return nil, usagef("--event-log-max-size %s is too small: expected at least 1K", c.String("event-log-max-size"))
	}
	age, err := logMaxAge(c, "event-log-max-age")
	if err != nil {
		return nil, err
	}
	keep := c.Int("event-log-keep")
	if keep < 0 || keep > 1000 {
		return nil, usagef("--event-log-keep %d: expected 0 to 1000", keep)
	}
	return []events.Option{events.WithRotation(size, keep), events.WithMaxAge(age)}, nil
}
