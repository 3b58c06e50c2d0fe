package accesslog

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// w3cFields are the fields of every W3C line, in order: IIS's default set.
var w3cFields = []string{
	"date", "time", "s-ip", "cs-method", "cs-uri-stem", "cs-uri-query",
	"s-port", "cs-username", "c-ip", "cs(User-Agent)", "cs(Referer)",
	"sc-status", "sc-substatus", "sc-win32-status", "time-taken",
}

// w3cFieldsDirective is the #Fields line written at the start of each file.
var w3cFieldsDirective = "#Fields: " + strings.Join(w3cFields, " ") + "\n"

// appendW3CHeader appends the directives that start a W3C log file begun at
// started: #Software, #Version, #Date (UTC) and #Fields.
func appendW3CHeader(b []byte, software string, started time.Time) []byte {
	b = append(b, "#Software: "...)
	b = appendW3CText(b, software, true)
	b = append(b, "\n#Version: 1.0\n#Date: "...)
	b = started.UTC().AppendFormat(b, "2006-01-02 15:04:05")
	b = append(b, '\n')
	return append(b, w3cFieldsDirective...)
}

// appendW3C appends e as one W3C line, newline included, with t as its time.
func appendW3C(b []byte, e *Entry, t time.Time) []byte {
	b = appendW3CTime(b, t)
	b = append(b, ' ')
	b = appendW3CValue(b, e.ServerIP)
	b = append(b, ' ')
	b = appendW3CValue(b, e.Method)
	b = append(b, ' ')
	b = appendW3CValue(b, e.URIStem)
	b = append(b, ' ')
	b = appendW3CValue(b, e.URIQuery)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(e.ServerPort), 10)
	b = append(b, ' ')
	b = appendW3CValue(b, e.Username)
	b = append(b, ' ')
	b = appendW3CValue(b, e.ClientIP)
	b = append(b, ' ')
	b = appendW3CValue(b, e.UserAgent)
	b = append(b, ' ')
	b = appendW3CValue(b, e.Referer)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(e.Status), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(e.SubStatus), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(e.Win32Status), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, max(e.TimeTaken.Milliseconds(), 0), 10)
	return append(b, '\n')
}

// appendW3CValue appends s as one W3C field: "-" when empty, and with every
// byte that could split the field or the line replaced by '+': space, ASCII
// control characters (below 0x20 and 0x7f), Unicode control characters
// (U+0080 to U+009F), the Unicode line and paragraph separators, and every
// byte that is not part of valid UTF-8.
func appendW3CValue(b []byte, s string) []byte {
	if s == "" {
		return append(b, '-')
	}
	return appendW3CText(b, s, false)
}

// appendW3CTime appends t in UTC as "2006-01-02 15:04:05" (the date and
// time fields), without the layout interpreter of time.AppendFormat.
func appendW3CTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, "2006-01-02 15:04:05")
	}
	hour, minute, sec := t.Clock()
	return append(b, byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+int(month)/10), byte('0'+int(month)%10), '-', byte('0'+day/10), byte('0'+day%10), ' ',
		byte('0'+hour/10), byte('0'+hour%10), ':', byte('0'+minute/10), byte('0'+minute%10), ':',
		byte('0'+sec/10), byte('0'+sec%10))
}

// w3cPlain marks the bytes appendW3CText copies as they are: printable
// ASCII other than space.
var w3cPlain = func() (t [256]bool) {
	for c := '!'; c < 0x7f; c++ {
		t[c] = true
	}
	return t
}()

// appendW3CText appends s with the replacements of appendW3CValue, except
// that spaces are kept when keepSpace is set (for directive values, which
// run to the end of the line). Runs of plain bytes are copied at once.
func appendW3CText(b []byte, s string, keepSpace bool) []byte {
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && (w3cPlain[s[j]] || keepSpace && s[j] == ' ') {
			j++
		}
		if j > i {
			b = append(b, s[i:j]...)
			if i = j; i == len(s) {
				break
			}
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c < ' ' || c == 0x7f || c == ' ' && !keepSpace {
				c = '+'
			}
			b = append(b, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || r >= 0x80 && r <= 0x9f || r == '\u2028' || r == '\u2029' {
			b = append(b, '+')
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return b
}
