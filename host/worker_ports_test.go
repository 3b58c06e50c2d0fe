package host

import (
	"testing"

	"github.com/poolctl/poolctl/internal/proc"
)

func TestCoversRange(t *testing.T) {
	r := proc.PortRange{Lo: 20000, Hi: 20009}
	for list, want := range map[string]bool{
		"":                        false,
		"20000-20009":             true,
		"19000-21000":             true,
		"20000-20004,20005-20009": true,
		"20000-20004,20006-20009": false,
		"20000-20008,20009":       true,
		"8080,20000-20009,30000":  true,
		"20001-20009":             false,
		"junk,20000-20009":        true,
	} {
		if got := coversRange(list, r); got != want {
			t.Errorf("coversRange(%q, %s) = %v, want %v", list, r, got, want)
		}
	}
}
