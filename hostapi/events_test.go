package hostapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/poolctl/poolctl/events"
	"github.com/poolctl/poolctl/store"
)

// eventRoute serves evs through HandleStream the way the host does: the
// query is checked before the reply begins, and cut (no end line) when cut
// is set.
func eventRoute(evs []events.Event, cut bool, mid error) func(*Server) {
	return func(s *Server) {
		s.HandleStream("GET "+EventsPath, Read, func(_ context.Context, r *http.Request, send func(any) error) error {
			q, err := ParseEventQuery(r.URL.Query())
			if err != nil {
				return err
			}
			if err := send(EventLine{Skipped: &SkippedEvent{File: "events.jsonl", Line: 3, Error: "bad"}}); err != nil {
				return err
			}
			for i := range evs {
				if q.Match(&evs[i]) {
					if err := send(EventLine{Event: &evs[i]}); err != nil {
						return err
					}
				}
			}
			if mid != nil {
				return send(EventLine{Error: mid.Error()})
			}
			if cut {
				return nil
			}
			return send(EventLine{End: true})
		})
	}
}

// TestClientEvents: the client gets the events in the host's order with
// the skipped lines, the since filter applies on the host, and a reply
// that is cut or fails midway is an error, not a short list.
func TestClientEvents(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)
	evs := []events.Event{
		{Time: t0, ID: 9001, Pool: "A", Reason: "pool started"},
		{Time: t0.Add(time.Minute), ID: 5079, Pool: "A", PID: 12, Worker: "1", Reason: "recycle"},
		{Time: t0.Add(2 * time.Minute), ID: 9002, Pool: "B", Reason: "pool stopped"},
	}
	collect := func(socket string, q EventQuery) ([]EventLine, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var out []EventLine
		err := NewClient(socket).Events(ctx, q, func(l EventLine) error { out = append(out, l); return nil })
		return out, err
	}

	socket := testServer(t, ServerOptions{OperatorGroup: -1}, -1, eventRoute(evs, false, nil))
	got, err := collect(socket, EventQuery{})
	if err != nil || len(got) != 4 || got[0].Skipped == nil || got[0].Skipped.Line != 3 {
		t.Fatalf("Events: %v %+v, want the skipped line then 3 events", err, got)
	}
	for i, l := range got[1:] {
		if l.Event == nil || !l.Event.Time.Equal(evs[i].Time) || *l.Event != (events.Event{Time: l.Event.Time, ID: evs[i].ID, Pool: evs[i].Pool, PID: evs[i].PID, Worker: evs[i].Worker, Reason: evs[i].Reason}) {
			t.Errorf("event %d: %+v, want %+v", i, l.Event, evs[i])
		}
	}
	// since keeps what is strictly newer, to the nanosecond.
	got, err = collect(socket, EventQuery{Since: t0})
	if err != nil || len(got) != 3 || got[1].Event.ID != 5079 {
		t.Fatalf("Events since t0: %v %+v, want 2 events after t0", err, got)
	}

	// A malformed since is refused before the reply begins: invalid.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = NewClient(socket).Do(ctx, http.MethodGet, EventsPath+"?since="+url.QueryEscape("yesterday"), nil, nil)
	if !errors.Is(err, store.ErrInvalid) {
		t.Errorf("since=yesterday: %v, want ErrInvalid", err)
	}

	cut := testServer(t, ServerOptions{OperatorGroup: -1}, -1, eventRoute(evs, true, nil))
	if _, err := collect(cut, EventQuery{}); !errors.Is(err, ErrEventsCut) {
		t.Errorf("cut reply: %v, want ErrEventsCut", err)
	}
	failed := testServer(t, ServerOptions{OperatorGroup: -1}, -1, eventRoute(evs, false, fmt.Errorf("disk on fire")))
	if _, err := collect(failed, EventQuery{}); !errors.Is(err, ErrRemote) {
		t.Errorf("reply failing midway: %v, want ErrRemote", err)
	}
	// The callback's error stops the read and is returned.
	stop := errors.New("enough")
	err = NewClient(socket).Events(ctx, EventQuery{}, func(EventLine) error { return stop })
	if !errors.Is(err, stop) {
		t.Errorf("callback error: %v, want it returned", err)
	}
}

// TestEventQueryRoundTrip: a query survives its URL form.
func TestEventQueryRoundTrip(t *testing.T) {
	for _, q := range []EventQuery{{}, {Since: time.Date(2026, 12, 5, 1, 2, 3, 456789, time.UTC)}} {
		got, err := ParseEventQuery(q.Values())
		if err != nil || !got.Since.Equal(q.Since) {
			t.Errorf("round trip of %v: %v %v", q, got, err)
		}
	}
}

// FuzzReadEventLines: any reply decodes to events, skipped lines and an
// error, never a panic, and fn only sees lines with an event or a skip.
func FuzzReadEventLines(f *testing.F) {
	for _, seed := range []string{
		"",
		`{"end":true}` + "\n",
		`{"event":{"time":"2026-01-02T03:04:05Z","id":5079,"pool":"A","pid":1,"reason":"r"}}` + "\n" + `{"end":true}` + "\n",
		`{"skipped":{"file":"f","line":2,"error":"bad"}}` + "\n",
		`{"error":"disk"}` + "\n",
		`{"event":null}` + "\n{}\n" + `{"end":true}`,
		"not json\n",
		`{"event":{"time":"yesterday"}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		err := readEventLines(bytes.NewReader(data), func(l EventLine) error {
			if l.Event == nil && l.Skipped == nil {
				t.Fatalf("fn got an empty line %+v", l)
			}
			return nil
		})
		_ = err
	})
}

// FuzzParseEventQuery: a query either parses and round-trips, or is
// invalid.
func FuzzParseEventQuery(f *testing.F) {
	for _, seed := range []string{"", "since=2026-12-05T01:02:03.456789Z", "since=yesterday", "since=2026-12-05T01:02:03%2B02:00", "since=&since=x", "%zz"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := ParseEventQuery(v)
		if err != nil {
			if !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("ParseEventQuery(%q): %v, want ErrInvalid", raw, err)
			}
			return
		}
		back, err := ParseEventQuery(q.Values())
		if err != nil || !back.Since.Equal(q.Since) {
			t.Fatalf("round trip of %q: %v %v", raw, back, err)
		}
	})
}
