package accesslog

import (
	"math/rand/v2"
	"testing"
	"time"
	"unicode/utf8"
)

// appendW3CTextRef is appendW3CText as it was first written, byte by byte:
// the reference the faster one is held to.
func appendW3CTextRef(b []byte, s string, keepSpace bool) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < ' ' || c == 0x7f || c == ' ' && !keepSpace {
				c = '+'
			}
			b = append(b, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || r >= 0x80 && r <= 0x9f || r == '\u2028' || r == '\u2029' {
			b = append(b, '+')
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return b
}

var w3cTextSeeds = []string{"", "plain", "with space", "tab\there", "cr\r\nlf", "del\x7f", "caf\u00e9",
	"\u2028sep\u2029", "\u0085nel", "bad\xff\xfeutf8", "Mozilla/5.0 (X11; Linux x86_64) test", "\x00nul", "~!@#$%^&*()"}

// TestW3CTextMatchesReference (issue 12): the W3C value escaping copies
// clean runs at once and gives exactly what the byte-by-byte version gave.
func TestW3CTextMatchesReference(t *testing.T) {
	for _, s := range w3cTextSeeds {
		for _, keep := range []bool{false, true} {
			if got, want := string(appendW3CText(nil, s, keep)), string(appendW3CTextRef(nil, s, keep)); got != want {
				t.Errorf("appendW3CText(%q, %v) = %q, want %q", s, keep, got, want)
			}
		}
	}
}

// FuzzW3CText holds appendW3CText to the reference on any input.
func FuzzW3CText(f *testing.F) {
	for _, s := range w3cTextSeeds {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, keep bool) {
		if got, want := string(appendW3CText([]byte("x"), s, keep)), string(appendW3CTextRef([]byte("x"), s, keep)); got != want {
			t.Errorf("appendW3CText(%q, %v) = %q, want %q", s, keep, got, want)
		}
	})
}

// TestW3CTimeMatchesFormat (issue 12): the line's date and time are
// written by hand exactly as time's "2006-01-02 15:04:05" layout writes
// them, in UTC.
func TestW3CTimeMatchesFormat(t *testing.T) {
	times := []time.Time{time.Unix(0, 0), time.Date(2026, 12, 6, 4, 5, 6, 7, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(999, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 3, 29, 1, 30, 0, 0, time.FixedZone("X", 5*3600+1800)), {}}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		times = append(times, time.Unix(rng.Int64N(1<<36)-1<<34, rng.Int64N(1e9)))
	}
	for _, tm := range times {
		if got, want := string(appendW3CTime(nil, tm)), tm.UTC().Format("2006-01-02 15:04:05"); got != want {
			t.Fatalf("appendW3CTime(%v) = %q, want %q", tm, got, want)
		}
	}
}
