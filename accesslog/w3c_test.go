package accesslog

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestW3CLineValues(t *testing.T) {
	e := sampleEntry()
	log := appendW3CHeader(nil, "poolctl 1.2.3", e.Time)
	log = appendW3C(log, e, e.Time)
	recs, err := ParseW3C(bytes.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 {
		t.Fatalf("got %d records, want 1:\n%s", len(recs), log)
	}
	want := map[string]string{
		"date": "2026-11-21", "time": "18:00:01", "s-ip": "127.0.0.1",
		"cs-method": "GET", "cs-uri-stem": "/shop/cart.aspx", "cs-uri-query": "id=7&x=%20y",
		"s-port": "8080", "cs-username": "alice", "c-ip": "10.0.0.9",
		"cs(User-Agent)": "Mozilla/5.0+(X11;+Linux+x86_64)", "cs(Referer)": "https://example.test/",
		"sc-status": "503", "sc-substatus": "2", "sc-win32-status": "64", "time-taken": "1234",
	}
	if len(recs[0]) != len(want) {
		t.Errorf("record has %d fields, want %d: %v", len(recs[0]), len(want), recs[0])
	}
	for k, v := range want {
		if recs[0][k] != v {
			t.Errorf("%s = %q, want %q", k, recs[0][k], v)
		}
	}
}

func TestW3CEmptyFieldsAndLocalTime(t *testing.T) {
	loc := time.FixedZone("UTC+2", 2*3600)
	e := &Entry{Method: "GET", URIStem: "/", Status: 200, ServerPort: 80}
	line := string(appendW3C(nil, e, time.Date(2026, 1, 1, 1, 30, 0, 0, loc)))
	want := "2025-12-31 23:30:00 - GET / - 80 - - - - 200 0 0 0\n"
	if line != want {
		t.Errorf("line = %q, want %q", line, want)
	}
}

func TestW3CInjectionIsOneLine(t *testing.T) {
	e := sampleEntry()
	e.URIStem = "/a b\r\n2026-01-01 00:00:00 1.2.3.4 GET /evil - 80 - - - - 200 0 0 0"
	e.URIQuery = "q=1\n#Fields: x"
	e.UserAgent = "evil\r\nagent\twith\x00nul\x7fdel\u0085nel\u2028ls"
	e.Referer = "\xff\xfe bad utf8"
	e.Username = " "
	line := appendW3C(nil, e, e.Time)
	if n := bytes.Count(line, []byte{'\n'}); n != 1 || line[len(line)-1] != '\n' {
		t.Fatalf("line has %d newlines: %q", n, line)
	}
	if bytes.ContainsAny(line, "\r\t\x00\x7f") || bytes.Contains(line, []byte("\u0085")) || bytes.Contains(line, []byte("\u2028")) {
		t.Errorf("control character left in %q", line)
	}
	recs, err := ParseW3C(bytes.NewReader(append([]byte(w3cFieldsDirective), line...)))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 {
		t.Fatalf("got %d records, want 1", len(recs))
	}
	r := recs[0]
	for k, want := range map[string]string{
		"cs-uri-stem":    "/a+b++2026-01-01+00:00:00+1.2.3.4+GET+/evil+-+80+-+-+-+-+200+0+0+0",
		"cs-uri-query":   "q=1+#Fields:+x",
		"cs(User-Agent)": "evil++agent+with+nul+del+nel+ls",
		"cs(Referer)":    "+++bad+utf8",
		"cs-username":    "+",
		"sc-status":      "503",
	} {
		if r[k] != want {
			t.Errorf("%s = %q, want %q", k, r[k], want)
		}
	}
}

func TestW3CKeepsUnicode(t *testing.T) {
	got := string(appendW3CValue(nil, "/café/日本"))
	if got != "/café/日本" {
		t.Errorf("got %q", got)
	}
}

func TestW3CHeader(t *testing.T) {
	h := string(appendW3CHeader(nil, "poolctl 1.2.3\nx", time.Date(2026, 11, 21, 19, 0, 0, 0, time.FixedZone("X", 3600))))
	want := "#Software: poolctl 1.2.3+x\n#Version: 1.0\n#Date: 2026-11-21 18:00:00\n" +
		"#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\n"
	if h != want {
		t.Errorf("header =\n%s\nwant\n%s", h, want)
	}
	if strings.Count(h, "\n") != 4 {
		t.Errorf("header is not 4 lines")
	}
}
