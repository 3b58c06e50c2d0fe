package front

import (
	"net/http"
	"strings"
)

// privatePrefix starts the names of the headers the front sets for its
// workers (worker.SiteHeader); a client's copies are removed.
const privatePrefix = "x-poolctl-"

// isPrivate reports whether the header name k is one of the front's own,
// in any case and with '_' for '-' (CGI turns both into HTTP_X_POOLCTL_...).
func isPrivate(k string) bool {
	if len(k) < len(privatePrefix) {
		return false
	}
	for i := 0; i < len(privatePrefix); i++ {
		c := k[i]
		if c == '_' {
			c = '-'
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != privatePrefix[i] {
			return false
		}
	}
	return true
}

// stripPrivate removes from a client's request header every header the
// front sets for its workers, and every Connection token naming one (a
// client must not be able to make the forwarder drop a header the front
// sets, as hop-by-hop).
func stripPrivate(h http.Header) {
	for k := range h {
		if isPrivate(k) {
			delete(h, k)
		}
	}
	conn := h["Connection"]
	if len(conn) == 0 {
		return
	}
	var kept []string
	changed := false
	for _, v := range conn {
		for tok := range strings.SplitSeq(v, ",") {
			t := strings.TrimSpace(tok)
			if t == "" {
				continue
			}
			if isPrivate(t) {
				changed = true
				continue
			}
			kept = append(kept, t)
		}
	}
	if !changed {
		return
	}
	if len(kept) == 0 {
		delete(h, "Connection")
		return
	}
	h["Connection"] = []string{strings.Join(kept, ", ")}
}
