package store

import (
	"testing"
)

// TestSchemaMatchesStructs fails when a struct field has no schema row or a
// row names no field, for every schema.
func TestSchemaMatchesStructs(t *testing.T) {
	for _, s := range []*Schema{PoolSchema, SiteSchema, AppSchema, VdirSchema, HistorySchema, HostSchema} {
		noRow, noField := s.missingRows()
		for _, p := range noRow {
			t.Errorf("%s: field %s has no schema row", s.Object, p)
		}
		for _, p := range noField {
			t.Errorf("%s: schema row %s has no struct field", s.Object, p)
		}
	}
}

// TestSchemaRows checks each row's own consistency: its default parses and
// validates, its Go type matches the field, and paths are unique.
func TestSchemaRows(t *testing.T) {
	for _, s := range []*Schema{PoolSchema, SiteSchema, AppSchema, VdirSchema, HistorySchema, HostSchema} {
		seen := map[string]bool{}
		for i := range s.Fields {
			f := &s.Fields[i]
			if seen[f.Path] {
				t.Errorf("%s: %s listed twice", s.Object, f.Path)
			}
			seen[f.Path] = true
			if f.Help == "" {
				t.Errorf("%s: %s has no help", s.Object, f.Path)
			}
			if s.Object == "site" && (f.Path == "name" || f.Path == "id") || s.Object == "app" && f.Path != "appIsolation" || s.Object == "vdir" {
				continue // required keys have no default
			}
			v := f.DefaultValue()
			if err := f.Validate(v); err != nil {
				t.Errorf("%s: default of %s: %v", s.Object, f.Path, err)
			}
			var root any
			switch s.Object {
			case "apppool":
				root = &PoolSettings{}
			case "site":
				root = &Site{}
			case "app":
				root = &Application{}
			case "configHistory":
				root = &ConfigHistory{}
			case "host":
				root = &HostSettings{}
			}
			f.Set(root, v)
			got, ok := f.Get(root)
			if !ok || !f.Equal(got, v) {
				t.Errorf("%s: %s: set %v, got %v (%v)", s.Object, f.Path, v, got, ok)
			}
		}
	}
}
