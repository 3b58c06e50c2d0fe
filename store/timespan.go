package store

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// TimeSpan is a duration with the .NET TimeSpan text form IIS uses,
// "[d.]hh:mm:ss[.fffffff]". It parses that form and Go durations ("90s",
// "20m", "29h"), and always prints the canonical form, so 29h prints as
// "1.05:00:00". Equal durations compare equal whatever their spelling.
type TimeSpan time.Duration

// ErrTimeSpan marks text that is not a time span.
var ErrTimeSpan = errors.New(`expected [d.]hh:mm:ss (for example 00:20:00 or 1.05:00:00) or a Go duration (90s, 20m, 29h)`)

// maxTimeSpan bounds parsed spans well inside time.Duration (about 290 years).
const maxTimeSpan = TimeSpan(100 * 365 * 24 * time.Hour)

// Duration returns the span as a time.Duration.
func (t TimeSpan) Duration() time.Duration { return time.Duration(t) }

// Seconds returns the span in whole seconds, rounded down.
func (t TimeSpan) Seconds() uint64 { return uint64(time.Duration(t) / time.Second) }

// String returns the canonical "[d.]hh:mm:ss[.fffffff]" form.
func (t TimeSpan) String() string {
	d := time.Duration(t)
	neg := d < 0
	if neg {
		d = -d
	}
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	h := d / time.Hour
	d -= h * time.Hour
	m := d / time.Minute
	d -= m * time.Minute
	s := d / time.Second
	frac := d - s*time.Second
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	if days > 0 {
		fmt.Fprintf(&b, "%d.", days)
	}
	fmt.Fprintf(&b, "%02d:%02d:%02d", h, m, s)
	if frac > 0 {
		// .NET prints ticks (100 ns) as seven digits.
		fmt.Fprintf(&b, ".%07d", frac/100)
	}
	return b.String()
}

// MarshalText implements encoding.TextMarshaler with the canonical form.
func (t TimeSpan) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParseTimeSpan.
func (t *TimeSpan) UnmarshalText(b []byte) error {
	v, err := ParseTimeSpan(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// ParseTimeSpan parses "[d.]hh:mm:ss[.fffffff]" (hours may exceed 23, as in
// IIS's "29:00:00"), "mm:ss" is not accepted, or a Go duration such as "90s".
// Negative spans are rejected: no pool setting takes one.
func ParseTimeSpan(s string) (TimeSpan, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty time span: %w", ErrTimeSpan)
	}
	if !strings.Contains(s, ":") {
		d, err := time.ParseDuration(s)
		if err != nil {
			if n, nerr := strconv.ParseUint(s, 10, 64); nerr == nil && n == 0 {
				return 0, nil // a bare 0 means "off" everywhere a span can be 0
			}
			return 0, fmt.Errorf("%q: %w", s, ErrTimeSpan)
		}
		if d < 0 {
			return 0, fmt.Errorf("%q is negative: %w", s, ErrTimeSpan)
		}
		if TimeSpan(d) > maxTimeSpan {
			return 0, fmt.Errorf("%q is longer than 100 years: %w", s, ErrTimeSpan)
		}
		if d%100 != 0 {
			// The text form holds ticks (100 ns), as .NET's does.
			return 0, fmt.Errorf("%q is finer than 100ns: %w", s, ErrTimeSpan)
		}
		return TimeSpan(d), nil
	}
	return parseClock(s)
}

func parseClock(s string) (TimeSpan, error) {
	bad := func() (TimeSpan, error) { return 0, fmt.Errorf("%q: %w", s, ErrTimeSpan) }
	var days uint64
	rest := s
	// A day part is "d." before the first colon.
	if dot := strings.IndexByte(rest, '.'); dot >= 0 && dot < strings.IndexByte(rest, ':') {
		n, ok := digits(rest[:dot], 7)
		if !ok {
			return bad()
		}
		days, rest = n, rest[dot+1:]
	}
	parts := strings.Split(rest, ":")
	if len(parts) != 3 {
		return bad()
	}
	h, ok1 := digits(parts[0], 9)
	m, ok2 := digits(parts[1], 2)
	secPart, fracPart, hasFrac := strings.Cut(parts[2], ".")
	sec, ok3 := digits(secPart, 2)
	if !ok1 || !ok2 || !ok3 || m > 59 || sec > 59 {
		return bad()
	}
	var frac uint64
	if hasFrac {
		if len(fracPart) == 0 || len(fracPart) > 7 {
			return bad()
		}
		f, ok := digits(fracPart, 7)
		if !ok {
			return bad()
		}
		for i := len(fracPart); i < 7; i++ {
			f *= 10
		}
		frac = f * 100 // ticks to nanoseconds
	}
	if days > 0 && h > 23 {
		return bad()
	}
	total := (days*24+h)*3600 + m*60 + sec
	if total > uint64(maxTimeSpan/TimeSpan(time.Second)) {
		return 0, fmt.Errorf("%q is longer than 100 years: %w", s, ErrTimeSpan)
	}
	return TimeSpan(time.Duration(total)*time.Second + time.Duration(frac)), nil
}

// digits parses a non-empty run of at most max ASCII digits.
func digits(s string, max int) (uint64, bool) {
	if s == "" || len(s) > max {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}
