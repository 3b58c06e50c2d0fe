package store

import (
	"errors"
	"testing"
	"time"
)

func TestParseTimeSpan(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		text string // canonical String of the result
	}{
		{"00:20:00", 20 * time.Minute, "00:20:00"},
		{"0:0:0", 0, "00:00:00"},
		{"0", 0, "00:00:00"},
		{"00", 0, "00:00:00"},
		{"  00:00:30  ", 30 * time.Second, "00:00:30"},
		{"29:00:00", 29 * time.Hour, "1.05:00:00"},
		{"1.05:00:00", 29 * time.Hour, "1.05:00:00"},
		{"29h", 29 * time.Hour, "1.05:00:00"},
		{"90s", 90 * time.Second, "00:01:30"},
		{"20m", 20 * time.Minute, "00:20:00"},
		{"1h30m", 90 * time.Minute, "01:30:00"},
		{"0s", 0, "00:00:00"},
		{"1.5s", 1500 * time.Millisecond, "00:00:01.5000000"},
		{"00:00:01.5", 1500 * time.Millisecond, "00:00:01.5000000"},
		{"00:00:00.0000001", 100, "00:00:00.0000001"},
		{"100ns", 100, "00:00:00.0000001"},
		{"1.0000001s", time.Second + 100, "00:00:01.0000001"},
		{"00:00:00.1234567", 123456700, "00:00:00.1234567"},
		{"00:00:00.0000000", 0, "00:00:00"},
		{"30.00:00:00", 30 * 24 * time.Hour, "30.00:00:00"},
		{"0.23:59:59", 24*time.Hour - time.Second, "23:59:59"},
		{"100:00:00", 100 * time.Hour, "4.04:00:00"},
		{"36500.00:00:00", 36500 * 24 * time.Hour, "36500.00:00:00"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTimeSpan(tt.in)
			if err != nil {
				t.Fatalf("ParseTimeSpan(%q): %v", tt.in, err)
			}
			if got.Duration() != tt.want {
				t.Errorf("ParseTimeSpan(%q) = %v, want %v", tt.in, got.Duration(), tt.want)
			}
			if s := got.String(); s != tt.text {
				t.Errorf("String() = %q, want %q", s, tt.text)
			}
		})
	}
}

func TestParseTimeSpanErrors(t *testing.T) {
	tests := []string{
		"",
		"   ",
		"abc",
		"-5s",
		"-1h",
		"5",           // a bare number other than 0 has no unit
		"10:00",       // mm:ss is not accepted
		"00:00:00:00", // too many parts
		"00:60:00",    // minutes > 59
		"00:00:60",    // seconds > 59
		"1.24:00:00",  // hours > 23 with a day part
		"00:000:00",   // three minute digits
		"00:00:000",   // three second digits
		"00:00:00.",   // empty fraction
		"00:00:00.12345678",
		"00:00:00.1x",
		".00:00:00",  // empty day part
		"x.00:00:00", // day part not digits
		"12345678.00:00:00",
		"1.2.00:00:00",
		"-00:00:01",
		"+00:00:01",
		"00:-1:00",
		"1h:00:00",
		"00: 01:00",
		"36501.00:00:00", // longer than 100 years
		"876601:00:00",   // 100 years and one hour, as hours
		"1000000h",       // a Go duration longer than 100 years
		"1ns",            // finer than a tick (100 ns)
		"1.00000005s",
	}
	for _, in := range tests {
		t.Run(in, func(t *testing.T) {
			got, err := ParseTimeSpan(in)
			if err == nil {
				t.Fatalf("ParseTimeSpan(%q) = %v, want an error", in, got)
			}
			if !errors.Is(err, ErrTimeSpan) {
				t.Errorf("ParseTimeSpan(%q): error %v does not wrap ErrTimeSpan", in, err)
			}
		})
	}
}

func TestTimeSpanString(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "00:00:00"},
		{time.Second, "00:00:01"},
		{59*time.Minute + 59*time.Second, "00:59:59"},
		{24 * time.Hour, "1.00:00:00"},
		{25*time.Hour + time.Minute + time.Second, "1.01:01:01"},
		{10 * 24 * time.Hour, "10.00:00:00"},
		{time.Millisecond, "00:00:00.0010000"},
		{100 * time.Nanosecond, "00:00:00.0000001"}, // a tick is 100 ns
		{-90 * time.Second, "-00:01:30"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := TimeSpan(tt.d).String(); got != tt.want {
				t.Errorf("TimeSpan(%v).String() = %q, want %q", tt.d, got, tt.want)
			}
		})
	}
}

func TestTimeSpanText(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"29h", "1.05:00:00"},
		{"00:05:00", "00:05:00"},
		{"1.5s", "00:00:01.5000000"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var ts TimeSpan
			if err := ts.UnmarshalText([]byte(tt.in)); err != nil {
				t.Fatalf("UnmarshalText(%q): %v", tt.in, err)
			}
			b, err := ts.MarshalText()
			if err != nil {
				t.Fatalf("MarshalText: %v", err)
			}
			if string(b) != tt.want {
				t.Errorf("MarshalText = %q, want %q", b, tt.want)
			}
		})
	}
	t.Run("error keeps the value", func(t *testing.T) {
		ts := TimeSpan(time.Minute)
		if err := ts.UnmarshalText([]byte("nope")); !errors.Is(err, ErrTimeSpan) {
			t.Fatalf("UnmarshalText(nope) = %v, want ErrTimeSpan", err)
		}
		if ts != TimeSpan(time.Minute) {
			t.Errorf("value changed to %v on error", ts)
		}
	})
}

func TestTimeSpanSeconds(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want uint64
	}{
		{0, 0},
		{999 * time.Millisecond, 0},
		{time.Second, 1},
		{90*time.Second + 500*time.Millisecond, 90},
		{29 * time.Hour, 104400},
	}
	for _, tt := range tests {
		t.Run(tt.d.String(), func(t *testing.T) {
			if got := TimeSpan(tt.d).Seconds(); got != tt.want {
				t.Errorf("Seconds() = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestTimeSpanEqualSpellings checks that different spellings of one span
// compare equal, so setting the same value again is a no-op.
func TestTimeSpanEqualSpellings(t *testing.T) {
	groups := [][]string{
		{"29:00:00", "1.05:00:00", "29h", "1740m", "104400s"},
		{"00:00:30", "30s", "0:0:30", "0.00:00:30"},
		{"0", "0s", "00:00:00", "0.00:00:00.0000000"},
	}
	for _, g := range groups {
		t.Run(g[0], func(t *testing.T) {
			first, err := ParseTimeSpan(g[0])
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range g[1:] {
				ts, err := ParseTimeSpan(s)
				if err != nil {
					t.Fatalf("ParseTimeSpan(%q): %v", s, err)
				}
				if ts != first {
					t.Errorf("ParseTimeSpan(%q) = %v, want %v as for %q", s, ts, first, g[0])
				}
			}
		})
	}
}
