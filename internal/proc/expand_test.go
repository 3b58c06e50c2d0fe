package proc

import (
	"errors"
	"strings"
	"testing"
)

func TestExpandArgs(t *testing.T) {
	t.Parallel()
	env := []string{"PORT=1", "PORT=41319", "POOLCTL_APPPOOL=shop", "EMPTY=", "SPACED=a b", "X_1=x"}
	for _, tc := range []struct{ in, want string }{
		{"127.0.0.1:$PORT", "127.0.0.1:41319"},
		{"127.0.0.1:${PORT}", "127.0.0.1:41319"},
		{"${PORT}0", "413190"},
		{"$PORT0", ""}, // an error, see below
		{"$POOLCTL_APPPOOL-$X_1", "shop-x"},
		{"$$PORT", "$PORT"},
		{"$$$PORT", "$41319"},
		{"a$$", "a$"},
		{"price: 5$", "price: 5$"},
		{"$1 $- $( $.", "$1 $- $( $."},
		{"^foo$", "^foo$"},
		{"$EMPTY", ""},
		{"$SPACED", "a b"},
		{"no variables", "no variables"},
		{"", ""},
	} {
		got, err := ExpandArgs([]string{tc.in}, env)
		if tc.in == "$PORT0" {
			if !errors.Is(err, ErrUndefinedVariable) || !strings.Contains(err.Error(), "$PORT0") {
				t.Errorf("ExpandArgs(%q) = %q, %v; want ErrUndefinedVariable naming $PORT0", tc.in, got, err)
			}
			continue
		}
		if err != nil || len(got) != 1 || got[0] != tc.want {
			t.Errorf("ExpandArgs(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"$NOPE", "${NOPE}", "${PORT", "${}", "${1A}", "${A B}"} {
		if got, err := ExpandArgs([]string{"ok", bad}, env); err == nil {
			t.Errorf("ExpandArgs(%q) = %q, want an error", bad, got)
		} else if !strings.Contains(err.Error(), "argument 1") {
			t.Errorf("ExpandArgs(%q) error %q does not name the argument", bad, err)
		}
	}
	// Arguments are never split or dropped.
	got, err := ExpandArgs([]string{"$SPACED", "$EMPTY", "x"}, env)
	if err != nil || len(got) != 3 || got[0] != "a b" || got[1] != "" || got[2] != "x" {
		t.Errorf("ExpandArgs kept %q, %v; want [a b, \"\", x]", got, err)
	}
}

func TestExpandArgsBounded(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 1<<16)
	arg := strings.Repeat("$BIG", 64) // 4 MiB if unbounded
	if _, err := ExpandArgs([]string{arg}, []string{"BIG=" + big}); err == nil {
		t.Fatal("an argument expanding past the bound was accepted")
	}
}

func FuzzExpandArgs(f *testing.F) {
	for _, s := range []string{"$PORT", "${PORT}", "$$", "$", "${", "${}", "a$b$$c${d}", "$1", "${PORT}${PORT", "$é", "\x00$PORT"} {
		f.Add(s)
	}
	env := []string{"PORT=8080", "b=B", "d=", "PORT_X=$PORT"}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ExpandArgs([]string{s}, env)
		if err != nil {
			if got != nil {
				t.Fatalf("error %v with a result %q", err, got)
			}
			return
		}
		if len(got) != 1 {
			t.Fatalf("one argument became %d", len(got))
		}
		if !strings.Contains(s, "$") && got[0] != s {
			t.Fatalf("%q without $ changed to %q", s, got[0])
		}
		// Escaping every $ of the result gives it back unchanged: the
		// expansion is never re-expanded.
		again, err := ExpandArgs([]string{strings.ReplaceAll(got[0], "$", "$$")}, nil)
		if err != nil || again[0] != got[0] {
			t.Fatalf("escaped %q expanded to %q, %v", got[0], again, err)
		}
	})
}
