package commands

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/poolctl/poolctl/commands/params"
	"github.com/poolctl/poolctl/store"
)

// outputMode is how list prints what it found.
type outputMode struct {
	text        string // attribute for /text:ATTR, "*" for /text:*
	hasText     bool
	json        bool
	showSecrets bool // print secret values (secrets.go) instead of the mask
}

// takeOutput removes the output switches /text[:ATTR] and /json from args.
func takeOutput(a params.Args) (params.Args, outputMode, error) {
	rest, taken := a.Take("text", "json")
	var m outputMode
	for _, p := range taken {
		switch strings.ToLower(p.Name) {
		case "text":
			if !p.HasValue || p.Value == "" {
				return a, m, usagef("/text needs an attribute: /text:name, /text:state or /text:* for every property")
			}
			m.text, m.hasText = p.Value, true
		case "json":
			if p.HasValue && !strings.EqualFold(p.Value, "true") {
				return a, m, usagef("/json takes no value")
			}
			m.json = true
		}
	}
	if m.json && m.hasText {
		return a, m, usagef("give either /json or /text, not both")
	}
	return rest, m, nil
}

// sortRows orders rows by identifier, case-insensitively, so output is
// deterministic.
func sortRows(rows []row) {
	sort.SliceStable(rows, func(i, j int) bool {
		return strings.ToLower(rows[i].id) < strings.ToLower(rows[j].id)
	})
}

// render prints rows in the chosen mode.
func render(w io.Writer, v *view, rows []row, m outputMode) error {
	switch {
	case m.json:
		return renderJSON(w, rows, m)
	case m.hasText && m.text == "*":
		return renderTree(w, rows, m)
	case m.hasText:
		p, ok := v.lookup(m.text)
		if !ok {
			return v.unknown(m.text)
		}
		var b bytes.Buffer
		for _, r := range rows {
			b.WriteString(r.shownText(p, m.showSecrets))
			b.WriteByte('\n')
		}
		_, err := w.Write(b.Bytes())
		return err
	}
	return renderTable(w, v, rows, m)
}

// renderTable prints the human table: one row per object, the view's
// columns, no borders, no trailing spaces.
func renderTable(w io.Writer, v *view, rows []row, m outputMode) error {
	if len(rows) == 0 {
		return nil
	}
	var cols []*prop
	var header []string
	for i := range v.props {
		if v.props[i].header != "" {
			cols = append(cols, &v.props[i])
			header = append(header, v.props[i].header)
		}
	}
	cells := make([][]string, len(rows))
	flat := make([]string, len(rows)*len(cols)) // one allocation for every cell
	for i, r := range rows {
		cells[i] = flat[i*len(cols) : (i+1)*len(cols) : (i+1)*len(cols)]
		for j, p := range cols {
			cells[i][j] = r.shownText(p, m.showSecrets)
		}
	}
	return writeTable(w, header, cells)
}

// renderTree prints every property of each object, appcmd's /text:*:
//
//	APPPOOL "DefaultAppPool"
//	  name: DefaultAppPool
//	  processModel.idleTimeout: 00:20:00
func renderTree(w io.Writer, rows []row, m outputMode) error {
	var b bytes.Buffer
	for _, r := range rows {
		fmt.Fprintf(&b, "%s %q\n", r.v.kind, r.id)
		for i := range r.v.props {
			p := &r.v.props[i]
			fmt.Fprintf(&b, "  %s: %s\n", p.key, treeText(r, p, m.showSecrets))
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// treeText renders collections in the selector syntax that /+ accepts.
func treeText(r row, p *prop, show bool) string {
	if p.field == nil || !p.field.Kind.IsCollection() {
		return r.shownText(p, show)
	}
	var parts []string
	for _, e := range p.field.Elements(r.shown(p, show)) {
		parts = append(parts, selector(e, collectionAttrs(p.field)))
	}
	return strings.Join(parts, " ")
}

func collectionAttrs(f *store.Field) []string {
	switch f.Kind {
	case store.KindSchedule:
		return []string{"value"}
	case store.KindEnvVars:
		return []string{"name", "value"}
	}
	return []string{"protocol", "bindingInformation", "certificateFile", "keyFile"}
}

func selector(e map[string]string, order []string) string {
	var parts []string
	for _, k := range order {
		if v, ok := e[k]; ok && (v != "" || k == "value" || k == "name") {
			parts = append(parts, fmt.Sprintf("%s='%s'", k, strings.ReplaceAll(v, "'", "''")))
		}
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// renderJSON prints an array with one object per row; dotted property names
// become nested objects ("processModel": {"idleTimeout": "00:20:00"}).
func renderJSON(w io.Writer, rows []row, m outputMode) error {
	out := make([]map[string]any, 0, len(rows))
	for _, r := range rows {
		obj := map[string]any{}
		for i := range r.v.props {
			p := &r.v.props[i]
			if p.json != nil {
				setNested(obj, p.key, p.json(r.obj))
				continue
			}
			setNested(obj, p.key, jsonValue(p, r.shown(p, m.showSecrets)))
		}
		out = append(out, obj)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func jsonValue(p *prop, v any) any {
	if p.field != nil && (p.field.Kind == store.KindEnvVars || p.field.Kind == store.KindBindings) {
		elems := p.field.Elements(v)
		if elems == nil {
			return []map[string]string{}
		}
		return elems
	}
	if s, ok := v.([]string); ok && s == nil {
		return []string{} // an empty list is [], as for collections, not null
	}
	return v
}

func setNested(m map[string]any, key string, v any) {
	parts := strings.Split(key, ".")
	for _, part := range parts[:len(parts)-1] {
		sub, ok := m[part].(map[string]any)
		if !ok {
			sub = map[string]any{}
			m[part] = sub
		}
		m = sub
	}
	m[parts[len(parts)-1]] = v
}
