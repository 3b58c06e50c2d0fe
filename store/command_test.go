package store

import (
	"slices"
	"strings"
	"testing"
)

func TestSplitCommand(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", []string{}},
		{"   \t\n ", []string{}},
		{"prog", []string{"prog"}},
		{"  prog   a  b ", []string{"prog", "a", "b"}},
		{"prog\ta\nb", []string{"prog", "a", "b"}},
		{`'a b'`, []string{"a b"}},
		{`"a b"`, []string{"a b"}},
		{`''`, []string{""}},
		{`""`, []string{""}},
		{`a '' b`, []string{"a", "", "b"}},
		{`a""b`, []string{"ab"}},
		{`'a'"b"c`, []string{"abc"}},
		{`'it'\''s'`, []string{"it's"}},
		{`"it's"`, []string{"it's"}},
		{`'say "hi"'`, []string{`say "hi"`}},
		{`"say \"hi\""`, []string{`say "hi"`}},
		{`"a\\b"`, []string{`a\b`}},
		{`"a\b"`, []string{`a\b`}},
		{`"\$HOME \` + "`x`" + `"`, []string{"$HOME `x`"}},
		{`'a\b'`, []string{`a\b`}},
		{`a\ b`, []string{"a b"}},
		{`a\\b`, []string{`a\b`}},
		{`\'x`, []string{"'x"}},
		{`\"`, []string{`"`}},
		{`$HOME *.txt`, []string{"$HOME", "*.txt"}},
		{"'line\nbreak'", []string{"line\nbreak"}},
		{`/bin/sh -c 'exec node "$APP" --port=$PORT'`, []string{"/bin/sh", "-c", `exec node "$APP" --port=$PORT`}},
		{"naïve ☃", []string{"naïve", "☃"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := SplitCommand(tt.in)
			if err != nil {
				t.Fatalf("SplitCommand(%q): %v", tt.in, err)
			}
			if got == nil || !slices.Equal(got, tt.want) {
				t.Errorf("SplitCommand(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSplitCommandErrors(t *testing.T) {
	tests := []struct{ in, why string }{
		{`'abc`, "unterminated single quote"},
		{`a 'b`, "unterminated single quote"},
		{`'`, "unterminated single quote"},
		{`"abc`, "unterminated double quote"},
		{`"`, "unterminated double quote"},
		{`"abc\"`, "unterminated double quote"},
		{`a \`, "trailing backslash"},
		{`\`, "trailing backslash"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := SplitCommand(tt.in)
			if err == nil {
				t.Fatalf("SplitCommand(%q) = %q, want an error", tt.in, got)
			}
			if !strings.Contains(err.Error(), tt.why) {
				t.Errorf("error %q does not say %q", err, tt.why)
			}
		})
	}
}

func TestJoinCommand(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, ""},
		{[]string{}, ""},
		{[]string{"prog"}, "prog"},
		{[]string{"prog", "-a", "--b=c", "/x/y.z"}, "prog -a --b=c /x/y.z"},
		{[]string{""}, "''"},
		{[]string{"a", "", "b"}, "a '' b"},
		{[]string{"a b"}, "'a b'"},
		{[]string{"it's"}, `'it'\''s'`},
		{[]string{`say "hi"`}, `'say "hi"'`},
		{[]string{`a\b`}, `'a\b'`},
		{[]string{"$HOME"}, "'$HOME'"},
		{[]string{"*.txt"}, "'*.txt'"},
		{[]string{"a;b", "a|b", "a&b", "(x)", "~", "#c", "{a}", "!x", "a?"}, `'a;b' 'a|b' 'a&b' '(x)' '~' '#c' '{a}' '!x' 'a?'`},
		{[]string{"tab\there", "new\nline"}, "'tab\there' 'new\nline'"},
		{[]string{"naïve"}, "naïve"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := JoinCommand(tt.args); got != tt.want {
				t.Errorf("JoinCommand(%q) = %q, want %q", tt.args, got, tt.want)
			}
		})
	}
}

func TestCommandRoundTrip(t *testing.T) {
	tests := [][]string{
		{},
		{"prog"},
		{""},
		{"", ""},
		{"a b", "c\td", "e\nf"},
		{"'", `"`, `\`, "''", `\'`, `'\''`},
		{`it's a "test" \ of $quoting` + "`now`"},
		{"--opt=a b", "-x", "", "tail "},
		{"\r", "\v", "\f", "\x00", "\x7f"},
		{"ünïcödé", "☃ ❄"},
		{"#not-a-comment", "~user", "a*b?c[d]"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args, "|"), func(t *testing.T) {
			line := JoinCommand(args)
			got, err := SplitCommand(line)
			if err != nil {
				t.Fatalf("SplitCommand(JoinCommand(%q) = %q): %v", args, line, err)
			}
			if !slices.Equal(got, args) {
				t.Errorf("SplitCommand(%q) = %q, want %q", line, got, args)
			}
		})
	}
}
