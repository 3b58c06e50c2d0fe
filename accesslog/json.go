package accesslog

import (
	"strconv"
	"time"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// appendJSON appends e as one JSON object and a newline, with t as its time.
// The keys are always present and in the same order, except reason, which
// is left out when empty.
func appendJSON(b []byte, e *Entry, t time.Time) []byte {
	b = append(b, `{"time":"`...)
	b = t.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	b = append(b, `","site":`...)
	b = appendJSONString(b, e.Site)
	b = append(b, `,"pool":`...)
	b = appendJSONString(b, e.Pool)
	b = append(b, `,"s_ip":`...)
	b = appendJSONString(b, e.ServerIP)
	b = append(b, `,"s_port":`...)
	b = strconv.AppendInt(b, int64(e.ServerPort), 10)
	b = append(b, `,"method":`...)
	b = appendJSONString(b, e.Method)
	b = append(b, `,"uri_stem":`...)
	b = appendJSONString(b, e.URIStem)
	b = append(b, `,"uri_query":`...)
	b = appendJSONString(b, e.URIQuery)
	b = append(b, `,"username":`...)
	b = appendJSONString(b, e.Username)
	b = append(b, `,"c_ip":`...)
	b = appendJSONString(b, e.ClientIP)
	b = append(b, `,"user_agent":`...)
	b = appendJSONString(b, e.UserAgent)
	b = append(b, `,"referer":`...)
	b = appendJSONString(b, e.Referer)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(e.Status), 10)
	b = append(b, `,"substatus":`...)
	b = strconv.AppendInt(b, int64(e.SubStatus), 10)
	b = append(b, `,"win32_status":`...)
	b = strconv.AppendInt(b, int64(e.Win32Status), 10)
	b = append(b, `,"time_taken_ms":`...)
	b = strconv.AppendFloat(b, float64(max(e.TimeTaken.Microseconds(), 0))/1000, 'f', 3, 64)
	b = append(b, `,"bytes_sent":`...)
	b = strconv.AppendInt(b, e.BytesSent, 10)
	b = append(b, `,"bytes_received":`...)
	b = strconv.AppendInt(b, e.BytesReceived, 10)
	if e.Reason != "" {
		b = append(b, `,"reason":`...)
		b = appendJSONString(b, e.Reason)
	}
	return append(b, "}\n"...)
}

// appendJSONString appends s as a quoted JSON string. Like encoding/json it
// escapes '"', '\\', control characters and U+2028/U+2029, and replaces each
// byte that is not valid UTF-8 with U+FFFD, so the result always decodes.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= ' ' && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += n
			continue
		}
		i += n
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
