package store

import (
	"sort"
	"strings"
)

// Suggester proposes valid names for a mistyped one, for "did you mean"
// hints.
type Suggester struct{ names []string }

// NewSuggester returns a Suggester over the valid names.
func NewSuggester(names []string) *Suggester { return &Suggester{names: names} }

// Suggest returns up to three names close to name, best first: those whose
// last dotted segment equals name's, then those within a small edit
// distance of it (whole, or by last segment).
func (s *Suggester) Suggest(name string) []string {
	lname := strings.ToLower(name)
	last := lname[strings.LastIndexByte(lname, '.')+1:]
	type cand struct {
		name string
		d    int
	}
	var cands []cand
	for _, n := range s.names {
		p := strings.ToLower(n)
		pl := p[strings.LastIndexByte(p, '.')+1:]
		d := min(editDistance(lname, p), editDistance(last, pl)+1)
		if pl == last || strings.HasSuffix(p, "."+lname) {
			d = 0
		}
		if d <= max(2, len(last)/3) {
			cands = append(cands, cand{n, d})
		}
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].d < cands[j].d })
	var out []string
	for _, c := range cands {
		if len(out) == 3 {
			break
		}
		out = append(out, c.name)
	}
	return out
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
