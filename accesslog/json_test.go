package accesslog

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// jsonLine is the shape of a JSON access log line, for decoding in tests.
type jsonLine struct {
	Time          string  `json:"time"`
	Site          string  `json:"site"`
	Pool          string  `json:"pool"`
	SIP           string  `json:"s_ip"`
	SPort         int     `json:"s_port"`
	Method        string  `json:"method"`
	URIStem       string  `json:"uri_stem"`
	URIQuery      string  `json:"uri_query"`
	Username      string  `json:"username"`
	CIP           string  `json:"c_ip"`
	UserAgent     string  `json:"user_agent"`
	Referer       string  `json:"referer"`
	Status        int     `json:"status"`
	SubStatus     int     `json:"substatus"`
	Win32Status   int     `json:"win32_status"`
	TimeTakenMS   float64 `json:"time_taken_ms"`
	BytesSent     int64   `json:"bytes_sent"`
	BytesReceived int64   `json:"bytes_received"`
	Reason        *string `json:"reason"`
}

func decodeJSONLine(t *testing.T, line []byte) jsonLine {
	t.Helper()
	if bytes.Count(line, []byte{'\n'}) != 1 || line[len(line)-1] != '\n' {
		t.Fatalf("not exactly one line: %q", line)
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	var j jsonLine
	if err := dec.Decode(&j); err != nil {
		t.Fatalf("decode %q: %v", line, err)
	}
	return j
}

func TestJSONLineValues(t *testing.T) {
	e := sampleEntry()
	line := appendJSON(nil, e, e.Time.In(time.FixedZone("X", -5*3600)))
	j := decodeJSONLine(t, line)
	want := jsonLine{
		Time: "2026-11-21T18:00:01.234Z", Site: "Default Web Site", Pool: "Shop",
		SIP: "127.0.0.1", SPort: 8080, Method: "GET", URIStem: "/shop/cart.aspx",
		URIQuery: "id=7&x=%20y", Username: "alice", CIP: "10.0.0.9",
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64)", Referer: "https://example.test/",
		Status: 503, SubStatus: 2, Win32Status: 64, TimeTakenMS: 1234.567,
		BytesSent: 4321, BytesReceived: 99,
	}
	if j.Reason == nil || *j.Reason != "QueueFull" {
		t.Errorf("reason = %v, want QueueFull", j.Reason)
	}
	j.Reason = nil
	if j != want {
		t.Errorf("decoded\n%+v\nwant\n%+v", j, want)
	}
	wantKeys := `{"time":"2026-11-21T18:00:01.234Z","site":"Default Web Site","pool":"Shop","s_ip":"127.0.0.1","s_port":8080,` +
		`"method":"GET","uri_stem":"/shop/cart.aspx","uri_query":"id=7&x=%20y","username":"alice","c_ip":"10.0.0.9",` +
		`"user_agent":"Mozilla/5.0 (X11; Linux x86_64)","referer":"https://example.test/","status":503,"substatus":2,` +
		`"win32_status":64,"time_taken_ms":1234.567,"bytes_sent":4321,"bytes_received":99,"reason":"QueueFull"}` + "\n"
	if string(line) != wantKeys {
		t.Errorf("line =\n%s\nwant\n%s", line, wantKeys)
	}
}

func TestJSONReasonOmitted(t *testing.T) {
	e := sampleEntry()
	e.Reason = ""
	line := appendJSON(nil, e, e.Time)
	if strings.Contains(string(line), "reason") {
		t.Errorf("empty reason written: %s", line)
	}
	if j := decodeJSONLine(t, line); j.Reason != nil {
		t.Errorf("reason = %q", *j.Reason)
	}
}

func TestJSONEscapingMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{
		"", "plain", `quote " backslash \ slash /`, "line\r\nbreak\ttab\x00\x01\x1f\x7f",
		"\xff\xfeinvalid\xc3", "café 日本 \U0001F600", "\u2028\u2029", "<script>&amp;",
		"\xed\xa0\x80 surrogate", "trunc\xe6\x97",
	} {
		e := sampleEntry()
		e.UserAgent, e.Referer, e.URIStem = s, s, s
		j := decodeJSONLine(t, appendJSON(nil, e, e.Time))
		ref, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var want string
		if err := json.Unmarshal(ref, &want); err != nil {
			t.Fatal(err)
		}
		if j.UserAgent != want || j.Referer != want || j.URIStem != want {
			t.Errorf("%q decoded as %q, encoding/json gives %q", s, j.UserAgent, want)
		}
	}
}

func TestJSONTimeTaken(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                           `"time_taken_ms":0.000,`,
		time.Microsecond:            `"time_taken_ms":0.001,`,
		1500 * time.Nanosecond:      `"time_taken_ms":0.001,`,
		-time.Second:                `"time_taken_ms":0.000,`,
		90 * time.Second:            `"time_taken_ms":90000.000,`,
		12345678 * time.Microsecond: `"time_taken_ms":12345.678,`,
	} {
		e := sampleEntry()
		e.TimeTaken = d
		if line := string(appendJSON(nil, e, e.Time)); !strings.Contains(line, want) {
			t.Errorf("%v: %s lacks %s", d, line, want)
		}
	}
}
