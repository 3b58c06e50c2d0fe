package http1

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

// hostChars are the bytes a Host value may hold (RFC 3986 reg-name,
// IP literals and a port).
var hostChars = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!$%&'()*+,-.:;=[]_~" {
		t[c] = true
	}
	return t
}()

// validToken reports whether s is a non-empty token.
func validToken(s string) bool {
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

// validHost reports whether a Host value has only host bytes (it may be
// empty).
func validHost(s string) bool {
	for i := 0; i < len(s); i++ {
		if !hostChars[s[i]] {
			return false
		}
	}
	return true
}

// forEachToken calls f with each comma-separated, trimmed, non-empty
// element of vv until f returns false.
func forEachToken(vv []string, f func(tok string) bool) {
	for _, v := range vv {
		for v != "" {
			tok, rest, _ := strings.Cut(v, ",")
			v = rest
			if tok = trimOWS(tok); tok != "" && !f(tok) {
				return
			}
		}
	}
}

// hasToken reports whether the comma-separated values vv hold tok (case
// insensitive).
func hasToken(vv []string, tok string) bool {
	found := false
	forEachToken(vv, func(t string) bool {
		found = strings.EqualFold(t, tok)
		return !found
	})
	return found
}
