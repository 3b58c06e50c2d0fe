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
// trailing spaces. A table whose cells tablewriter prints as they are
// (streamable) is streamed through tablewriter's renderer with widths
// measured here, which skips the Table's layout and per-cell context
// building (most of the time of a table of 1,000 pools); any other goes
// through the Table's batch layout. Both print the same bytes
// (TestTableStreamMatchesBatch, FuzzTableStreamMatchesBatch).
func writeTable(w io.Writer, header []string, cells [][]string) error {
	widthCacheOff.Do(func() { twwidth.SetCacheCapacity(0) })
	var buf bytes.Buffer
	render := batchTable
	if streamable(header, cells) {
		render = streamTable
	}
	if err := render(&buf, header, cells); err != nil {
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

// streamTable prints the table line by line through tablewriter's
// Blueprint renderer, the one the batch layout renders with, with each
// column as wide as the batch layout makes it (its widest cell, measured
// as tablewriter measures, plus the padding). It skips what the Table
// does around the renderer for every line (content preparation, merge
// and cell contexts), none of which changes a streamable cell. The
// padding character is one space: the renderer repeats the padding string
// to fill a cell and then truncates what overflows, which a two-space
// string always does; the cells come out the same.
func streamTable(w io.Writer, header []string, cells [][]string) error {
	pad := twwidth.Width(cellPad)
	widths := tw.NewMapper[int, int]()
	for i, h := range header {
		n := twwidth.Width(h)
		for _, r := range cells {
			n = max(n, twwidth.Width(r[i]))
		}
		widths.Set(i, n+pad)
	}
	// The Table configures the renderer and hands it its logger, off and
	// suspended (the renderer's own formats every debug message it drops).
	bp := tablewriter.NewTable(w, tableOptions()...).Renderer()
	if err := bp.Start(w); err != nil {
		return err
	}
	current := make(map[int]tw.CellContext, len(header))
	line := func(pos tw.Position, row []string) tw.Formatting {
		for i, c := range row {
			current[i] = tw.CellContext{Data: c, Align: tw.AlignLeft, Padding: tw.Padding{Right: " "}, Width: widths.Get(i)}
		}
		return tw.Formatting{Row: tw.RowContext{Widths: widths, Current: current, Position: pos, Location: tw.LocationMiddle}}
	}
	bp.Header([][]string{header}, line(tw.Header, header))
	for _, r := range cells {
		bp.Row(r, line(tw.Row, r))
	}
	return bp.Close()
}

// streamable says whether tablewriter prints every cell as it is, so
// that its width is the cell's own: at least one column, every row as
// wide as the header, and no cell with control characters (tabs and line
// breaks are expanded or split, escape sequences measured apart) or
// leading or trailing white space (trimmed). The tables poolctl prints
// nearly always are.
func streamable(header []string, cells [][]string) bool {
	if len(header) == 0 || !plainCells(header) {
		return false
	}
	for _, r := range cells {
		if len(r) != len(header) || !plainCells(r) {
			return false
		}
	}
	return true
}

// plainCells reports whether every cell of row is printed as it is.
func plainCells(row []string) bool {
	for _, c := range row {
		if c == "" {
			continue
		}
		if isSpace(c[0]) || isSpace(c[len(c)-1]) {
			return false
		}
		for i := 0; i < len(c); i++ {
			if b := c[i]; b < 0x20 || b == 0x7f {
				return false
			}
		}
		if !isPlainUnicode(c) {
			return false
		}
	}
	return true
}

// isSpace is the white space a cell may not start or end with that
// plainCells does not refuse anywhere (Unicode white space: isPlainUnicode;
// tabs and line breaks: control characters).
func isSpace(b byte) bool { return b == ' ' }

// isPlainUnicode refuses what strings.TrimSpace would trim or tablewriter
// might treat as a control: C1 controls and Unicode white space.
func isPlainUnicode(c string) bool {
	for _, r := range c {
		if r < 0x80 {
			continue
		}
		if r <= 0x9f || r == 0x85 || r == 0xa0 || r == 0x1680 || (r >= 0x2000 && r <= 0x200a) ||
			r == 0x2028 || r == 0x2029 || r == 0x202f || r == 0x205f || r == 0x3000 {
			return false
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
