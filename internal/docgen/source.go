package docgen

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// EventRef is one event id of package events.
type EventRef struct {
	Name string
	ID   int
	Doc  string
}

// MetricRef is one metric of package metrics.
type MetricRef struct {
	Name, Help string
	Labels     []string
}

// parseDir parses the non-test Go files of dir.
func parseDir(dir string) (*token.FileSet, []*ast.File, error) {
	fset := token.NewFileSet()
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, nil, err
	}
	sort.Strings(names)
	var files []*ast.File
	for _, n := range names {
		if strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, n, nil, parser.ParseComments)
		if err != nil {
			return nil, nil, fmt.Errorf("docgen: %w", err)
		}
		files = append(files, f)
	}
	return fset, files, nil
}

// readEvents reads the event id constants of events/events.go: every
// integer constant of the block that holds RecycleTime, with its line
// comment.
func readEvents(root string) ([]EventRef, error) {
	_, files, err := parseDir(filepath.Join(root, "events"))
	if err != nil {
		return nil, err
	}
	var out []EventRef
	for _, f := range files {
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST || !holds(g, "RecycleTime") {
				continue
			}
			for _, s := range g.Specs {
				vs := s.(*ast.ValueSpec)
				if len(vs.Values) != 1 {
					continue
				}
				lit, ok := vs.Values[0].(*ast.BasicLit)
				if !ok || lit.Kind != token.INT {
					continue
				}
				id, err := strconv.Atoi(lit.Value)
				if err != nil {
					return nil, fmt.Errorf("docgen: event %s: %w", vs.Names[0].Name, err)
				}
				out = append(out, EventRef{Name: vs.Names[0].Name, ID: id, Doc: strings.TrimSpace(vs.Comment.Text())})
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("docgen: no event ids found in %s/events", root)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func holds(g *ast.GenDecl, name string) bool {
	for _, s := range g.Specs {
		if vs, ok := s.(*ast.ValueSpec); ok {
			for _, n := range vs.Names {
				if n.Name == name {
					return true
				}
			}
		}
	}
	return false
}

// readMetrics reads the metrics package's prometheus.NewDesc calls and
// GaugeOpts literals (name, help and labels must be literals there).
func readMetrics(root string) ([]MetricRef, error) {
	_, files, err := parseDir(filepath.Join(root, "metrics"))
	if err != nil {
		return nil, err
	}
	var out []MetricRef
	var bad error
	labels := map[*ast.CompositeLit][]string{} // opts literal of a New*Vec call: its labels
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				sel, ok := n.Fun.(*ast.SelectorExpr)
				if ok && strings.HasSuffix(sel.Sel.Name, "Vec") && len(n.Args) == 2 {
					if opts, ok := n.Args[0].(*ast.CompositeLit); ok {
						labels[opts] = strs(n.Args[1])
					}
				}
				if !ok || sel.Sel.Name != "NewDesc" || len(n.Args) < 3 {
					return true
				}
				name, help := str(n.Args[0]), str(n.Args[1])
				if name == "" {
					bad = fmt.Errorf("docgen: a NewDesc in %s has no literal name", f.Name.Name)
					return true
				}
				out = append(out, MetricRef{Name: name, Help: help, Labels: strs(n.Args[2])})
			case *ast.CompositeLit:
				sel, ok := n.Type.(*ast.SelectorExpr)
				if !ok || sel.Sel.Name != "GaugeOpts" {
					return true
				}
				m := MetricRef{Labels: labels[n]}
				for _, e := range n.Elts {
					kv, ok := e.(*ast.KeyValueExpr)
					if !ok {
						continue
					}
					switch kv.Key.(*ast.Ident).Name {
					case "Name":
						m.Name = str(kv.Value)
					case "Help":
						m.Help = str(kv.Value)
					}
				}
				if m.Name != "" {
					out = append(out, m)
				}
			}
			return true
		})
	}
	if bad != nil {
		return nil, bad
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("docgen: no metrics found in %s/metrics", root)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// str returns the value of a string literal, or "".
func str(e ast.Expr) string {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return ""
	}
	s, err := strconv.Unquote(lit.Value)
	if err != nil {
		return ""
	}
	return s
}

// strs returns the values of a []string{...} literal; nil otherwise.
func strs(e ast.Expr) []string {
	cl, ok := e.(*ast.CompositeLit)
	if !ok {
		return nil
	}
	var out []string
	for _, el := range cl.Elts {
		out = append(out, str(el))
	}
	return out
}
