package hosttest

// Events recorded by a real host and read back with `poolctl list event`:
// an on-demand recycle (5079 with the old worker's pid), a stop (9002) and
// a start (9001), across a rotation of the event file. Pools here are named
// "Ev...".

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// listEvents runs `poolctl --state-dir STATE list event ARGS... /json`.
func (e *hostEnv) listEvents(args ...string) []evRow {
	e.t.Helper()
	out := e.run(append([]string{"--state-dir", e.state, "list", "event"}, append(args, "/json")...)...)
	var rows []evRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		e.t.Fatalf("list event /json: %v\n%s", err, out)
	}
	return rows
}

// evRow is one row of `list event /json`.
type evRow struct {
	Time    string `json:"time"`
	ID      int    `json:"id"`
	PID     int    `json:"pid"`
	Reason  string `json:"reason"`
	AppPool struct {
		Name string `json:"name"`
	} `json:"apppool"`
}

func TestEventsRecycleStopStart(t *testing.T) {
	// A small event file, so the events below span a rotation.
	t.Setenv("POOLCTL_EVENT_LOG_MAX_SIZE", "1K")
	t.Setenv("POOLCTL_EVENT_LOG_KEEP", "20")
	e := newHostEnv(t)
	e.addTestPool("EvPool", "/", "/startMode:AlwaysRunning")
	e.addTestPool("EvOther", "/other", "/startMode:AlwaysRunning")
	e.startHost()

	var old []int
	waitFor(t, 20*time.Second, "EvPool worker", func() error {
		if old = e.workers("EvPool"); len(old) == 0 {
			return fmt.Errorf("no worker yet\n%s", e.log())
		}
		return nil
	})
	t0 := time.Now()
	e.run("recycle", "apppool", "EvPool")
	// A few more recycles fill the small event file past its size.
	for range 3 {
		e.run("recycle", "apppool", "EvOther")
	}
	e.run("stop", "apppool", "EvPool")
	e.run("start", "apppool", "EvPool")

	waitFor(t, 20*time.Second, "5079, 9002 and 9001 in list event", func() error {
		rows := e.listEvents("/apppool.name:evpool", "/since:10m")
		var ids []int
		for _, r := range rows {
			ids = append(ids, r.ID)
		}
		i := slices.Index(ids, 5079)
		if i < 0 || !slices.Contains(ids[i:], 9002) || !slices.Contains(ids[slices.Index(ids[i:], 9002)+i:], 9001) {
			return fmt.Errorf("ids %v: want 5079, then 9002, then 9001", ids)
		}
		return nil
	})

	rows := e.listEvents("/apppool.name:EvPool", "/id:5079")
	if len(rows) != 1 {
		t.Fatalf("list event /id:5079: %d rows, want 1: %+v", len(rows), rows)
	}
	r := rows[0]
	if r.PID != old[0] || r.AppPool.Name != "EvPool" {
		t.Fatalf("5079 event %+v: want pid %d (the recycled worker) of EvPool", r, old[0])
	}
	at, err := time.Parse(time.RFC3339Nano, r.Time)
	if err != nil || at.Before(t0.Add(-time.Second)) || at.After(time.Now()) {
		t.Fatalf("5079 event time %q (%v): want between the recycle and now", r.Time, err)
	}
	// Only EvPool's events, and the table names the pool and the pid.
	for _, r := range e.listEvents("/apppool.name:EvPool") {
		if r.AppPool.Name != "EvPool" {
			t.Fatalf("/apppool.name:EvPool listed %+v", r)
		}
	}
	table := e.run("--state-dir", e.state, "list", "event", "/apppool.name:EvPool", "/id:5079")
	if !strings.Contains(table, " 5079 ") || !strings.Contains(table, " "+strconv.Itoa(old[0])+" ") {
		t.Fatalf("list event table:\n%s", table)
	}
	// The events spanned a rotation, and the rotated file was read too.
	if _, err := os.Stat(filepath.Join(e.state, "events.jsonl.1")); err != nil {
		t.Fatalf("no rotated event file: %v", err)
	}
	all := e.listEvents()
	var prev time.Time
	for _, r := range all {
		at, err := time.Parse(time.RFC3339Nano, r.Time)
		if err != nil || at.Before(prev) {
			t.Fatalf("event %+v: bad time or out of time order (%v)", r, err)
		}
		prev = at
	}
	if all[0].ID != 9001 {
		t.Fatalf("oldest event %+v: want the first pool start (9001) from the rotated file", all[0])
	}
}
