package commands

import (
	"fmt"
	"strings"

	"github.com/poolctl/poolctl/store"
)

// prop is one listable property of an object kind: what list shows, filters
// on and prints with /text and /json. Values are computed only when asked,
// so 'list apppool /text:name' on 10,000 pools computes only names.
type prop struct {
	key     string        // canonical name: "name", "state", "processModel.idleTimeout"
	aliases []string      // other accepted names: "apppool.name"
	get     func(any) any // the typed value for one object
	field   *store.Field  // schema row, for parsing filter values; nil for plain strings
	header  string        // table column header; "" keeps it out of the table
	json    func(any) any // the value /json writes, when not get's (a number where the text has a word)
}

// view describes the properties of one kind of object.
type view struct {
	kind  string // "APPPOOL", as appcmd prints it
	props []prop
	index map[string]int
}

func newView(kind string, props []prop) *view {
	v := &view{kind: kind, props: props, index: map[string]int{}}
	for i, p := range props {
		v.index[strings.ToLower(p.key)] = i
		for _, a := range p.aliases {
			v.index[strings.ToLower(a)] = i
		}
	}
	return v
}

// schemaProps returns a prop per schema field, reading the value through
// get, which yields the field's value for an object.
func schemaProps(s *store.Schema, get func(obj any, f *store.Field) any) []prop {
	props := make([]prop, len(s.Fields))
	for i := range s.Fields {
		f := &s.Fields[i]
		props[i] = prop{key: f.Path, field: f, get: func(obj any) any { return get(obj, f) }}
	}
	return props
}

func (v *view) lookup(name string) (*prop, bool) {
	i, ok := v.index[strings.ToLower(name)]
	if !ok {
		return nil, false
	}
	return &v.props[i], true
}

func (v *view) unknown(name string) error {
	var names []string
	for _, p := range v.props {
		names = append(names, p.key)
	}
	hint := ""
	if sug := suggest(name, names); len(sug) > 0 {
		hint = "; did you mean /" + strings.Join(sug, " or /") + "?"
	} else {
		hint = fmt.Sprintf("; see 'poolctl list %s /?' for the properties", strings.ToLower(v.kind))
	}
	return usagef("%s has no property %q%s", strings.ToLower(v.kind), name, hint)
}

// suggest returns names that share the last dotted segment or are close.
func suggest(name string, names []string) []string {
	return store.NewSuggester(names).Suggest(name)
}

// row is one object seen through its view.
type row struct {
	v   *view
	id  string
	obj any
}

// text returns the canonical text of a property.
func (r row) text(p *prop) string {
	val := p.get(r.obj)
	if p.field != nil {
		return p.field.Format(val)
	}
	switch v := val.(type) {
	case nil:
		return ""
	case []string:
		return strings.Join(v, ",")
	}
	return fmt.Sprint(val)
}
