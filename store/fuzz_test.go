package store

import (
	"bytes"
	"slices"
	"testing"
)

// FuzzParseTimeSpan checks that ParseTimeSpan never panics, that what it
// accepts prints in a canonical form that parses back to the same span, and
// that the canonical form is stable.
func FuzzParseTimeSpan(f *testing.F) {
	for _, s := range []string{
		"00:20:00", "1.05:00:00", "29:00:00", "29h", "90s", "0", "00:00:00.1234567",
		"30.00:00:00", "1h30m", "-5s", "1.24:00:00", "9999999.00:00:00", "876000h", "2562047h",
		"00:00:00.", " 1.5s ", "1.2.3:4:5",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ts, err := ParseTimeSpan(s)
		if err != nil {
			return
		}
		if ts < 0 {
			t.Fatalf("ParseTimeSpan(%q) = %d, a negative span", s, ts)
		}
		text := ts.String()
		back, err := ParseTimeSpan(text)
		if err != nil {
			t.Fatalf("ParseTimeSpan(%q) = %s, which does not parse back: %v", s, text, err)
		}
		if back != ts {
			t.Fatalf("ParseTimeSpan(%q) = %d, printed %s, parsed back as %d", s, ts, text, back)
		}
		if again := back.String(); again != text {
			t.Fatalf("canonical form not stable: %q then %q", text, again)
		}
	})
}

// FuzzParseStore checks that Parse never panics on any file, and that the
// canonical form of an accepted file is a fixed point: Marshal, Parse and
// Marshal again give the same bytes.
func FuzzParseStore(f *testing.F) {
	for _, s := range []string{
		"",
		"version = 1\n",
		"version = 1\n[[applicationPools]]\nname = \"DefaultAppPool\"\n",
		"version = 1\n[applicationPoolDefaults.processModel]\nidleTimeout = \"29h\"\n",
		"version = 1\n[[applicationPools]]\nname = \"P\"\n[[applicationPools.environmentVariables]]\nname = \"A\"\nvalue = \"1\"\n",
		"version = 1\n[[sites]]\nname = \"S\"\nid = 1\n[[sites.bindings]]\nprotocol = \"http\"\nbindingInformation = \"*:80:\"\n",
		"version = 2\n",
		"version = = 1\n",
		" \n\t\n",
		"# only a comment\n",
		"applicationPools = []\n",
		"version = 1\n[[applicationPools]]\nname = \"..\"\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			return
		}
		// An empty or blank file is never a configuration.
		if len(bytes.TrimSpace(data)) == 0 {
			t.Fatalf("Parse accepted an empty store: %q", data)
		}
		first, err := Marshal(c)
		if err != nil {
			t.Fatalf("Marshal of a parsed store: %v", err)
		}
		c2, err := Parse(first)
		if err != nil {
			t.Fatalf("the canonical form does not parse: %v\n%s", err, first)
		}
		second, err := Marshal(c2)
		if err != nil {
			t.Fatalf("second Marshal: %v", err)
		}
		if !bytes.Equal(first, second) {
			t.Fatalf("the canonical form is not a fixed point:\n%s\n---\n%s", first, second)
		}
	})
}

// FuzzSplitCommand checks that SplitCommand never panics and that
// JoinCommand renders what it returns so that it splits the same again.
func FuzzSplitCommand(f *testing.F) {
	for _, s := range []string{
		"", "prog a b", `'a b' "c d" e\ f`, `'it'\''s'`, `"say \"hi\" \\ \$x"`, `a '' ""`,
		"'unterminated", `"unterminated`, `trailing\`, "tab\tand\nnewline", "$HOME *.txt ~user #c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		args, err := SplitCommand(s)
		if err != nil {
			return
		}
		if args == nil {
			t.Fatalf("SplitCommand(%q) = nil, want a non-nil slice", s)
		}
		line := JoinCommand(args)
		back, err := SplitCommand(line)
		if err != nil {
			t.Fatalf("SplitCommand(JoinCommand(%q) = %q): %v", args, line, err)
		}
		if !slices.Equal(back, args) {
			t.Fatalf("SplitCommand(%q) = %q, want %q", line, back, args)
		}
	})
}
