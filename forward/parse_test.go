package forward

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
)

func TestParseChunkSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"a", 10, true},
		{"FF", 255, true},
		{"1f;name=value", 31, true},
		{"10 ", 16, true},
		{"", 0, false},
		{"x", 0, false},
		{"-1", 0, false},
		{"1000000000000000", 0, false}, // too long
	}
	for _, tt := range tests {
		got, ok := parseChunkSize([]byte(tt.in))
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseChunkSize(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseLength(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"100", 100, true},
		{"", 0, false},
		{"1 0", 0, false},
		{"+1", 0, false},
		{"1234567890123456789", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseLength(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseLength(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestRawChunkedResponse(t *testing.T) {
	addr := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		for {
			if _, err := http.ReadRequest(br); err != nil {
				return
			}
			io.WriteString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Check\r\n\r\n"+
				"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Check: yes\r\nX-Late: also\r\n\r\n")
		}
	})
	f := newFront(t, addr)
	client := newClient(t)
	for range 3 {
		resp, err := client.Get(f.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(body) != "hello world" {
			t.Fatalf("body %q, %v", body, err)
		}
		if resp.Trailer.Get("X-Check") != "yes" || resp.Trailer.Get("X-Late") != "also" {
			t.Errorf("trailers %v", resp.Trailer)
		}
	}
	f.noErr(t)
}

func TestManySmallChunks(t *testing.T) {
	const n = 300000 // chunk-size lines alone add up to more than maxHeadBytes
	addr := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		bw := bufio.NewWriter(c)
		bw.WriteString("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
		for range n {
			bw.WriteString("1\r\nx\r\n")
		}
		bw.WriteString("0\r\n\r\n")
		bw.Flush()
	})
	f := newFront(t, addr)
	resp, err := newClient(t).Get(f.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || len(body) != n {
		t.Fatalf("got %d bytes (%v), want %d", len(body), err, n)
	}
	f.noErr(t)
}
