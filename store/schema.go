package store

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// Schema is the property table of one kind of object. It drives parsing,
// validation, help, defaults, inheritance and the TOML mapping: every leaf
// field of the root struct has exactly one row (TestSchemaMatchesStructs).
type Schema struct {
	Object string  // "apppool", "site", "app", "vdir", "configHistory"
	Fields []Field // in display order
	root   reflect.Type
	byName map[string]*Field // built by resolve
	once   sync.Once
}

// newSchema builds a schema. Its rows are resolved to their struct fields
// on first use (resolve), not at package initialisation, so a command that
// never reads a schema (version, help) does not pay for the reflection.
func newSchema(object string, root any, fields []Field) *Schema {
	s := &Schema{Object: object, Fields: fields, root: reflect.TypeOf(root)}
	for i := range s.Fields {
		s.Fields[i].owner, s.Fields[i].pos = s, i
	}
	return s
}

// resolve maps each row to its struct field and indexes the rows by name,
// once; a row naming no field is a programming error and panics
// (TestSchemaMatchesStructs resolves every schema).
func (s *Schema) resolve() {
	s.once.Do(func() {
		byName := make(map[string]*Field, len(s.Fields))
		for i := range s.Fields {
			f := &s.Fields[i]
			idx, err := fieldIndex(s.root, f.Path)
			if err != nil {
				panic(fmt.Sprintf("store: schema %s: %v", s.Object, err))
			}
			f.index = idx
			byName[strings.ToLower(f.Path)] = f
		}
		s.byName = byName
	})
}

// Lookup finds a property by its dotted path, case-insensitively.
func (s *Schema) Lookup(path string) (*Field, bool) {
	s.resolve()
	f, ok := s.byName[strings.ToLower(path)]
	return f, ok
}

// Field returns the row for path and panics if there is none; for callers
// naming a property in code.
func (s *Schema) Field(path string) *Field {
	f, ok := s.Lookup(path)
	if !ok {
		panic("store: no property " + path + " in schema " + s.Object)
	}
	return f
}

// Suggest returns up to three property paths close to the unknown name.
func (s *Schema) Suggest(name string) []string {
	return NewSuggester(s.Paths()).Suggest(name)
}

// UnknownProperty returns the error for a property the schema lacks, with
// the nearest valid names; with none, ReasonUnknownProperty.
func (s *Schema) UnknownProperty(object, id, name string) error {
	e := &ObjectError{Object: object, ID: id, Property: name, Msg: "unknown property", Err: ErrInvalid}
	if sug := s.Suggest(name); len(sug) > 0 {
		e.Hint = "did you mean " + quoteJoin(sug) + "?"
	} else {
		e.Reason = ReasonUnknownProperty
	}
	return e
}

func quoteJoin(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "/" + n
	}
	return strings.Join(q, " or ")
}

// fieldIndex resolves a dotted path of TOML names to a reflect index path.
func fieldIndex(t reflect.Type, path string) ([]int, error) {
	var idx []int
	for seg := range strings.SplitSeq(path, ".") {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return nil, fmt.Errorf("%s: %s is not a struct", path, t)
		}
		i, ok := tomlField(t, seg)
		if !ok {
			return nil, fmt.Errorf("%s: no field %q in %s", path, seg, t)
		}
		idx = append(idx, i...)
		t = t.FieldByIndex(i).Type
	}
	return idx, nil
}

// tomlField finds a struct field by its TOML name, looking into embedded
// structs as the TOML encoder does.
func tomlField(t reflect.Type, name string) ([]int, bool) {
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous {
			if sub, ok := tomlField(sf.Type, name); ok {
				return append([]int{i}, sub...), true
			}
			continue
		}
		if tomlName(sf) == name {
			return []int{i}, true
		}
	}
	return nil, false
}

func tomlName(sf reflect.StructField) string {
	tag, _, _ := strings.Cut(sf.Tag.Get("toml"), ",")
	if tag == "" {
		return sf.Name
	}
	return tag
}

// leafPaths lists the dotted TOML paths of every property-bearing field of
// t: fields that are not (pointers to) nested option structs and are not
// tagged `schema:"-"`.
func leafPaths(t reflect.Type, prefix string) []string {
	var out []string
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Tag.Get("schema") == "-" {
			continue
		}
		if sf.Anonymous {
			out = append(out, leafPaths(sf.Type, prefix)...)
			continue
		}
		ft := sf.Type
		if ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct {
			out = append(out, leafPaths(ft.Elem(), prefix+tomlName(sf)+".")...)
			continue
		}
		out = append(out, prefix+tomlName(sf))
	}
	return out
}

// Paths returns the property paths of the schema in display order.
func (s *Schema) Paths() []string {
	out := make([]string, len(s.Fields))
	for i, f := range s.Fields {
		out[i] = f.Path
	}
	return out
}

// missingRows compares the struct with the table (for the schema test).
func (s *Schema) missingRows() (noRow, noField []string) {
	s.resolve()
	leaves := leafPaths(s.root.Elem(), "")
	for _, p := range leaves {
		if _, ok := s.byName[strings.ToLower(p)]; !ok {
			noRow = append(noRow, p)
		}
	}
	for _, f := range s.Fields {
		if !slices.Contains(leaves, f.Path) {
			noField = append(noField, f.Path)
		}
	}
	return noRow, noField
}
