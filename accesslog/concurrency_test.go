package accesslog

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestConcurrentWritersKeepLinesWhole(t *testing.T) {
	for _, format := range []Format{W3C, JSON} {
		t.Run(string(format), func(t *testing.T) {
			const writers, each = 8, 2000
			// A small buffer and a fast flush, so that the writer, the
			// swaps and (probably) drops all happen while lines go in.
			l := openTest(t, Options{Format: format, BufferSize: 32 << 10, FlushInterval: time.Millisecond})
			var wg sync.WaitGroup
			for g := range writers {
				wg.Go(func() {
					for i := range each {
						e := sampleEntry()
						e.URIStem = fmt.Sprintf("/%d-%d", g, i)
						e.UserAgent = "agent with spaces\r\nand a newline"
						l.Write(e)
					}
				})
			}
			wg.Wait()
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			if got := l.Written() + l.Dropped(); got != writers*each {
				t.Fatalf("written %d + dropped %d = %d, want %d", l.Written(), l.Dropped(), got, writers*each)
			}
			t.Logf("written %d, dropped %d", l.Written(), l.Dropped())

			var stems []string
			if format == W3C {
				for _, r := range checkW3CFile(t, l.Path(), DefaultSoftware) {
					if len(r) != len(w3cFields) || r["cs(User-Agent)"] != "agent+with+spaces++and+a+newline" {
						t.Fatalf("damaged record %v", r)
					}
					stems = append(stems, r["cs-uri-stem"])
				}
			} else {
				content := readFile(t, l.Path())
				for line := range strings.SplitAfterSeq(content, "\n") {
					if line == "" {
						continue
					}
					j := decodeJSONLine(t, []byte(line))
					if j.UserAgent != "agent with spaces\r\nand a newline" {
						t.Fatalf("damaged line %q", line)
					}
					stems = append(stems, j.URIStem)
				}
			}
			if uint64(len(stems)) != l.Written() {
				t.Errorf("%d lines in the file, Written says %d", len(stems), l.Written())
			}
			seen := make(map[string]bool, len(stems))
			last := make(map[int]int)
			for _, s := range stems {
				if seen[s] {
					t.Fatalf("line %s written twice", s)
				}
				seen[s] = true
				var g, i int
				if _, err := fmt.Sscanf(s, "/%d-%d", &g, &i); err != nil {
					t.Fatalf("stem %q: %v", s, err)
				}
				if prev, ok := last[g]; ok && i <= prev {
					t.Errorf("writer %d: line %d after line %d", g, i, prev)
				}
				last[g] = i
			}
		})
	}
}
