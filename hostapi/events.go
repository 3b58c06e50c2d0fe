package hostapi

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/poolctl/poolctl/events"
	"github.com/poolctl/poolctl/store"
)

// EventsPath is the route of the recorded events: GET, answered as JSON
// lines (one EventLine each), oldest event file first, in the order the
// events were written.
const EventsPath = "/v1/events"

// MaxEventLine bounds one line of the events reply.
const MaxEventLine = 1 << 20

// ErrEventsCut means the events reply ended before its last line.
var ErrEventsCut = errors.New("the host's list of events ended early")

// EventLine is one line of the events reply: an event, a line of the event
// files the host skipped, a failure met after the reply began, or the end,
// which tells a complete reply from a cut one.
type EventLine struct {
	Event   *events.Event `json:"event,omitempty"`
	Skipped *SkippedEvent `json:"skipped,omitempty"`
	Error   string        `json:"error,omitempty"`
	End     bool          `json:"end,omitempty"`
}

// SkippedEvent is a line of an event file that is not a valid event.
type SkippedEvent struct {
	File  string `json:"file"`
	Line  int    `json:"line"`
	Error string `json:"error"`
}

// EventQuery narrows the events the host sends.
type EventQuery struct {
	// Since keeps the events recorded after it; zero keeps all.
	Since time.Time
}

// Values is the query's URL form.
func (q EventQuery) Values() url.Values {
	v := url.Values{}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	return v
}

// ParseEventQuery reads the URL form of a query; a malformed one wraps
// store.ErrInvalid.
func ParseEventQuery(v url.Values) (EventQuery, error) {
	var q EventQuery
	if s := v.Get("since"); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return q, fmt.Errorf("%w: since=%q: expected an RFC 3339 time", store.ErrInvalid, s)
		}
		q.Since = t
	}
	return q, nil
}

// Match reports whether ev passes the query.
func (q EventQuery) Match(ev *events.Event) bool {
	return q.Since.IsZero() || ev.Time.After(q.Since)
}

// Events reads the host's recorded events that pass q, calling fn for
// each line of the reply in order (events and skipped lines; never the
// end). A reply that ends without its last line is ErrEventsCut; a failure
// the host met while it answered is an error wrapping ErrRemote.
func (c *Client) Events(ctx context.Context, q EventQuery, fn func(EventLine) error) error {
	path := EventsPath
	if v := q.Values(); len(v) > 0 {
		path += "?" + v.Encode()
	}
	resp, err := c.send(ctx, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return readEventLines(resp.Body, fn)
}

// readEventLines decodes an events reply from r, calling fn for each event
// and skipped line, up to the end line; see Events.
func readEventLines(r io.Reader, fn func(EventLine) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxEventLine)
	for sc.Scan() {
		var l EventLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return fmt.Errorf("decode host reply: %w", err)
		}
		switch {
		case l.End:
			return nil
		case l.Error != "":
			return fmt.Errorf("%w: %s", ErrRemote, l.Error)
		case l.Event == nil && l.Skipped == nil:
			continue // a kind of line this build does not know
		}
		if err := fn(l); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read host reply: %w", err)
	}
	return ErrEventsCut
}
