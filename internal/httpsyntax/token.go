// Package httpsyntax holds the HTTP/1.1 grammar pieces that the front's
// request parser (internal/http1) and the forwarder's response parser
// (forward) share: tokens and comma-separated token lists (RFC 9110 §5.6).
package httpsyntax

import "strings"

// tokenChars is the tchar set of RFC 9110 §5.6.2.
var tokenChars = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// IsTokenChar reports whether c may appear in a token.
func IsTokenChar(c byte) bool { return tokenChars[c] }

// ValidToken reports whether s is a non-empty token.
func ValidToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tokenChars[s[i]] {
			return false
		}
	}
	return true
}

// ForEachToken calls f with each comma-separated, space- and tab-trimmed,
// non-empty element of the values vv, until f returns false.
func ForEachToken(vv []string, f func(tok string) bool) {
	for _, v := range vv {
		for v != "" {
			tok, rest, _ := strings.Cut(v, ",")
			v = rest
			if tok = strings.Trim(tok, " \t"); tok != "" && !f(tok) {
				return
			}
		}
	}
}

// HasToken reports whether the comma-separated values vv hold tok,
// compared case-insensitively.
func HasToken(vv []string, tok string) bool {
	found := false
	ForEachToken(vv, func(t string) bool {
		found = strings.EqualFold(t, tok)
		return !found
	})
	return found
}
