package commands

import "strings"

// shellQuote returns s as it must be typed in a POSIX shell to reach
// poolctl unchanged: as is when every byte is safe, else in single quotes
// (a filter's '$>' would be a redirection, a selector's quotes would go).
func shellQuote(s string) string {
	safe := s != ""
	for i := 0; i < len(s) && safe; i++ {
		c := s[i]
		safe = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("/:._,=+-@%", c) >= 0
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
