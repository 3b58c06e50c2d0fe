package front

import (
	"bufio"
	"net/http"
	"strings"
	"testing"
)

// requestURISeeds are request targets whose URL the pool's record shows.
var requestURISeeds = []string{
	"/", "/hello", "/hello?x=1", "/a%2Fb?c=%20d", "/%7e/x", "/a?", "/?", "/a b", "*",
	"http://example.test/p?q=1", "http://example.test", "//double/slash?x", "/x%0D%0AInjected:%20yes",
	"/caf%C3%A9?q=caf%C3%A9", "/a;b?c;d", "/%zz", "/a?b?c", "/a#frag", "/\u00e9",
}

// checkRequestURI parses a request line with target and, when net/http
// takes it, checks that requestURI gives what r.URL.RequestURI() gives.
func checkRequestURI(t *testing.T, target string) {
	if strings.ContainsAny(target, "\r\n") {
		return
	}
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader("GET " + target + " HTTP/1.1\r\nHost: h\r\n\r\n")))
	if err != nil {
		return
	}
	if got, want := requestURI(r), r.URL.RequestURI(); got != want {
		t.Errorf("request target %q: requestURI = %q, URL.RequestURI() = %q", target, got, want)
	}
}

// TestRequestURI (issue 12): the request record's URL is taken from the
// request line without building it when that is the same text, and is
// exactly what r.URL.RequestURI() gives in every case.
func TestRequestURI(t *testing.T) {
	for _, s := range requestURISeeds {
		checkRequestURI(t, s)
	}
	// A request built in the host (no request line) has no RequestURI.
	r, _ := http.NewRequest(http.MethodGet, "http://h/p?q=1", nil)
	if got := requestURI(r); got != "/p?q=1" {
		t.Errorf("requestURI of a built request = %q", got)
	}
}

// FuzzRequestURI holds requestURI to r.URL.RequestURI() on any request
// target net/http accepts.
func FuzzRequestURI(f *testing.F) {
	for _, s := range requestURISeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, target string) { checkRequestURI(t, target) })
}
