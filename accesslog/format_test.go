package accesslog

import (
	"errors"
	"testing"
)

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"W3C": W3C, "w3c": W3C, "json": JSON, "Json": JSON, "JSON": JSON} {
		got, err := ParseFormat(in)
		if err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "iis", "ncsa", "w3c "} {
		if _, err := ParseFormat(in); !errors.Is(err, ErrUnknownFormat) {
			t.Errorf("ParseFormat(%q) error = %v, want ErrUnknownFormat", in, err)
		}
	}
}
