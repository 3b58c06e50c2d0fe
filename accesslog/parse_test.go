package accesslog

import (
	"errors"
	"strings"
	"testing"
)

func TestParseW3CDirectives(t *testing.T) {
	in := "#Software: x\r\n#Version: 1.0\r\n#Fields: date cs-method sc-status\r\n" +
		"2026-01-01 GET 200\r\n\r\n" +
		"#Fields: c-ip time-taken\n10.0.0.1 15\n10.0.0.2 16"
	recs, err := ParseW3C(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Fatalf("got %d records: %v", len(recs), recs)
	}
	if recs[0]["cs-method"] != "GET" || recs[0]["sc-status"] != "200" || len(recs[0]) != 3 {
		t.Errorf("record 0 = %v", recs[0])
	}
	if recs[1]["c-ip"] != "10.0.0.1" || recs[2]["time-taken"] != "16" || len(recs[2]) != 2 {
		t.Errorf("records 1, 2 = %v, %v", recs[1], recs[2])
	}
}

func TestParseW3CErrors(t *testing.T) {
	if _, err := ParseW3C(strings.NewReader("2026-01-01 GET 200\n")); !errors.Is(err, ErrNoFields) {
		t.Errorf("line before #Fields: error = %v, want ErrNoFields", err)
	}
	recs, err := ParseW3C(strings.NewReader("#Fields: a b\n1 2\n1 2 3\n"))
	if !errors.Is(err, ErrFieldCount) || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("extra value: error = %v, want ErrFieldCount at line 3", err)
	}
	if len(recs) != 1 {
		t.Errorf("records before the error = %v", recs)
	}
	if recs, err := ParseW3C(strings.NewReader("")); err != nil || len(recs) != 0 {
		t.Errorf("empty input: %v, %v", recs, err)
	}
}
