package store

import (
	"fmt"
	"slices"
	"strings"
)

// Attr is one key='value' pair of a collection element, as written in
// /+path.[key='value',...].
type Attr struct{ Key, Value string }

// collection adapts one collection kind to attribute maps, the form the
// /+ and /- syntax speaks.
type collection interface {
	keys() []string
	attrs() []string
	toAttrs(list any) []map[string]string
	fromAttrs(elems []map[string]string) (any, error)
	check(list any) (any, error)
}

func collectionOf(k Kind) collection {
	switch k {
	case KindSchedule:
		return scheduleColl{}
	case KindEnvVars:
		return envColl{}
	case KindBindings:
		return bindingColl{}
	}
	panic("store: not a collection kind")
}

// Elements returns a collection value as attribute maps, in order.
func (f *Field) Elements(list any) []map[string]string {
	return collectionOf(f.Kind).toAttrs(list)
}

// AddElement returns list with a new element made of attrs. Every key
// attribute must be given; an element with the same key is ErrExists.
func (f *Field) AddElement(list any, attrs []Attr) (any, error) {
	c := collectionOf(f.Kind)
	elem, err := elementFrom(c, f.Path, attrs)
	if err != nil {
		return nil, err
	}
	elems := c.toAttrs(list)
	for _, k := range c.keys() {
		if elem[k] == "" && k != "value" {
			return nil, valueErrorf(ErrInvalid, "the element needs %s, e.g. /+%s.%s", keyList(c), f.Path, f.Range())
		}
	}
	if i := findElement(c, elems, elem); i >= 0 {
		return nil, valueErrorf(ErrExists, "%s already has an element %s", f.Path, selectorText(c, elem))
	}
	return c.fromAttrs(append(elems, elem))
}

// RemoveElement returns list without the element the selector matches.
// Nothing matching is ErrNotFound.
func (f *Field) RemoveElement(list any, selector []Attr) (any, error) {
	c := collectionOf(f.Kind)
	sel, err := elementFrom(c, f.Path, selector)
	if err != nil {
		return nil, err
	}
	elems := c.toAttrs(list)
	i := findElement(c, elems, sel)
	if i < 0 {
		return nil, valueErrorf(ErrNotFound, "cannot find the collection element %s in %s", selectorText(c, sel), f.Path)
	}
	return c.fromAttrs(slices.Delete(elems, i, i+1))
}

// SetElementAttr returns list with one attribute of the selected element
// changed: /environmentVariables.[name='A'].value:B.
func (f *Field) SetElementAttr(list any, selector []Attr, attr, value string) (any, error) {
	c := collectionOf(f.Kind)
	sel, err := elementFrom(c, f.Path, selector)
	if err != nil {
		return nil, err
	}
	attr, ok := canonicalAttr(c, attr)
	if !ok {
		return nil, valueErrorf(ErrInvalid, "%s elements have no attribute %q: expected one of %s", f.Path, attr, strings.Join(c.attrs(), ", "))
	}
	elems := c.toAttrs(list)
	i := findElement(c, elems, sel)
	if i < 0 {
		return nil, valueErrorf(ErrNotFound, "cannot find the collection element %s in %s", selectorText(c, sel), f.Path)
	}
	elems[i][attr] = value
	return c.fromAttrs(elems)
}

func elementFrom(c collection, path string, attrs []Attr) (map[string]string, error) {
	elem := map[string]string{}
	for _, a := range attrs {
		k, ok := canonicalAttr(c, a.Key)
		if !ok {
			return nil, valueErrorf(ErrInvalid, "%s elements have no attribute %q: expected %s", path, a.Key, strings.Join(c.attrs(), ", "))
		}
		elem[k] = a.Value
	}
	for _, k := range c.keys() {
		if _, ok := elem[k]; !ok {
			return nil, valueErrorf(ErrInvalid, "the selector of %s needs %s", path, keyList(c))
		}
	}
	return elem, nil
}

func canonicalAttr(c collection, name string) (string, bool) {
	for _, a := range c.attrs() {
		if strings.EqualFold(a, name) {
			return a, true
		}
	}
	return name, false
}

func findElement(c collection, elems []map[string]string, sel map[string]string) int {
	// Compare keys through a canonicalising round trip, so '3:00:00' finds
	// '03:00:00' and key case follows the collection's rules.
	want, err := c.fromAttrs([]map[string]string{sel})
	if err != nil {
		return -1
	}
	wk := keyOf(c, c.toAttrs(want)[0])
	for i, e := range elems {
		if keyOf(c, e) == wk {
			return i
		}
	}
	return -1
}

