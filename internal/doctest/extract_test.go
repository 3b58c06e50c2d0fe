package doctest

import (
	"strings"
	"testing"
)

const samplePage = "# Page\n\n" +
	"<!-- runnable -->\n```sh\npoolctl add apppool /name:Shop\n```\n" +
	"<!-- output -->\n```text\nAPPPOOL object \"Shop\" added\n```\n\n" +
	"```sh\npoolctl not-runnable\n```\n\n" +
	"    <!-- runnable -->\n    ```sh\n    shown, not run\n    ```\n\n" +
	"<!-- runnable host -->\n```sh\npoolctl host &\n```\n\n" +
	"```text\n<!-- runnable -->\n```\n"

func TestExtract(t *testing.T) {
	blocks, err := Extract(samplePage)
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 2 {
		t.Fatalf("got %d blocks, want 2: %+v", len(blocks), blocks)
	}
	b := blocks[0]
	if b.Line != 4 || b.Code != "poolctl add apppool /name:Shop\n" || b.WaitHost || b.Output == nil || *b.Output != "APPPOOL object \"Shop\" added\n" {
		t.Errorf("first block: %+v", b)
	}
	b = blocks[1]
	if b.Code != "poolctl host &\n" || !b.WaitHost || b.Output != nil {
		t.Errorf("second block: %+v", b)
	}
}

func TestExtractErrors(t *testing.T) {
	for _, page := range []string{
		"<!-- runnable -->\nno fence\n",
		"<!-- runnable -->\n\n```sh\nx\n```\n",                // a blank line between marker and fence
		"<!-- output -->\n```text\nx\n```\n",                  // output of nothing
		"<!-- runnable -->\n```sh\nx\n",                       // never closed
		"```sh\nx\n```\ntext\n<!-- output -->\n```\ny\n```\n", // output after a plain block
		"<!-- runnable -->\n```sh\nx\n```\nprose\n<!-- output -->\n```\ny\n```\n",
	} {
		if _, err := Extract(page); err == nil {
			t.Errorf("Extract(%q): no error", page)
		}
	}
}

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		want, got string
		ok        bool
	}{
		{"a\nb\n", "a\nb\n", true},
		{"a\nb", "a\nb\n\n", true},
		{"a  \n", "a\n", true},
		{"PID    NAME\n1      x\n", "PID  NAME\n1    x\n", true},
		{"a\n", "b\n", false},
		{"a\n", "a\nb\n", false},
		{"…\n", "", true},
		{"…\n", "x\ny\n", true},
		{"a\n…\nz\n", "a\nz\n", true},
		{"a\n…\nz\n", "a\nb\nc\nz\n", true},
		{"a\n…\nz\n", "a\nb\n", false},
		{"pid …, ok\n", "pid 42, ok\n", true},
		{"pid …, ok\n", "pid 42, no\n", false},
		{"… 9001 Shop …\n", "2026-12-06T01:32:08Z 9001 Shop 0 pool started\n", true},
		{"…x…xy\n", "xy\n", false},
		{"a…b…c\n", "abc\n", true},
		{"a…b…c\n", "acb\n", false},
	} {
		if got := Match(c.want, c.got); got != c.ok {
			t.Errorf("Match(%q, %q) = %v, want %v", c.want, c.got, got, c.ok)
		}
	}
}

// FuzzExtract: any page either yields blocks whose lines lie in the page,
// or an error; it never panics.
func FuzzExtract(f *testing.F) {
	f.Add(samplePage)
	f.Add("<!-- runnable -->\n~~~sh\nx\n~~~\n<!-- output -->\n~~~~\n```\n~~~~\n")
	f.Add("<!-- runnable -->\n```sh\n```\n")
	f.Fuzz(func(t *testing.T, page string) {
		blocks, err := Extract(page)
		if err != nil {
			return
		}
		n := strings.Count(page, "\n") + 1
		for _, b := range blocks {
			if b.Line < 1 || b.Line > n {
				t.Fatalf("block line %d outside the page's %d lines", b.Line, n)
			}
		}
	})
}

// FuzzMatch: text without an ellipsis matches itself.
func FuzzMatch(f *testing.F) {
	f.Add("PID    NAME\n1      x\n")
	f.Add("a\n\n\nb  \n")
	f.Fuzz(func(t *testing.T, s string) {
		if strings.Contains(s, Ellipsis) {
			return
		}
		if !Match(s, s) {
			t.Fatalf("%q does not match itself", s)
		}
	})
}
