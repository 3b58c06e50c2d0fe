package accesslog

import (
	"errors"
	"fmt"
	"strings"
)

// Format is the layout of an access log's lines.
type Format string

// The access log formats.
const (
	// W3C is IIS's W3C extended log file format with its default fields.
	W3C Format = "W3C"
	// JSON is one JSON object per line.
	JSON Format = "JSON"
)

// ErrUnknownFormat is returned for a format name that is neither W3C nor JSON.
var ErrUnknownFormat = errors.New("unknown access log format")

// ParseFormat returns the Format named s, ignoring case ("w3c", "Json").
func ParseFormat(s string) (Format, error) {
	switch {
	case strings.EqualFold(s, string(W3C)):
		return W3C, nil
	case strings.EqualFold(s, string(JSON)):
		return JSON, nil
	}
	return "", fmt.Errorf("%w %q (want W3C or JSON)", ErrUnknownFormat, s)
}
