package commands

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

// trimmedTable renders with render and trims as writeTable does.
func trimmedTable(t testing.TB, render func(*bytes.Buffer, []string, [][]string) error, header []string, cells [][]string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := render(&buf, header, cells); err != nil {
		t.Fatalf("render %q %q: %v", header, cells, err)
	}
	var out strings.Builder
	for _, line := range strings.SplitAfter(buf.String(), "\n") {
		if line != "" {
			out.WriteString(strings.TrimRight(line, " \n") + "\n")
		}
	}
	return out.String()
}

func batchInto(b *bytes.Buffer, h []string, c [][]string) error  { return batchTable(b, h, c) }
func streamInto(b *bytes.Buffer, h []string, c [][]string) error { return streamTable(b, h, c) }

// checkStreamMatchesBatch fails t when a table streamable says is
// streamable prints differently streamed and laid out in batch; and
// checks writeTable prints what the batch layout prints in any case.
func checkStreamMatchesBatch(t testing.TB, header []string, cells [][]string) {
	t.Helper()
	want := trimmedTable(t, batchInto, header, cells)
	var got bytes.Buffer
	if err := writeTable(&got, header, cells); err != nil {
		t.Fatal(err)
	}
	if got.String() != want {
		t.Fatalf("writeTable(%q, %q) (streamable %v):\n%q\nbatch layout:\n%q", header, cells, streamable(header, cells), got.String(), want)
	}
	if streamable(header, cells) {
		if s := trimmedTable(t, streamInto, header, cells); s != want {
			t.Fatalf("streamed %q %q:\n%q\nbatch layout:\n%q", header, cells, s, want)
		}
	}
}

// tableAlphabet is what random cells are made of: ASCII, wide and
// combining characters, emoji, zero-width and white space, controls.
var tableAlphabet = []string{"a", "B", "0", " ", "  ", "-", "/", "'", "\"", "*", "日", "é", "e\u0301", "🙂", "\u200b",
	"\u00a0", "\u3000", "\t", "\n", "\r", "\x1b[31m", "\x7f", "\u0085"}

// TestTableStreamMatchesBatch: the streamed table is byte-identical to
// tablewriter's batch layout, on random tables (streamable or not) and on
// the shapes poolctl prints.
func TestTableStreamMatchesBatch(t *testing.T) {
	checkStreamMatchesBatch(t, []string{"NAME", "STATE", "APPLICATIONS"},
		[][]string{{"DefaultAppPool", "Started", "Default Web Site/"}, {"Py", "Stopped", ""}, {"日本", "", "a, b"}})
	checkStreamMatchesBatch(t, []string{"PROPERTY", "VALUE", "SOURCE"}, nil)
	rnd := rand.New(rand.NewPCG(1, 2))
	streamed := 0
	for range 2000 {
		cols := 1 + rnd.IntN(6)
		header := make([]string, cols)
		for i := range header {
			header[i] = []string{"NAME", "STATE", "START MODE", "WORKERS", "APPLICATIONS", "ID"}[rnd.IntN(6)]
		}
		cells := make([][]string, rnd.IntN(8))
		plain := rnd.IntN(2) == 0 // half the tables keep to cells that stream
		for r := range cells {
			cells[r] = make([]string, cols)
			for i := range cells[r] {
				var b strings.Builder
				for range rnd.IntN(10) {
					b.WriteString(tableAlphabet[rnd.IntN(len(tableAlphabet))])
				}
				c := b.String()
				if plain {
					c = strings.TrimSpace(strings.Map(func(r rune) rune {
						if r < 0x20 || r == 0x7f || r == 0x85 || r == 0xa0 || r == 0x3000 {
							return -1
						}
						return r
					}, c))
				}
				cells[r][i] = c
			}
		}
		if streamable(header, cells) {
			streamed++
		}
		checkStreamMatchesBatch(t, header, cells)
	}
	if streamed < 500 {
		t.Errorf("only %d of 2000 random tables streamed: the test checks too little", streamed)
	}
}

// FuzzTableStreamMatchesBatch: for any cells, writeTable prints what
// tablewriter's batch layout prints.
func FuzzTableStreamMatchesBatch(f *testing.F) {
	f.Add("Pool1", "Started", "Default Web Site/", "Pool2", "", "x")
	f.Add("日本語", "e\u0301", "🙂", "a\u200bb", "ab", "-")
	f.Add(" lead", "trail ", "tab\there", "line\nbreak", "\x1b[31mred", "\u00a0nb")
	f.Fuzz(func(t *testing.T, a, b, c, d, e, g string) {
		checkStreamMatchesBatch(t, []string{"NAME", "STATE", "APPLICATIONS"}, [][]string{{a, b, c}, {d, e, g}})
	})
}
