package accesslog

import (
	"os"
	"testing"
	"time"
)

// sampleEntry is a request with every member set.
func sampleEntry() *Entry {
	return &Entry{
		Time:          time.Date(2026, 11, 21, 18, 0, 1, 234_567_000, time.UTC),
		ServerIP:      "127.0.0.1",
		ServerPort:    8080,
		Method:        "GET",
		URIStem:       "/shop/cart.aspx",
		URIQuery:      "id=7&x=%20y",
		Username:      "alice",
		ClientIP:      "10.0.0.9",
		UserAgent:     "Mozilla/5.0 (X11; Linux x86_64)",
		Referer:       "https://example.test/",
		Status:        503,
		SubStatus:     2,
		Win32Status:   64,
		TimeTaken:     1234567 * time.Microsecond,
		BytesSent:     4321,
		BytesReceived: 99,
		Site:          "Default Web Site",
		Pool:          "Shop",
		Reason:        "QueueFull",
	}
}

// waitFor polls cond every few milliseconds until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// readFile returns the content of path, failing the test if it cannot.
func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
