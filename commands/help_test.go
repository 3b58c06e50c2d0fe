package commands

import (
	"slices"
	"strings"
	"testing"
	"unicode"
)

// TestHelpTexts lints the command tree, as tailscale's TestDocs does: every
// action's usage starts with "poolctl <verb> <object>", its help is a
// capitalised sentence without a final period, every verb is a known one
// with a summary, and object names and aliases are unique.
func TestHelpTexts(t *testing.T) {
	seen := map[string]string{}
	for _, o := range objects() {
		for _, n := range append([]string{o.name}, o.aliases...) {
			if prev, ok := seen[n]; ok {
				t.Errorf("name %q used by %s and %s", n, prev, o.name)
			}
			seen[n] = o.name
		}
		if o.summary == "" {
			t.Errorf("%s: no summary", o.name)
		}
		for verb, act := range o.actions {
			if !slices.Contains(verbOrder, verb) || verbSummaries[verb] == "" {
				t.Errorf("%s: verb %q is not in verbOrder with a summary", o.name, verb)
			}
			if want := "poolctl " + verb + " " + o.name; !strings.HasPrefix(act.usage, want) {
				t.Errorf("%s %s: usage %q does not start with %q", verb, o.name, act.usage, want)
			}
			if act.help == "" || !unicode.IsUpper([]rune(act.help)[0]) || strings.HasSuffix(act.help, ".") {
				t.Errorf("%s %s: help %q: want a capitalised sentence without a final period", verb, o.name, act.help)
			}
			if act.run == nil {
				t.Errorf("%s %s: no handler", verb, o.name)
			}
		}
	}
}

// TestNormalizeArgs: verbs and objects are lower-cased after any global
// flags; parameters and identifiers keep their case.
func TestNormalizeArgs(t *testing.T) {
	tests := []struct{ in, want []string }{
		{[]string{"poolctl", "LIST", "APPPOOLS"}, []string{"poolctl", "list", "apppools"}},
		{[]string{"poolctl", "--config", "/X.toml", "Set", "AppPool", "Marketing", "/Name:B"}, []string{"poolctl", "--config", "/X.toml", "set", "apppool", "Marketing", "/Name:B"}},
		{[]string{"poolctl", "--timeout=5s", "LIST", "/state:Started"}, []string{"poolctl", "--timeout=5s", "list", "/state:Started"}},
		{[]string{"poolctl"}, []string{"poolctl"}},
	}
	for _, tt := range tests {
		if got := normalizeArgs(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("normalizeArgs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
