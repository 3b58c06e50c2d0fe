package commands

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/pkg/twwidth"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// cellPad is the padding right of every cell: two spaces between columns.
const cellPad = "  "

// widthCacheOff turns tablewriter's global width cache off, once per
// process, before the first table. The cache (an LRU of 8,192 strings
// behind a mutex, fed every cell and every padded cell) costs more than it
// saves for poolctl's tables: at 1,000 pools most lookups miss and evict.
// The width of a cell is the same with or without it.
var widthCacheOff sync.Once

// writeTable is poolctl's one use of tablewriter: a header and rows, no
// borders, left-aligned, no wrapping, two spaces between columns, no
// trailing spaces. A table of plain ASCII cells, which is nearly every
// table poolctl prints, is laid out here (asciiTable): there a cell's
// display width is its length, and tablewriter's layout of 1,000 rows
// costs more than the rest of `list apppool` together. Any other table
// goes through tablewriter, whose display-width rules (wide and combining
// characters, emoji, escape sequences) poolctl does not reimplement. Both
// print the same bytes (TestTableASCIIMatchesTablewriter,
// FuzzTableASCIIMatchesTablewriter).
func writeTable(w io.Writer, header []string, cells [][]string) error {
	if plainASCII(header, cells) {
		_, err := w.Write(asciiTable(header, cells))
		return err
	}
	widthCacheOff.Do(func() { twwidth.SetCacheCapacity(0) })
	var buf bytes.Buffer
	if err := batchTable(&buf, header, cells); err != nil {
		return fmt.Errorf("render table: %w", err)
	}
	var out bytes.Buffer
	out.Grow(buf.Len())
	for _, line := range strings.SplitAfter(buf.String(), "\n") {
		if line == "" {
			continue
		}
		out.WriteString(strings.TrimRight(line, " \n"))
		out.WriteByte('\n')
	}
	_, err := w.Write(out.Bytes())
	return err
}

// tableOptions are the options of both ways to render.
func tableOptions() []tablewriter.Option {
	return []tablewriter.Option{
		tablewriter.WithRenderer(renderer.NewBlueprint(tableRendition())),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithPadding(tw.Padding{Left: "", Right: cellPad, Overwrite: true}),
	}
}

// tableRendition is the renderer's configuration: no borders, lines or
// separators.
func tableRendition() tw.Rendition {
	return tw.Rendition{
		Borders:  tw.BorderNone,
		Symbols:  tw.NewSymbols(tw.StyleNone),
		Settings: tw.Settings{Separators: tw.SeparatorsNone, Lines: tw.LinesNone},
	}
}

// batchTable lays the whole table out in tablewriter, then prints it.
func batchTable(w io.Writer, header []string, cells [][]string) error {
	t := tablewriter.NewTable(w, tableOptions()...)
	t.Header(toAny(header)...)
	if err := t.Bulk(cells); err != nil {
		return err
	}
	return t.Render()
}

// asciiTable lays out a table plainASCII accepts as tablewriter does:
// each column as wide as its widest cell plus two spaces, every line
// without trailing spaces.
func asciiTable(header []string, cells [][]string) []byte {
	widths := make([]int, len(header))
	for i, h := range header {
		widths[i] = len(h)
	}
	for _, r := range cells {
		for i, c := range r {
			widths[i] = max(widths[i], len(c))
		}
	}
	lineLen := 1
	for _, n := range widths {
		lineLen += n + len(cellPad)
	}
	out := make([]byte, 0, lineLen*(len(cells)+1))
	line := func(row []string) {
		start := len(out)
		for i, c := range row {
			out = append(out, c...)
			if i < len(row)-1 {
				for range widths[i] - len(c) + len(cellPad) {
					out = append(out, ' ')
				}
			}
		}
		for len(out) > start && out[len(out)-1] == ' ' {
			out = out[:len(out)-1]
		}
		out = append(out, '\n')
	}
	line(header)
	for _, r := range cells {
		line(r)
	}
	return out
}

// plainASCII says whether tablewriter prints every cell as it is, each
// one column wide per byte: at least one column, every row as wide as the
// header, and every cell printable ASCII that neither starts nor ends
// with a space (tablewriter trims those).
func plainASCII(header []string, cells [][]string) bool {
	if len(header) == 0 || !plainASCIIRow(header) {
		return false
	}
	for _, r := range cells {
		if len(r) != len(header) || !plainASCIIRow(r) {
			return false
		}
	}
	return true
}

// plainASCIIRow reports whether every cell of row is plain ASCII.
func plainASCIIRow(row []string) bool {
	for _, c := range row {
		if c == "" {
			continue
		}
		if c[0] == ' ' || c[len(c)-1] == ' ' {
			return false
		}
		for i := 0; i < len(c); i++ {
			if c[i] < 0x20 || c[i] > 0x7e {
				return false
			}
		}
	}
	return true
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
