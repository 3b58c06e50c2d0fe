package farm

import (
	"regexp"
	"strings"
	"testing"
)

// TestValidNameMatchesPattern: the hand-written checks accept exactly what
// NamePattern and NewID's format describe.
func TestValidNameMatchesPattern(t *testing.T) {
	nameRE := regexp.MustCompile(`^` + NamePattern + `$`)
	idRE := regexp.MustCompile(`^[0-9a-f]{16}$`)
	cases := []string{"", "a", "web1", "Web-1.example_x", "-a", ".a", "_a", "a b", "a/b", "é",
		strings.Repeat("a", 63), strings.Repeat("a", 64), "0123456789abcdef", "0123456789ABCDEF",
		"0123456789abcde", "0123456789abcdefa", NewID()}
	for _, c := range cases {
		if got, want := validName(c), nameRE.MatchString(c); got != want {
			t.Errorf("validName(%q) = %v, want %v", c, got, want)
		}
		if got, want := validID(c), idRE.MatchString(c); got != want {
			t.Errorf("validID(%q) = %v, want %v", c, got, want)
		}
	}
}

// FuzzValidName holds validName and validID to their patterns.
func FuzzValidName(f *testing.F) {
	nameRE := regexp.MustCompile(`^` + NamePattern + `$`)
	idRE := regexp.MustCompile(`^[0-9a-f]{16}$`)
	for _, s := range []string{"web1", "-x", "0123456789abcdef", strings.Repeat("z", 64)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if validName(s) != nameRE.MatchString(s) {
			t.Errorf("validName(%q) = %v", s, validName(s))
		}
		if validID(s) != idRE.MatchString(s) {
			t.Errorf("validID(%q) = %v", s, validID(s))
		}
	})
}
