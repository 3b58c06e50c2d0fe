package forward

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"
)

// upgradeBackend answers "Upgrade: echo" requests with 101, sends "hello",
// then echoes bytes until the client side closes, and reports that on done.
func upgradeBackend(t *testing.T, done chan<- string) *backend {
	return newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "echo") ||
			!strings.Contains(strings.ToLower(r.Header.Get("Connection")), "upgrade") {
			w.Header().Set("Content-Length", "7")
			w.WriteHeader(http.StatusUpgradeRequired)
			_, _ = io.WriteString(w, "upgrade")
			return
		}
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			done <- "hijack: " + err.Error()
			return
		}
		defer c.Close()
		_, _ = io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\nX-Proto: echo/1\r\n\r\nhello")
		_, err = io.Copy(c, brw.Reader)
		if err != nil {
			done <- "copy: " + err.Error()
			return
		}
		done <- "eof"
	})
}

func TestUpgradeRoundTrip(t *testing.T) {
	done := make(chan string, 1)
	b := upgradeBackend(t, done)
	f := newFront(t, b.addr())
	c, br := dialFront(t, f)
	// Bytes sent right behind the request head must not be lost.
	_, err := io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Upgrade\r\nUpgrade: echo\r\n\r\nearly;")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d, want 101", resp.StatusCode)
	}
	if resp.Header.Get("Upgrade") != "echo" || resp.Header.Get("X-Proto") != "echo/1" {
		t.Errorf("101 header %v", resp.Header)
	}
	want := "helloearly;"
	got := make([]byte, len(want))
	if _, err := io.ReadFull(br, got); err != nil || string(got) != want {
		t.Fatalf("got %q (%v), want %q", got, err, want)
	}
	for _, msg := range []string{"ping", strings.Repeat("x", 100000), "pong"} {
		if _, err := io.WriteString(c, msg); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(br, got); err != nil || string(got) != msg {
			t.Fatalf("echo of %d bytes: got %d (%v)", len(msg), len(got), err)
		}
	}
	c.Close()
	if s := wait(t, done, "backend to see the client close"); s != "eof" {
		t.Errorf("backend: %s", s)
	}
	f.noErr(t)
}

func TestUpgradeBackendCloses(t *testing.T) {
	b := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		c, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nbye")
		c.Close()
	})
	f := newFront(t, b.addr())
	c, br := dialFront(t, f)
	_, _ = io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("response %v, %v", resp, err)
	}
	rest, err := io.ReadAll(br) // ends when the front closes the client side
	if err != nil || string(rest) != "bye" {
		t.Fatalf("rest %q, %v", rest, err)
	}
	f.noErr(t)
}

func TestUpgradeRefused(t *testing.T) {
	done := make(chan string, 1)
	b := upgradeBackend(t, done)
	f := newFront(t, b.addr())
	c, br := dialFront(t, f)
	_, _ = io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: other\r\n\r\n")
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusUpgradeRequired || string(body) != "upgrade" {
		t.Fatalf("status %d body %q, want 426 upgrade", resp.StatusCode, body)
	}
	// The client connection stays usable for ordinary requests.
	_, _ = io.WriteString(c, "GET /again HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err = http.ReadResponse(bufio.NewReader(br), nil)
	if err != nil || resp.StatusCode != http.StatusUpgradeRequired {
		t.Fatalf("second response %v, %v", resp, err)
	}
	resp.Body.Close()
	f.noErr(t)
}
