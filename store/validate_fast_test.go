package store

import (
	"strings"
	"testing"
)

// TestFoldASCIIMatchesFoldKey: the ASCII shortcut folds every ASCII
// character as the search of its folding orbit does (k and s included,
// whose orbits hold the Kelvin sign and the long s), and leaves other text
// to that search.
func TestFoldASCIIMatchesFoldKey(t *testing.T) {
	var all strings.Builder
	for c := 0; c < 0x80; c++ {
		all.WriteByte(byte(c))
		s := string(rune(c))
		if got, want := foldKey(s), foldOrbits(s); got != want {
			t.Errorf("foldKey(%q) = %q; want %q", s, got, want)
		}
	}
	for _, s := range []string{all.String(), "Pool00001", "DEFAULTAPPPOOL", "ké", "\u212a", "Straße", ""} {
		if got, want := foldKey(s), foldOrbits(s); got != want {
			t.Errorf("foldKey(%q) = %q; want %q", s, got, want)
		}
	}
	if _, ok := foldASCII("é"); ok {
		t.Error("foldASCII took non-ASCII text")
	}
}

// TestPoolRulesOnEffectiveValues: the rules that span a pool's properties
// see what the pool inherits from applicationPoolDefaults, whether it has
// a processModel table of its own or not, and name the pool.
func TestPoolRulesOnEffectiveValues(t *testing.T) {
	s := func(v string) *string { return &v }
	cases := []struct {
		name     string
		defaults *ProcessModel
		pool     *ProcessModel
		errSub   string // "" when valid
	}{
		{"inherits SpecificUser without user", &ProcessModel{IdentityType: s("SpecificUser")}, nil, "identityType is SpecificUser but no userName is set"},
		{"own table, inherits SpecificUser", &ProcessModel{IdentityType: s("SpecificUser")}, &ProcessModel{IdleTimeout: new(TimeSpan)}, "identityType is SpecificUser but no userName is set"},
		{"inherits the user", &ProcessModel{UserName: s("www")}, &ProcessModel{IdentityType: s("SpecificUser")}, ""},
		{"own empty user", &ProcessModel{IdentityType: s("SpecificUser"), UserName: s("www")}, &ProcessModel{UserName: s("")}, "identityType is SpecificUser but no userName is set"},
		{"inherits a ping path", &ProcessModel{PingPath: s("/health")}, &ProcessModel{}, ""},
		{"own bad ping path", &ProcessModel{PingPath: s("/health")}, &ProcessModel{PingPath: s("health")}, `"health" does not start with '/'`},
		{"inherited bad ping path", &ProcessModel{PingPath: s("health")}, nil, `"health" does not start with '/'`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &Config{Version: FormatVersion,
				ApplicationPoolDefaults: PoolSettings{ProcessModel: tc.defaults},
				ApplicationPools:        []AppPool{{Name: "P", PoolSettings: PoolSettings{ProcessModel: tc.pool}}},
			}
			// The defaults alone are checked property by property, not
			// by the rules: an inherited mistake is reported on the pool.
			err := c.Validate()
			switch {
			case tc.errSub == "" && err != nil:
				t.Fatalf("Validate: %v; want none", err)
			case tc.errSub != "" && (err == nil || !strings.Contains(err.Error(), tc.errSub) || !strings.Contains(err.Error(), `"P"`)):
				t.Fatalf("Validate: %v; want an error on pool P with %q", err, tc.errSub)
			}
		})
	}
}
