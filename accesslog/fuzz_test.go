package accesslog

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// fuzzEntry builds an Entry whose strings all come from the fuzzer.
func fuzzEntry(ip, method, stem, query, user, agent, referer string, port, status int) *Entry {
	return &Entry{
		ServerIP: ip, ServerPort: port, Method: method, URIStem: stem, URIQuery: query,
		Username: user, ClientIP: ip, UserAgent: agent, Referer: referer, Status: status,
		Site: stem, Pool: method, Reason: query,
	}
}

func addSeeds(f *testing.F) {
	f.Add("127.0.0.1", "GET", "/", "", "", "Mozilla/5.0 (X11)", "", 80, 200)
	f.Add("::1", "POST", "/a b\r\n#Fields: x", "q=1\n2", " ", "\x00\x7f\u0085\u2028", "\xff", -1, 999)
	f.Add("", "", "", "", "", "", "", 0, 0)
	f.Add("-", "\t", "\"\\", "+", "#", "é", "\xed\xa0\x80", 65535, -5)
}

func FuzzW3CLine(f *testing.F) {
	addSeeds(f)
	t0 := time.Date(2026, 11, 21, 18, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, ip, method, stem, query, user, agent, referer string, port, status int) {
		e := fuzzEntry(ip, method, stem, query, user, agent, referer, port, status)
		line := appendW3C(nil, e, t0)
		if bytes.IndexByte(line, '\n') != len(line)-1 || bytes.IndexByte(line, '\r') >= 0 {
			t.Fatalf("not exactly one line: %q", line)
		}
		recs, err := ParseW3C(bytes.NewReader(append([]byte(w3cFieldsDirective), line...)))
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if len(recs) != 1 || len(recs[0]) != len(w3cFields) {
			t.Fatalf("%q read back as %v", line, recs)
		}
		for _, name := range []string{"cs-method", "cs-uri-stem", "cs-uri-query", "cs-username", "cs(User-Agent)", "cs(Referer)"} {
			if recs[0][name] == "" {
				t.Errorf("%s is empty in %q", name, line)
			}
		}
	})
}

func FuzzJSONLine(f *testing.F) {
	addSeeds(f)
	t0 := time.Date(2026, 11, 21, 18, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, ip, method, stem, query, user, agent, referer string, port, status int) {
		e := fuzzEntry(ip, method, stem, query, user, agent, referer, port, status)
		line := appendJSON(nil, e, t0)
		if bytes.IndexByte(line, '\n') != len(line)-1 {
			t.Fatalf("not exactly one line: %q", line)
		}
		var got map[string]any
		if err := json.Unmarshal(line, &got); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		want := func(s string) string {
			b, _ := json.Marshal(s)
			var v string
			_ = json.Unmarshal(b, &v)
			return v
		}
		for key, s := range map[string]string{"uri_stem": stem, "user_agent": agent, "referer": referer, "method": method} {
			if got[key] != want(s) {
				t.Errorf("%s = %q, want %q", key, got[key], want(s))
			}
		}
	})
}
