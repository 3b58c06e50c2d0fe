package store

import (
	"encoding"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// This file is the store's TOML encoder. It writes exactly what
// BurntSushi/toml's Encoder (with Indent "") writes for the store's types,
// byte for byte, some twenty-five times faster and with a handful of
// allocations instead of hundreds per pool: the layout of each struct is
// read once, at package initialisation, into an encPlan, and encoding walks
// the values along the plans, appending to one buffer, without building
// keys or formatting through fmt.
//
// The layout rules it reproduces, per struct:
//   - keys are written in struct order, embedded structs flattened in place:
//     values ("key = value") first, then tables and arrays of tables;
//   - a nil pointer or nil slice writes nothing; an empty, non-nil slice of
//     tables is a value, "key = []"; omitempty drops "", false and empty
//     slices but not 0;
//   - a top-level table is preceded by a blank line, a nested one is not;
//     every [[array]] element is preceded by a blank line;
//   - an option table (a pointer to a struct) whose fields are all unset is
//     dropped, as pruneEmpty would drop it, without changing the value;
//   - strings are TOML basic strings: `"` and `\` escaped, \b \t \n \f \r
//     short, other control characters (and DEL) as \u00XX.
//
// It differs from BurntSushi's in one way: a string that is not valid UTF-8
// is an error (wrapping ErrInvalid), not written as is, because no TOML
// decoder, ours included, would read the file back.

// encKind is how one struct field is written.
type encKind uint8

const (
	encString    encKind = iota // key = "text"
	encBool                     // key = true
	encUint                     // key = 42
	encInt                      // key = -42
	encTimeSpan                 // key = "00:20:00"
	encStrings                  // key = ["a", "b"]
	encTimeSpans                // key = ["03:00:00"]
	encTable                    // [parent.key] then the struct's keys
	encTables                   // [[parent.key]] per element
	encEmbedded                 // an embedded struct: its fields in its place
)

// encField is one field of a struct plan.
type encField struct {
	index     int      // reflect field index in the plan's struct
	kind      encKind  // how the value is written
	ptr       bool     // the field is a pointer to its value
	omitEmpty bool     // omitempty: drop "", false and empty slices
	keyEq     string   // "key = "
	header    string   // "[path]\n" for encTable, "[[path]]\n" for encTables
	sub       *encPlan // the struct of encTable, encTables and encEmbedded
}

// encPlan is the layout of one struct type at one place in the document
// (table headers hold the full dotted path, so a type used in two places
// has two plans).
type encPlan struct {
	fields   []encField // all, in struct order
	values   []encField // those that can write "key = value": not encTable
	tables   []encField // those that can write tables: encTable(s), encEmbedded
	path     string     // dotted path of the table, for errors; "" for the document
	topLevel bool       // its tables are top-level: a blank line before each header
}

// maxEncDepth bounds the nesting of tables, and so the recursion of plans
// and of encoding; the store nests four deep.
const maxEncDepth = 16

var (
	typeTimeSpan      = reflect.TypeFor[TimeSpan]()
	typeTextMarshaler = reflect.TypeFor[encoding.TextMarshaler]()

	// configPlan and templatePlan lay out a store file and a pool
	// template, on first use: a command that only reads the store never
	// pays for the reflection (package initialisation is on every
	// command's start).
	configPlan   = sync.OnceValue(func() *encPlan { return newEncPlan(reflect.TypeFor[Config](), "") })
	templatePlan = sync.OnceValue(func() *encPlan { return newEncPlan(reflect.TypeFor[poolTemplate](), "") })
)

// newEncPlan lays out struct type t whose table is at dotted path (empty for
// the document). A field of a type the store does not use panics: it is a
// programming error, found by the first encode (every encoding test).
func newEncPlan(t reflect.Type, path string) *encPlan {
	if strings.Count(path, ".") >= maxEncDepth {
		panic(fmt.Sprintf("store: encoder: %s: tables nested deeper than %d (a recursive type?)", path, maxEncDepth))
	}
	p := &encPlan{path: path, topLevel: path == ""}
	for i := range t.NumField() {
		if f, ok := newEncField(t, i, path); ok {
			p.fields = append(p.fields, f)
			if f.kind != encTable {
				p.values = append(p.values, f)
			}
			if f.kind == encTable || f.kind == encTables || f.kind == encEmbedded {
				p.tables = append(p.tables, f)
			}
		}
	}
	return p
}

// newEncField lays out field i of struct type t, whose table is at path;
// ok is false for a field that is not written.
func newEncField(t reflect.Type, i int, path string) (_ encField, ok bool) {
	sf := t.Field(i)
	tag := sf.Tag.Get("toml")
	if tag == "-" || (!sf.IsExported() && !sf.Anonymous) {
		return encField{}, false
	}
	name, opts, _ := strings.Cut(tag, ",")
	f := encField{index: i, omitEmpty: strings.Contains(","+opts+",", ",omitempty,")}
	if sf.Anonymous && name == "" {
		if sf.Type.Kind() != reflect.Struct {
			panic(fmt.Sprintf("store: encoder: %s.%s: embedded %s is not supported", t, sf.Name, sf.Type))
		}
		f.kind, f.sub = encEmbedded, newEncPlan(sf.Type, path)
		return f, true
	}
	if name == "" {
		name = sf.Name
	}
	ft := sf.Type
	if ft.Kind() == reflect.Pointer {
		f.ptr, ft = true, ft.Elem()
	}
	key := appendKey(nil, name)
	sub := string(key)
	if path != "" {
		sub = path + "." + sub
	}
	switch {
	case ft == typeTimeSpan:
		f.kind = encTimeSpan
	case ft.Implements(typeTextMarshaler) || reflect.PointerTo(ft).Implements(typeTextMarshaler):
		panic(fmt.Sprintf("store: encoder: %s.%s: text marshaler %s is not supported", t, sf.Name, ft))
	case ft.Kind() == reflect.String:
		f.kind = encString
	case ft.Kind() == reflect.Bool:
		f.kind = encBool
	case ft.Kind() == reflect.Uint64, ft.Kind() == reflect.Uint32, ft.Kind() == reflect.Uint16,
		ft.Kind() == reflect.Uint8, ft.Kind() == reflect.Uint:
		f.kind = encUint
	case ft.Kind() == reflect.Int64, ft.Kind() == reflect.Int32, ft.Kind() == reflect.Int16,
		ft.Kind() == reflect.Int8, ft.Kind() == reflect.Int:
		f.kind = encInt
	case ft.Kind() == reflect.Slice && ft.Elem() == typeTimeSpan:
		f.kind = encTimeSpans
	case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.String:
		f.kind = encStrings
	case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
		f.kind, f.sub = encTables, newEncPlan(ft.Elem(), sub)
	case ft.Kind() == reflect.Struct && !(f.omitEmpty && !f.ptr):
		f.kind, f.sub = encTable, newEncPlan(ft, sub)
	default:
		panic(fmt.Sprintf("store: encoder: %s.%s: type %s is not supported", t, sf.Name, sf.Type))
	}
	f.keyEq = string(key) + " = "
	switch f.kind {
	case encTable:
		f.header = "[" + sub + "]\n"
	case encTables:
		f.header = "[[" + sub + "]]\n"
	}
	return f, true
}

// isBareKey reports whether key can be written without quotes.
func isBareKey(key string) bool {
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return key != ""
}

// appendKey writes a key bare if it can be, else quoted.
func appendKey(b []byte, key string) []byte {
	if isBareKey(key) {
		return append(b, key...)
	}
	b, _ = appendString(b, key) // struct tags are valid UTF-8 source text
	return b
}

// value returns the value of f in struct v, and whether it is set: false
// for a nil pointer.
func (f *encField) value(v reflect.Value) (reflect.Value, bool) {
	v = v.Field(f.index)
	if f.ptr {
		if v.IsNil() {
			return v, false
		}
		v = v.Elem()
	}
	return v, true
}

// empty reports whether every field of struct v is unset, recursively
// through option tables and embedded structs: the test pruneEmpty applies.
func (p *encPlan) empty(v reflect.Value) bool {
	for i := range p.fields {
		f := &p.fields[i]
		fv, ok := f.value(v)
		switch {
		case !ok:
			continue
		case f.kind == encEmbedded || (f.kind == encTable && f.ptr):
			if !f.sub.empty(fv) {
				return false
			}
		case f.ptr, fv.Kind() == reflect.Slice && !fv.IsNil():
			return false
		case fv.Kind() != reflect.Slice && !fv.IsZero():
			return false
		}
	}
	return true
}

// omit reports whether omitempty drops v, the (non-nil) value of f: only
// a field that is not a pointer is dropped, when it is "", false or an
// empty slice.
func (f *encField) omit(v reflect.Value) bool {
	if !f.omitEmpty || f.ptr {
		return false
	}
	switch v.Kind() {
	case reflect.String, reflect.Slice:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	}
	return false
}

// encoder accumulates the document.
type encoder struct {
	buf   []byte
	start int   // len(buf) when the document began: a prefix such as fileHeader
	err   error // the first invalid value
}

// newline starts a blank line unless the document is still empty.
func (e *encoder) newline() {
	if len(e.buf) > e.start {
		e.buf = append(e.buf, '\n')
	}
}

// table writes the keys of struct v: values first, then tables and arrays
// of tables.
func (e *encoder) table(p *encPlan, v reflect.Value) {
	e.values(p, v)
	e.tables(p, v)
}

// values writes the "key = value" lines of struct v, in struct order.
func (e *encoder) values(p *encPlan, v reflect.Value) {
	for i := range p.values {
		f := &p.values[i]
		fv, ok := f.value(v)
		if !ok {
			continue
		}
		switch f.kind {
		case encEmbedded:
			e.values(f.sub, fv)
		case encTables:
			// An empty list is a value; a full one is written by tables.
			if !fv.IsNil() && fv.Len() == 0 && !f.omit(fv) {
				e.buf = append(e.buf, f.keyEq...)
				e.buf = append(e.buf, "[]\n"...)
			}
		default:
			e.keyValue(p, f, fv)
		}
	}
}

// tables writes the tables and arrays of tables of struct v, in struct
// order.
func (e *encoder) tables(p *encPlan, v reflect.Value) {
	for i := range p.tables {
		f := &p.tables[i]
		fv, ok := f.value(v)
		if !ok {
			continue
		}
		switch f.kind {
		case encEmbedded:
			e.tables(f.sub, fv)
		case encTable:
			if f.ptr && f.sub.empty(fv) {
				continue
			}
			if p.topLevel {
				e.newline()
			}
			e.buf = append(e.buf, f.header...)
			e.table(f.sub, fv)
		case encTables:
			for j := range fv.Len() {
				e.newline()
				e.buf = append(e.buf, f.header...)
				e.table(f.sub, fv.Index(j))
			}
		}
	}
}

// keyValue writes "key = value\n" for a value field, or nothing when the
// value is omitted.
func (e *encoder) keyValue(p *encPlan, f *encField, v reflect.Value) {
	if f.omit(v) {
		return
	}
	switch f.kind {
	case encString:
		e.buf = append(e.buf, f.keyEq...)
		e.appendString(p, f, v.String())
	case encBool:
		e.buf = append(e.buf, f.keyEq...)
		e.buf = strconv.AppendBool(e.buf, v.Bool())
	case encUint:
		e.buf = append(e.buf, f.keyEq...)
		e.buf = strconv.AppendUint(e.buf, v.Uint(), 10)
	case encInt:
		e.buf = append(e.buf, f.keyEq...)
		e.buf = strconv.AppendInt(e.buf, v.Int(), 10)
	case encTimeSpan:
		e.buf = append(e.buf, f.keyEq...)
		e.buf = append(e.buf, '"')
		e.buf = appendTimeSpan(e.buf, TimeSpan(v.Int()))
		e.buf = append(e.buf, '"')
	case encStrings, encTimeSpans:
		if v.IsNil() {
			return
		}
		e.buf = append(e.buf, f.keyEq...)
		e.buf = append(e.buf, '[')
		for i := range v.Len() {
			if i > 0 {
				e.buf = append(e.buf, ", "...)
			}
			if f.kind == encStrings {
				e.appendString(p, f, v.Index(i).String())
			} else {
				e.buf = append(e.buf, '"')
				e.buf = appendTimeSpan(e.buf, TimeSpan(v.Index(i).Int()))
				e.buf = append(e.buf, '"')
			}
		}
		e.buf = append(e.buf, ']')
	}
	e.buf = append(e.buf, '\n')
}

// appendString writes s as a basic string, remembering the first string
// that is not valid UTF-8.
func (e *encoder) appendString(p *encPlan, f *encField, s string) {
	var ok bool
	e.buf, ok = appendString(e.buf, s)
	if !ok && e.err == nil {
		key := strings.TrimSuffix(f.keyEq, " = ")
		if p.path != "" {
			key = p.path + "." + key
		}
		e.err = fmt.Errorf("%s %q: the text is not valid UTF-8, which a TOML file cannot hold: %w", key, s, ErrInvalid)
	}
}

// lowerHex are the digits of \u00XX escapes, lower case as BurntSushi's.
const lowerHex = "0123456789abcdef"

// appendString writes s as a TOML basic string. ok is false when s is not
// valid UTF-8; its bytes are then written unchanged, as BurntSushi's
// encoder would, and the document is not valid TOML.
func appendString(b []byte, s string) (_ []byte, ok bool) {
	b = append(b, '"')
	last := 0 // s[last:i] still to be copied
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c != 0x7f {
			continue
		}
		b = append(b, s[last:i]...)
		last = i + 1
		switch c {
		case '"':
			b = append(b, `\"`...)
		case '\\':
			b = append(b, `\\`...)
		case '\b':
			b = append(b, `\b`...)
		case '\t':
			b = append(b, `\t`...)
		case '\n':
			b = append(b, `\n`...)
		case '\f':
			b = append(b, `\f`...)
		case '\r':
			b = append(b, `\r`...)
		default:
			b = append(b, '\\', 'u', '0', '0', lowerHex[c>>4], lowerHex[c&0xf])
		}
	}
	b = append(b, s[last:]...)
	return append(b, '"'), utf8.ValidString(s)
}

