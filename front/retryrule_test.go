package front

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/poolctl/poolctl/forward"
)

// TestRetryRule pins the one rule: what may be sent again after which
// failure.
func TestRetryRule(t *testing.T) {
	get, _ := http.NewRequest(http.MethodGet, "http://x/", nil)
	post, _ := http.NewRequest(http.MethodPost, "http://x/", strings.NewReader("body"))
	bad := &forward.Error{Outcome: forward.NotSent, Err: fmt.Errorf("%w: x", forward.ErrBadRequest)}
	cases := []struct {
		name                    string
		fe                      *forward.Error
		r                       *http.Request
		takenDown, reusedBefore bool
		want                    bool
	}{
		{"not sent", &forward.Error{Outcome: forward.NotSent}, post, false, false, true},
		{"not sent, malformed", bad, get, false, false, false},
		{"sent GET, died on its own", &forward.Error{Outcome: forward.Sent}, get, false, false, false},
		{"sent GET, taken down", &forward.Error{Outcome: forward.Sent}, get, true, false, true},
		{"sent POST, taken down", &forward.Error{Outcome: forward.Sent}, post, true, false, false},
		{"sent GET, reused connection", &forward.Error{Outcome: forward.Sent, Reused: true}, get, false, false, true},
		{"sent GET, reused connection again", &forward.Error{Outcome: forward.Sent, Reused: true}, get, false, true, false},
		{"sent POST, reused connection", &forward.Error{Outcome: forward.Sent, Reused: true}, post, false, false, false},
		{"partly answered", &forward.Error{Outcome: forward.PartlyAnswered, Reused: true}, get, true, false, false},
	}
	for _, c := range cases {
		if got := retryable(c.fe, c.r, c.takenDown, c.reusedBefore); got != c.want {
			t.Errorf("%s: retryable = %v, want %v", c.name, got, c.want)
		}
	}
}
