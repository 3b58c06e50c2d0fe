package store

import "reflect"

// Get returns the value a root object sets for the field, and whether it
// sets one. root is a pointer to the schema's root struct (*PoolSettings,
// *Site ...). Required (non-pointer) fields are always set.
func (f *Field) Get(root any) (any, bool) {
	v := reflect.ValueOf(root).Elem()
	for _, i := range f.path() {
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return nil, false
			}
			v = v.Elem()
		}
		v = v.Field(i)
	}
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil, false
		}
		v = v.Elem()
	}
	return copyValue(v.Interface()), true
}

// Set stores a typed value (as returned by Parse) in root, allocating
// intermediate option structs.
func (f *Field) Set(root any, value any) {
	v := reflect.ValueOf(root).Elem()
	for _, i := range f.path() {
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(i)
	}
	nv := reflect.ValueOf(copyValue(value))
	if v.Kind() == reflect.Pointer {
		p := reflect.New(v.Type().Elem())
		p.Elem().Set(nv)
		v.Set(p)
		return
	}
	v.Set(nv)
}

// Clear removes root's own value, so the inherited or default value applies
// again. Option structs left empty are removed so they are not written.
func (f *Field) Clear(root any) {
	v := reflect.ValueOf(root).Elem()
	for _, i := range f.path() {
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return
			}
			v = v.Elem()
		}
		v = v.Field(i)
	}
	v.Set(reflect.Zero(v.Type()))
	pruneEmpty(reflect.ValueOf(root).Elem())
}

// pruneEmpty sets pointers to option structs whose fields are all nil back to
// nil, so an emptied section disappears from the file.
func pruneEmpty(v reflect.Value) bool {
	empty := true
	for i := range v.NumField() {
		fv := v.Field(i)
		switch {
		case v.Type().Field(i).Anonymous:
			if !pruneEmpty(fv) {
				empty = false
			}
		case fv.Kind() == reflect.Pointer && !fv.IsNil() && fv.Elem().Kind() == reflect.Struct:
			if pruneEmpty(fv.Elem()) {
				fv.Set(reflect.Zero(fv.Type()))
			} else {
				empty = false
			}
		case fv.Kind() == reflect.Pointer || fv.Kind() == reflect.Slice:
			if !fv.IsNil() {
				empty = false
			}
		default:
			if !fv.IsZero() {
				empty = false
			}
		}
	}
	return empty
}

// copyValue makes slices independent so a caller cannot alias the store.
func copyValue(v any) any {
	switch x := v.(type) {
	case []string:
		return append([]string{}, x...)
	case []TimeSpan:
		return append([]TimeSpan{}, x...)
	case []EnvironmentVariable:
		return append([]EnvironmentVariable{}, x...)
	case []Binding:
		return append([]Binding{}, x...)
	}
	return v
}