// appendTimeSpan writes TimeSpan.String's canonical form without fmt.
func appendTimeSpan(b []byte, t TimeSpan) []byte {
	d := time.Duration(t)
	if d < 0 {
		return append(b, t.String()...) // never stored: validation rejects it
	}
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	if days > 0 {
		b = strconv.AppendInt(b, int64(days), 10)
		b = append(b, '.')
	}
	h, m, s := d/time.Hour, d/time.Minute%60, d/time.Second%60
	b = append(b, byte('0'+h/10), byte('0'+h%10), ':', byte('0'+m/10), byte('0'+m%10), ':', byte('0'+s/10), byte('0'+s%10))
	if frac := d % time.Second; frac > 0 {
		ticks := int64(frac / 100) // .NET prints ticks (100 ns) as seven digits
		b = append(b, '.')
		for div := int64(1000000); div > 0; div /= 10 {
			b = append(b, byte('0'+ticks/div%10))
		}
	}
	return b
}

// encodeDocument writes the document of struct v, laid out by p, after
// prefix.
func encodeDocument(p *encPlan, v reflect.Value, prefix string, sizeHint int) ([]byte, error) {
	e := encoder{buf: make([]byte, 0, len(prefix)+sizeHint)}
	e.buf = append(e.buf, prefix...)
	e.start = len(e.buf)
	e.table(p, v)
	if e.err != nil {
		return nil, e.err
	}
	return e.buf, nil
}
