package store

import (
	"bytes"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// This file is the store's fast decoder: it reads a store file that is
// exactly what Marshal writes (the file every poolctl write leaves) without
// BurntSushi/toml's generic parse into maps and the reflection that then
// fills the structs, which cost ~8x the time and ~20x the allocations.
//
// It is a fast path, not a second TOML parser: it understands only the
// canonical layout (the header comment, "key = value" lines of basic
// strings, decimal integers, booleans and one-line arrays of strings,
// "[table]" and "[[array]]" headers, blank lines), gives up on anything
// else, and accepts its result only when Marshal writes the very same bytes
// back. A file that is not canonical (a hand edit, an older layout, an
// error) goes to BurntSushi, which decides and words the error as before.
// Given a canonical file, both decoders fill the same values: each value's
// text maps to one Go value the way TOML defines it (TimeSpans through the
// same UnmarshalText), and FuzzDecodeCanonical checks them against each
// other.

// decField is one key a table can hold, with the embedded structs of its
// struct flattened in (AppPool's PoolSettings).
type decField struct {
	index []int    // reflect field path in the table's struct
	kind  encKind  // as the encoder writes it
	ptr   bool     // the field is a pointer to its value
	sub   *decPlan // the struct of encTable and encTables
}

// decPlan is the keys of one table.
type decPlan struct {
	keys map[string]*decField
}

// configDecPlan is the document's plan, built on first use from the
// encoder's.
var configDecPlan = sync.OnceValue(func() *decPlan { return newDecPlan(configPlan()) })

func newDecPlan(p *encPlan) *decPlan {
	d := &decPlan{keys: map[string]*decField{}}
	d.add(p, nil)
	return d
}

// add puts p's fields in d, below the field path prefix (an embedded
// struct's place).
func (d *decPlan) add(p *encPlan, prefix []int) {
	for i := range p.fields {
		f := &p.fields[i]
		index := append(append([]int(nil), prefix...), f.index)
		if f.kind == encEmbedded {
			d.add(f.sub, index)
			continue
		}
		df := &decField{index: index, kind: f.kind, ptr: f.ptr}
		if f.sub != nil {
			df.sub = newDecPlan(f.sub)
		}
		d.keys[strings.TrimSuffix(f.keyEq, " = ")] = df
	}
}

// decodeCanonical decodes data when it is a canonical store file, exactly
// as Marshal writes it; ok is false for any other text, which the caller
// then decodes the general way.
func decodeCanonical(data []byte) (_ *Config, ok bool) {
	if !bytes.HasPrefix(data, []byte(fileHeader)) {
		return nil, false
	}
	c := new(Config)
	// The lists' final sizes, so that they are allocated once: an upper
	// bound (the text may be inside a string), and none for an empty
	// list, which "key = []" sets.
	if n := bytes.Count(data, []byte("\n[[applicationPools]]\n")); n > 0 {
		c.ApplicationPools = make([]AppPool, 0, n)
	}
	if n := bytes.Count(data, []byte("\n[[sites]]\n")); n > 0 {
		c.Sites = make([]Site, 0, n)
	}
	d := canonDecoder{root: reflect.ValueOf(c).Elem(), plan: configDecPlan()}
	d.cur, d.curPlan = d.root, d.plan
	// One copy of the text: names and values without escapes are slices
	// of it.
	text := string(data[len(fileHeader):])
	for text != "" {
		nl := strings.IndexByte(text, '\n')
		if nl < 0 {
			return nil, false // Marshal ends every line
		}
		line := text[:nl]
		text = text[nl+1:]
		if !d.line(line) {
			return nil, false
		}
	}
	again, err := marshalSized(c, len(data)-len(fileHeader))
	if err != nil || !bytes.Equal(again, data) {
		return nil, false
	}
	return c, true
}

// canonDecoder is the state of one decodeCanonical: the document and the
// table the last header opened.
type canonDecoder struct {
	root    reflect.Value // the Config
	plan    *decPlan
	cur     reflect.Value // the struct keys go to
	curPlan *decPlan
}

func (d *canonDecoder) line(line string) bool {
	switch {
	case line == "":
		return true
	case strings.HasPrefix(line, "[[") && strings.HasSuffix(line, "]]"):
		return d.header(line[2:len(line)-2], true)
	case line[0] == '[' && line[len(line)-1] == ']':
		return d.header(line[1:len(line)-1], false)
	}
	key, value, found := strings.Cut(line, " = ")
	if !found || !isBareKey(key) {
		return false
	}
	f, ok := d.curPlan.keys[key]
	if !ok || f.kind == encTable {
		return false
	}
	return setValue(d.cur.FieldByIndex(f.index), f, value)
}

// header opens the table at dotted path: a new element of an array of
// tables when array, else an option table. Every table above it must exist
// already, as Marshal writes them.
func (d *canonDecoder) header(path string, array bool) bool {
	v, p := d.root, d.plan
	for path != "" {
		seg, rest, more := strings.Cut(path, ".")
		path = rest
		if more && rest == "" {
			return false
		}
		f, ok := p.keys[seg]
		if !ok || f.sub == nil {
			return false
		}
		fv := v.FieldByIndex(f.index)
		last := !more
		switch f.kind {
		case encTable:
			if last && array {
				return false
			}
			if f.ptr {
				if fv.IsNil() {
					if !last {
						return false
					}
					fv.Set(reflect.New(fv.Type().Elem()))
				} else if last {
					return false // the table again
				}
				fv = fv.Elem()
			}
			v = fv
		case encTables:
			if last && !array {
				return false
			}
			if f.ptr {
				if fv.IsNil() {
					if !last {
						return false
					}
					fv.Set(reflect.New(fv.Type().Elem()))
				}
				fv = fv.Elem()
			}
			if last {
				fv.Set(reflect.Append(fv, reflect.Zero(fv.Type().Elem())))
			} else if fv.Len() == 0 {
				return false
			}
			v = fv.Index(fv.Len() - 1)
		default:
			return false
		}
		p = f.sub
	}
	if p == d.plan {
		return false // "[]"
	}
	d.cur, d.curPlan = v, p
	return true
}

// setValue stores the value text of one "key = value" line in fv, the
// field f; false when the text is not what Marshal writes for the field,
// or the key was set already.
func setValue(fv reflect.Value, f *decField, text string) bool {
	if f.ptr {
		if !fv.IsNil() {
			return false
		}
		nv := reflect.New(fv.Type().Elem())
		if !setPlain(nv.Elem(), f.kind, text) {
			return false
		}
		fv.Set(nv)
		return true
	}
	return setPlain(fv, f.kind, text)
}

// setPlain stores text in v, a value (not pointer) field of kind k.
func setPlain(v reflect.Value, k encKind, text string) bool {
	switch k {
	case encString:
		s, ok := unquoteBasic(text)
		if ok {
			v.SetString(s)
		}
		return ok
	case encBool:
		switch text {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			return false
		}
		return true
	case encUint:
		n, ok := parseDecimal(text)
		if !ok || n < 0 || v.OverflowUint(uint64(n)) {
			return false
		}
		v.SetUint(uint64(n))
		return true
	case encInt:
		n, ok := parseDecimal(text)
		if !ok || v.OverflowInt(n) {
			return false
		}
		v.SetInt(n)
		return true
	case encTimeSpan:
		s, ok := unquoteBasic(text)
		if !ok {
			return false
		}
		var t TimeSpan
		if t.UnmarshalText([]byte(s)) != nil {
			return false
		}
		v.SetInt(int64(t))
		return true
	case encStrings, encTimeSpans:
		return setArray(v, k, text)
	case encTables:
		if text != "[]" || !v.IsNil() {
			return false // a full array of tables is written as [[key]] headers
		}
		v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		return true
	}
	return false
}

// setArray stores a one-line array of strings, `["a", "b"]` or `[]`, in
// the slice v: strings, or TimeSpans for encTimeSpans.
func setArray(v reflect.Value, k encKind, text string) bool {
	if len(text) < 2 || text[0] != '[' || text[len(text)-1] != ']' {
		return false
	}
	text = text[1 : len(text)-1]
	n := 0
	if text != "" {
		n = 1 + strings.Count(text, `", "`) // an upper bound: the separator may be inside a string
	}
	s := reflect.MakeSlice(v.Type(), 0, n)
	for i := 0; text != ""; i++ {
		if i > 0 {
			if !strings.HasPrefix(text, ", ") {
				return false
			}
			text = text[2:]
		}
		end := basicStringEnd(text)
		if end < 0 {
			return false
		}
		elem, ok := unquoteBasic(text[:end])
		if !ok {
			return false
		}
		text = text[end:]
		if k == encStrings {
			s = reflect.Append(s, reflect.ValueOf(elem).Convert(v.Type().Elem()))
			continue
		}
		var t TimeSpan
		if t.UnmarshalText([]byte(elem)) != nil {
			return false
		}
		s = reflect.Append(s, reflect.ValueOf(t))
	}
	v.Set(s)
	return true
}

// parseDecimal reads a TOML decimal integer as Marshal writes one: an
// optional '-', then digits without a leading zero.
func parseDecimal(text string) (int64, bool) {
	digits := strings.TrimPrefix(text, "-")
	if digits == "" || (digits[0] == '0' && len(digits) > 1) {
		return 0, false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(text, 10, 64) // TOML integers are 64-bit signed
	return n, err == nil
}

// basicStringEnd is the length of the basic string at the start of text,
// closing quote included; -1 when text does not start with a whole one.
func basicStringEnd(text string) int {
	if text == "" || text[0] != '"' {
		return -1
	}
	for i := 1; i < len(text); i++ {
		switch text[i] {
		case '\\':
			i++ // the escaped character is never the closing quote
		case '"':
			return i + 1
		}
	}
	return -1
}

// unquoteBasic returns the text of a whole basic string with only the
// escapes Marshal writes: \" \\ \b \t \n \f \r and \u00XX below 0x80.
// Other escapes and raw control characters are not canonical: false.
func unquoteBasic(text string) (string, bool) {
	if len(text) < 2 || text[0] != '"' || text[len(text)-1] != '"' {
		return "", false
	}
	body := text[1 : len(text)-1]
	plain := true
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c == '"' || c < 0x20 || c == 0x7f {
			return "", false
		}
		if c == '\\' {
			plain = false
			break
		}
	}
	if plain {
		return body, true
	}
	b := make([]byte, 0, len(body))
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '"' || c < 0x20 || c == 0x7f:
			return "", false
		case c != '\\':
			b = append(b, c)
			continue
		}
		i++
		if i == len(body) {
			return "", false
		}
		switch body[i] {
		case '"', '\\':
			b = append(b, body[i])
		case 'b':
			b = append(b, '\b')
		case 't':
			b = append(b, '\t')
		case 'n':
			b = append(b, '\n')
		case 'f':
			b = append(b, '\f')
		case 'r':
			b = append(b, '\r')
		case 'u':
			if i+4 >= len(body) || body[i+1] != '0' || body[i+2] != '0' {
				return "", false
			}
			hi, lo := unhex(body[i+3]), unhex(body[i+4])
			if hi < 0 || hi > 7 || lo < 0 {
				return "", false
			}
			b = append(b, byte(hi<<4|lo))
			i += 4
		default:
			return "", false
		}
	}
	return string(b), true
}

// unhex is the value of a lower-case hex digit, -1 for any other byte.
func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	}
	return -1
}
