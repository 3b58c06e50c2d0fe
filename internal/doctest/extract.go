package doctest

import (
	"bufio"
	"fmt"
	"regexp"
	"strings"
)

var spaces = regexp.MustCompile(` {2,}`)

// Block is one runnable shell example of a page.
type Block struct {
	Line     int     // 1-based line of the block's opening fence
	Code     string  // the shell text, ending in a newline
	WaitHost bool    // the block starts a host: wait for it before the next
	Output   *string // the output the page shows, nil when it shows none
}

// Markers on the line before a fence.
const (
	markRunnable     = "<!-- runnable -->"
	markRunnableHost = "<!-- runnable host -->"
	markOutput       = "<!-- output -->"
)

// Extract returns the runnable blocks of a Markdown page in order. A marker
// that is not followed by a fenced block, or an output marker that follows
// no runnable block, is an error naming its line.
func Extract(page string) ([]Block, error) {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(page))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading the page: %w", err)
	}
	var blocks []Block
	lastRunnableEnd := -1 // index of the closing fence of the last runnable block
	for i := 0; i < len(lines); i++ {
		mark := strings.TrimSpace(lines[i])
		if strings.HasPrefix(lines[i], "    ") {
			mark = "" // an indented code block: a marker shown, not meant
		}
		switch mark {
		case markRunnable, markRunnableHost, markOutput:
		default:
			if fence, ok := openingFence(lines[i]); ok {
				// Skip any other fenced block whole, so a marker quoted
				// inside one is not taken for a marker.
				end, err := closingFence(lines, i, fence)
				if err != nil {
					return nil, err
				}
				i = end
			}
			continue
		}
		j := i + 1
		fence, ok := "", false
		if j < len(lines) {
			fence, ok = openingFence(lines[j])
		}
		if !ok {
			return nil, fmt.Errorf("line %d: %s is not followed by a fenced code block on the next line", i+1, mark)
		}
		end, err := closingFence(lines, j, fence)
		if err != nil {
			return nil, err
		}
		body := strings.Join(lines[j+1:end], "\n") + "\n"
		if end == j+1 {
			body = ""
		}
		if mark == markOutput {
			if lastRunnableEnd < 0 || !onlyBlank(lines[lastRunnableEnd+1:i]) {
				return nil, fmt.Errorf("line %d: %s does not follow a runnable block", i+1, mark)
			}
			blocks[len(blocks)-1].Output = &body
			lastRunnableEnd = -1
		} else {
			blocks = append(blocks, Block{Line: j + 1, Code: body, WaitHost: mark == markRunnableHost})
			lastRunnableEnd = end
		}
		i = end
	}
	return blocks, nil
}

// openingFence reports whether line opens a fenced code block, and its fence.
func openingFence(line string) (string, bool) {
	t := strings.TrimLeft(line, " ")
	if len(line)-len(t) > 3 {
		return "", false
	}
	for _, c := range []string{"```", "~~~"} {
		if strings.HasPrefix(t, c) {
			n := len(t) - len(strings.TrimLeft(t, c[:1]))
			return strings.Repeat(c[:1], n), true
		}
	}
	return "", false
}

// closingFence returns the index of the line that closes the block opened
// at open.
func closingFence(lines []string, open int, fence string) (int, error) {
	for k := open + 1; k < len(lines); k++ {
		t := strings.TrimSpace(lines[k])
		if strings.HasPrefix(t, fence) && strings.Trim(t, fence[:1]) == "" {
			return k, nil
		}
	}
	return 0, fmt.Errorf("line %d: the fenced block is never closed", open+1)
}

func onlyBlank(lines []string) bool {
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			return false
		}
	}
	return true
}

// Ellipsis in an output block: a line of its own stands for any number of
// lines, inside a line for any text.
const Ellipsis = "…"

// Match reports whether got (a command's output) matches want (a page's
// output block). Trailing spaces of each line and trailing blank lines are
// ignored, and a run of spaces compares equal to one space, so a table
// whose columns are as wide as their widest value (a pid, a time) still
// matches.
func Match(want, got string) bool {
	return matchLines(splitLines(want), splitLines(got))
}

func splitLines(s string) []string {
	ls := strings.Split(s, "\n")
	for i := range ls {
		ls[i] = spaces.ReplaceAllString(strings.TrimRight(ls[i], " \t\r"), " ")
	}
	for len(ls) > 0 && ls[len(ls)-1] == "" {
		ls = ls[:len(ls)-1]
	}
	return ls
}

func matchLines(want, got []string) bool {
	// memo[i][j]: want[i:] against got[j:] was tried and failed.
	memo := make(map[[2]int]bool)
	var m func(i, j int) bool
	m = func(i, j int) bool {
		if i == len(want) {
			return j == len(got)
		}
		if memo[[2]int{i, j}] {
			return false
		}
		ok := false
		if want[i] == Ellipsis {
			for k := j; k <= len(got) && !ok; k++ {
				ok = m(i+1, k)
			}
		} else {
			ok = j < len(got) && matchLine(want[i], got[j]) && m(i+1, j+1)
		}
		if !ok {
			memo[[2]int{i, j}] = true
		}
		return ok
	}
	return m(0, 0)
}

// matchLine matches one line, Ellipsis standing for any text.
func matchLine(want, got string) bool {
	parts := strings.Split(want, Ellipsis)
	if len(parts) == 1 {
		return want == got
	}
	if !strings.HasPrefix(got, parts[0]) {
		return false
	}
	got = got[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		k := strings.Index(got, p)
		if k < 0 {
			return false
		}
		got = got[k+len(p):]
	}
	return strings.HasSuffix(got, last)
}
