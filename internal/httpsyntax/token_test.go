package httpsyntax

import "testing"

func TestValidToken(t *testing.T) {
	for s, want := range map[string]bool{
		"": false, "GET": true, "X-Custom_1": true, "a b": false, "a:b": false, "é": false, "!#$%&'*+-.^_`|~": true, "a\x00": false,
	} {
		if got := ValidToken(s); got != want {
			t.Errorf("ValidToken(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestTokenLists(t *testing.T) {
	var got []string
	ForEachToken([]string{" keep-alive ,, Upgrade", "\tclose\t", ""}, func(tok string) bool {
		got = append(got, tok)
		return true
	})
	if want := []string{"keep-alive", "Upgrade", "close"}; len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("ForEachToken gave %q, want %q", got, want)
	}
	if !HasToken([]string{"a, UPGRADE"}, "upgrade") || HasToken([]string{"upgrades"}, "upgrade") || HasToken(nil, "close") {
		t.Error("HasToken: wrong answer")
	}
	n := 0
	ForEachToken([]string{"a,b,c"}, func(string) bool { n++; return n < 2 })
	if n != 2 {
		t.Errorf("ForEachToken went on after false: %d calls", n)
	}
}
