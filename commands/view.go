package commands

import (
	"fmt"
	"path"
	"strings"

	"github.com/poolctl/poolctl/commands/params"
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

// filter is one /prop:value condition of list.
type filter struct {
	prop  *prop
	op    string // "=", "wild", "<>", ">", "<", ">=", "<="
	value string
}

// parseFilters turns the remaining /prop:value parameters of list into
// filters; every one must name a property of the view.
func (v *view) parseFilters(ps []params.Param) ([]filter, error) {
	var out []filter
	for _, p := range ps {
		if p.Op != params.OpSet || p.Selector != nil {
			return nil, usagef("%q: list takes filters /property:value only", p.Raw)
		}
		pr, ok := v.lookup(p.Name)
		if !ok {
			return nil, v.unknown(p.Name)
		}
		f := filter{prop: pr, op: "=", value: p.Value}
		for _, op := range []string{"$>=", "$<=", "$<>", "$>", "$<", "$="} {
			if rest, ok := strings.CutPrefix(p.Value, op); ok {
				f.op, f.value = op[1:], rest
				if op == "$=" {
					f.op = "wild"
				}
				break
			}
		}
		if pr.field != nil && f.op != "wild" && !pr.field.Kind.IsCollection() {
			// Compare in canonical form: /idleTimeout:20m matches 00:20:00.
			if val, err := pr.field.Parse(f.value); err == nil {
				f.value = pr.field.Format(val)
			} else if f.op != "=" && f.op != "<>" {
				return nil, usagef("filter %q: %v", p.Raw, err)
			}
		}
		out = append(out, f)
	}
	return out, nil
}

// match reports whether the row passes every filter. Text compares
// case-insensitively; numbers and time spans compare by value.
func (r row) match(fs []filter) bool {
	for _, f := range fs {
		got := r.text(f.prop)
		var ok bool
		switch f.op {
		case "=":
			ok = strings.EqualFold(got, f.value)
		case "<>":
			ok = !strings.EqualFold(got, f.value)
		case "wild":
			ok, _ = path.Match(strings.ToLower(f.value), strings.ToLower(got))
		default:
			ok = compareOrdered(f.prop, r.obj, got, f.op, f.value)
		}
		if !ok {
			return false
		}
	}
	return true
}

func compareOrdered(p *prop, obj any, got, op, want string) bool {
	var c int
	switch v := p.get(obj).(type) {
	case uint64:
		w, err := p.field.Parse(want)
		if err != nil {
			return false
		}
		c = cmpInt(v, w.(uint64))
	case store.TimeSpan:
		w, err := p.field.Parse(want)
		if err != nil {
			return false
		}
		c = cmpInt(v, w.(store.TimeSpan))
	default:
		c = strings.Compare(strings.ToLower(got), strings.ToLower(want))
	}
	switch op {
	case ">":
		return c > 0
	case "<":
		return c < 0
	case ">=":
		return c >= 0
	case "<=":
		return c <= 0
	}
	return false
}

func cmpInt[T ~uint64 | ~int64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