func keyOf(c collection, e map[string]string) string {
	_, exact := c.(envColl) // environment names are case-sensitive on Linux
	var b strings.Builder
	for _, k := range c.keys() {
		if exact {
			b.WriteString(e[k])
		} else {
			b.WriteString(strings.ToLower(e[k]))
		}
		b.WriteByte(0)
	}
	return b.String()
}

func keyList(c collection) string {
	ks := make([]string, len(c.keys()))
	for i, k := range c.keys() {
		ks[i] = k + "='...'"
	}
	return "[" + strings.Join(ks, ",") + "]"
}

func selectorText(c collection, e map[string]string) string {
	ks := make([]string, len(c.keys()))
	for i, k := range c.keys() {
		ks[i] = fmt.Sprintf("%s='%s'", k, strings.ReplaceAll(e[k], "'", "''"))
	}
	return "[" + strings.Join(ks, ",") + "]"
}

// checkUnique fails when two elements share a key.
func checkUnique(c collection, path string, elems []map[string]string) error {
	seen := map[string]bool{}
	for _, e := range elems {
		k := keyOf(c, e)
		if seen[k] {
			return valueErrorf(ErrInvalid, "%s has the element %s twice", path, selectorText(c, e))
		}
		seen[k] = true
	}
	return nil
}

type scheduleColl struct{}

func (scheduleColl) keys() []string  { return []string{"value"} }
func (scheduleColl) attrs() []string { return []string{"value"} }
func (scheduleColl) toAttrs(list any) []map[string]string {
	var out []map[string]string
	for _, t := range asSlice[TimeSpan](list) {
		out = append(out, map[string]string{"value": t.String()})
	}
	return out
}
func (c scheduleColl) fromAttrs(elems []map[string]string) (any, error) {
	out := []TimeSpan{}
	for _, e := range elems {
		t, err := ParseTimeSpan(e["value"])
		if err != nil {
			return nil, valueErrorf(ErrInvalid, "schedule value: %v", err)
		}
		out = append(out, t)
	}
	return c.check(out)
}
func (c scheduleColl) check(list any) (any, error) {
	ts := asSlice[TimeSpan](list)
	for _, t := range ts {
		if t.Duration() >= 24*3600e9 {
			return nil, valueErrorf(ErrInvalid, "schedule time %s is not a time of day: expected 00:00:00 to 23:59:59", t)
		}
	}
	slices.Sort(ts)
	return ts, checkUnique(c, "recycling.periodicRestart.schedule", c.toAttrs(ts))
}

type envColl struct{}

func (envColl) keys() []string  { return []string{"name"} }
func (envColl) attrs() []string { return []string{"name", "value"} }
func (envColl) toAttrs(list any) []map[string]string {
	var out []map[string]string
	for _, e := range asSlice[EnvironmentVariable](list) {
		out = append(out, map[string]string{"name": e.Name, "value": e.Value})
	}
	return out
}
func (c envColl) fromAttrs(elems []map[string]string) (any, error) {
	out := []EnvironmentVariable{}
	for _, e := range elems {
		out = append(out, EnvironmentVariable{Name: e["name"], Value: e["value"]})
	}
	return c.check(out)
}
func (c envColl) check(list any) (any, error) {
	vars := asSlice[EnvironmentVariable](list)
	for _, e := range vars {
		if e.Name == "" || strings.ContainsAny(e.Name, "=\x00") {
			return nil, valueErrorf(ErrInvalid, "environment variable name %q: expected a non-empty name without '='", e.Name)
		}
		if strings.ContainsRune(e.Value, 0) {
			return nil, valueErrorf(ErrInvalid, "environment variable %s: the value contains a NUL byte", e.Name)
		}
	}
	// Environment names are case-sensitive on Linux.
	seen := map[string]bool{}
	for _, e := range vars {
		if seen[e.Name] {
			return nil, valueErrorf(ErrInvalid, "environmentVariables has %s twice", e.Name)
		}
		seen[e.Name] = true
	}
	return vars, nil
}

func asSlice[T any](list any) []T {
	if list == nil {
		return nil
	}
	return append([]T{}, list.([]T)...)
}
