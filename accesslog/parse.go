package accesslog

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Errors ParseW3C wraps.
var (
	// ErrNoFields is returned for a request line before any #Fields directive.
	ErrNoFields = errors.New("request line before any #Fields directive")
	// ErrFieldCount is returned for a request line whose number of values
	// differs from the number of fields its #Fields directive names.
	ErrFieldCount = errors.New("wrong number of values")
)

// ParseW3C reads a W3C extended log (as written by Log), following its
// #Fields directive(s), and returns one map per request line keyed by field
// name ("sc-status", "time-taken", ...). Values are as written: "-" for an
// empty field and '+' where the value had a space or control character.
// Other directives (#Software, #Version, #Date) and blank lines are skipped;
// a later #Fields directive applies to the lines after it.
func ParseW3C(r io.Reader) ([]map[string]string, error) {
	br := bufio.NewReader(r)
	var (
		fields []string
		out    []map[string]string
	)
	for lineNo := 1; ; lineNo++ {
		line, err := br.ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return out, fmt.Errorf("w3c log line %d: %w", lineNo, err)
		}
		if line == "" && err != nil {
			return out, nil
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case strings.HasPrefix(line, "#Fields:"):
			fields = strings.Fields(strings.TrimPrefix(line, "#Fields:"))
		case strings.HasPrefix(line, "#"), strings.TrimSpace(line) == "":
		default:
			rec, perr := parseW3CLine(line, fields)
			if perr != nil {
				return out, fmt.Errorf("w3c log line %d: %w", lineNo, perr)
			}
			out = append(out, rec)
		}
		if err != nil {
			return out, nil
		}
	}
}

// parseW3CLine splits one request line on single spaces and names its
// values after fields.
func parseW3CLine(line string, fields []string) (map[string]string, error) {
	if fields == nil {
		return nil, ErrNoFields
	}
	values := strings.Split(line, " ")
	if len(values) != len(fields) {
		return nil, fmt.Errorf("%w: %d values for %d fields", ErrFieldCount, len(values), len(fields))
	}
	rec := make(map[string]string, len(fields))
	for i, f := range fields {
		rec[f] = values[i]
	}
	return rec, nil
}
