package commands

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/poolctl/poolctl/commands/params"
	"github.com/poolctl/poolctl/store"
)

// filter is one /prop:value condition of list.
type filter struct {
	prop  *prop
	op    string // "=", "wild", "<>", ">", "<", ">=", "<="
	value string // the canonical text to compare, or the wildcard pattern
	want  any    // the typed value ordering operators compare numbers and time spans with; nil for text
}

// filterOps are the expression operators a filter value may start with
// (IIS 7 Resource Kit), longest first.
var filterOps = []string{"$>=", "$<=", "$<>", "$>", "$<", "$="}

// parseFilters turns the remaining /prop:value parameters of list into
// filters; every one must name a property of the view and carry a value
// the property can have.
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
		f, err := parseFilter(pr, p)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// parseFilter checks one filter: its operator, and its value against the
// property's type (not its range: /queueLength:$<5 is a fair question).
func parseFilter(pr *prop, p params.Param) (filter, error) {
	f := filter{prop: pr, op: "=", value: p.Value}
	fail := func(format string, args ...any) error {
		return usagef("filter %q: "+format, append([]any{p.Raw}, args...)...)
	}
	ordered := pr.field != nil && (pr.field.Kind == store.KindUint || pr.field.Kind == store.KindTimeSpan)
	sample := filterSample(pr)
	if strings.HasPrefix(p.Value, "$") {
		op := ""
		for _, o := range filterOps {
			if strings.HasPrefix(p.Value, o) {
				op = o
				break
			}
		}
		if op == "" {
			ex := "/" + p.Name + ":$=" + sample + "*"
			if ordered {
				ex = "/" + p.Name + ":$>=" + sample
			}
			return f, fail("%q starts with $ but is not an operator: a filter value may start with $= (wildcard), $<>, $>, $>=, $< or $<=; e.g. %s (to match a value that starts with $, write %s)",
				p.Value, shellQuote(ex), shellQuote("/"+p.Name+":$=$..."))
		}
		f.op, f.value = op[1:], p.Value[len(op):]
		if op == "$=" {
			f.op = "wild"
			if _, err := path.Match(f.value, ""); err != nil {
				return f, fail("%q is not a valid wildcard: use * for any text, ? for one character, [abc] for one of a set; e.g. %s", f.value, shellQuote("/"+p.Name+":$="+sample+"*"))
			}
			return f, nil
		}
		if f.value == "" && f.op != "<>" {
			return f, fail("expected a value after %s; e.g. %s", op, shellQuote("/"+p.Name+":"+op+sample))
		}
	}
	if pr.field == nil || pr.field.Kind.IsCollection() || pr.field.Kind == store.KindString {
		return f, nil
	}
	val, err := parseFilterValue(pr.field, f.value)
	if err != nil {
		ex := shellQuote("/" + p.Name + ":" + sample)
		if ordered {
			ex += " or " + shellQuote("/"+p.Name+":$>"+sample)
		}
		return f, fail("%s: %v; e.g. %s", pr.key, err, ex)
	}
	// Compare in canonical form: /idleTimeout:20m matches 00:20:00.
	f.value = pr.field.Format(val)
	if ordered {
		f.want = val
	}
	return f, nil
}

// parseFilterValue parses a filter value as f's type, without f's range.
func parseFilterValue(f *store.Field, text string) (any, error) {
	switch f.Kind {
	case store.KindUint:
		n, err := strconv.ParseUint(strings.TrimSpace(text), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a whole number", text)
		}
		return n, nil
	case store.KindTimeSpan:
		return store.ParseTimeSpan(text)
	}
	return f.Parse(text)
}

// filterSample is a plausible value of the property, for examples.
func filterSample(pr *prop) string {
	if pr.field == nil {
		return "M"
	}
	f := pr.field
	if f.Default != "" {
		if _, err := f.Parse(f.Default); err == nil {
			return f.Default
		}
	}
	switch f.Kind {
	case store.KindUint:
		return strconv.FormatUint(max(f.Min, 1), 10)
	case store.KindTimeSpan:
		return "00:20:00"
	case store.KindBool:
		return "true"
	case store.KindEnum, store.KindFlags:
		if len(f.Values) > 0 {
			return f.Values[0].Name
		}
	}
	return "M"
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
			ok = compareOrdered(f, r.obj, got)
		}
		if !ok {
			return false
		}
	}
	return true
}

// compareOrdered applies an ordering operator: by value for numbers and time
// spans, case-insensitively by text otherwise.
func compareOrdered(f filter, obj any, got string) bool {
	c := strings.Compare(strings.ToLower(got), strings.ToLower(f.value))
	switch v := f.prop.get(obj).(type) {
	case uint64:
		if w, ok := f.want.(uint64); ok {
			c = cmpInt(v, w)
		}
	case store.TimeSpan:
		if w, ok := f.want.(store.TimeSpan); ok {
			c = cmpInt(v, w)
		}
	}
	switch f.op {
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
