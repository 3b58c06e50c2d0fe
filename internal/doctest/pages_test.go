package doctest

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/poolctl/poolctl/commands"
)

// maxReadme is the README's size limit (issue 13): the first page a
// newcomer reads stays short; the detail lives in docs/.
const maxReadme = 12 * 1024

func TestReadmeSize(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > maxReadme {
		t.Errorf("README.md is %d bytes, over %d: move detail to docs/", len(b), maxReadme)
	}
}

// grammarPage documents every verb of every object.
const grammarPage = "docs/store-and-grammar.md"

// TestUsageCoversEveryAction requires the usage lines of the grammar page
// to name every verb of every object the command tree has, and the
// README's Usage section to name every verb and object, so a verb added to
// the code is documented where users look for it.
func TestUsageCoversEveryAction(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(t), grammarPage))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	readme, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, usage, _ := strings.Cut(string(readme), "\n## Usage\n")
	usage, _, _ = strings.Cut(usage, "\n## ")
	ref := commands.CommandReference()
	for _, v := range ref.Verbs {
		if !regexp.MustCompile(`\b` + regexp.QuoteMeta(v.Name) + `\b`).MatchString(usage) {
			t.Errorf("the Usage section of README.md does not name the verb %s", v.Name)
		}
	}
	for _, o := range ref.Objects {
		if !regexp.MustCompile(`\b` + regexp.QuoteMeta(o.Name) + `\b`).MatchString(usage) {
			t.Errorf("the Usage section of README.md does not name the object %s", o.Name)
		}
	}
	for _, o := range ref.Objects {
		for _, a := range o.Actions {
			re := regexp.MustCompile(`(?mi)^\s+poolctl (\[[^\]]*\] )?` + regexp.QuoteMeta(a.Verb) + ` ` + regexp.QuoteMeta(o.Name) + `\b`)
			if !re.MatchString(page) {
				t.Errorf("%s has no usage line `poolctl %s %s ...`", grammarPage, a.Verb, o.Name)
			}
		}
	}
}

var (
	linkRe    = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	headingRe = regexp.MustCompile(`^(#{1,6}) +(.*?) *#*$`)
)

// TestDocLinks requires every relative link of README.md and docs/*.md to
// name a file that exists and, with #anchor on a Markdown file, a heading
// of that file.
func TestDocLinks(t *testing.T) {
	root := repoRoot(t)
	anchors := map[string]map[string]bool{}
	anchorsOf := func(path string) map[string]bool {
		if a, ok := anchors[path]; ok {
			return a
		}
		a := map[string]bool{}
		b, err := os.ReadFile(path)
		if err == nil {
			for _, h := range headings(string(b)) {
				a[h] = true
			}
		}
		anchors[path] = a
		return a
	}
	for _, page := range pages(t, root) {
		src, err := os.ReadFile(filepath.Join(root, page))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range linkRe.FindAllStringSubmatch(stripCode(string(src)), -1) {
			link := m[1]
			if strings.Contains(link, "://") || strings.HasPrefix(link, "mailto:") {
				continue
			}
			file, anchor, _ := strings.Cut(link, "#")
			target := filepath.Join(root, page)
			if file != "" {
				target = filepath.Join(root, filepath.Dir(page), file)
				if _, err := os.Stat(target); err != nil {
					t.Errorf("%s: link %s: %v", page, link, err)
					continue
				}
			}
			if anchor != "" && strings.HasSuffix(target, ".md") && !anchorsOf(target)[anchor] {
				t.Errorf("%s: link %s: no heading with that anchor in %s", page, link, filepath.Base(target))
			}
		}
	}
}

// stripCode removes fenced and indented blocks and inline code, where a
// "](" is not a link.
func stripCode(s string) string {
	var out []string
	for _, l := range strings.Split(stripFences(s), "\n") {
		if strings.HasPrefix(l, "    ") {
			continue
		}
		out = append(out, inlineCodeRe.ReplaceAllString(l, ""))
	}
	return strings.Join(out, "\n")
}

var inlineCodeRe = regexp.MustCompile("`[^`]*`")

// headings returns the GitHub anchors of a page's headings.
func headings(s string) []string {
	var out []string
	seen := map[string]int{}
	for _, l := range strings.Split(stripFences(s), "\n") {
		m := headingRe.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		a := anchor(m[2])
		if n := seen[a]; n > 0 {
			seen[a]++
			a += "-" + strconv.Itoa(n)
		} else {
			seen[a] = 1
		}
		out = append(out, a)
	}
	return out
}

// stripFences removes fenced blocks, their fences included.
func stripFences(s string) string {
	var out []string
	fence := ""
	for _, l := range strings.Split(s, "\n") {
		if f, ok := openingFence(l); ok && fence == "" {
			fence = f
			continue
		} else if fence != "" {
			if strings.HasPrefix(strings.TrimSpace(l), fence) {
				fence = ""
			}
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// anchor is GitHub's anchor for a heading: lower case, punctuation other
// than - and _ removed, spaces to -.
func anchor(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_':
			b.WriteRune(r)
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r > 127:
			b.WriteRune(r)
		}
	}
	return b.String()
}
