// Package params is the syntactic parser for appcmd-style command-line
// parameters: the tokens that follow the verb and the object, such as
//
//	Marketing /processModel.idleTimeout:00:10:00 -queueLength:2000
//	/+environmentVariables.[name='FOO',value='a b'] /json
//
// It knows nothing about objects or properties; it only splits each token
// into an operation, a dotted name, an optional collection selector, an
// optional element attribute and an optional value. Every error it returns
// wraps ErrUsage.
package params

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrUsage marks a command line that cannot be parsed. Every error returned
// by Parse wraps it; callers test for it with errors.Is.
var ErrUsage = errors.New("usage error")

// Op is what a parameter does.
type Op int

const (
	// OpSet is /path:value or /path (no value), or /path.[k='v'].attr:value
	// for an attribute of a collection element.
	OpSet Op = iota
	// OpAdd is /+path.[k='v',...]: add a collection element.
	OpAdd
	// OpRemove is /-path.[k='v',...]: remove a collection element.
	OpRemove
)

// String returns "set", "add" or "remove".
func (o Op) String() string {
	switch o {
	case OpSet:
		return "set"
	case OpAdd:
		return "add"
	case OpRemove:
		return "remove"
	}
	return fmt.Sprintf("Op(%d)", int(o))
}

// KeyValue is one key='value' pair of a collection selector, in the order
// written.
type KeyValue struct{ Key, Value string }

// Param is one parsed parameter.
type Param struct {
	// Op is what the parameter does.
	Op Op
	// Raw is the token exactly as given.
	Raw string
	// Name is the dotted path as written, without prefix, selector and
	// value, e.g. "processModel.idleTimeout", "environmentVariables",
	// "apppool.name". A leading '!' (appcmd's escape) is stripped. It is
	// empty for a selector without a path, such as /+[name='FOO'].
	Name string
	// Selector holds the key='value' pairs of a collection selector, for
	// OpAdd and OpRemove, and for OpSet of an element attribute; it is nil
	// otherwise. An OpRemove without a selector ("/-path") resets the
	// property to its inherited value.
	Selector []KeyValue
	// Attr is the attribute of an OpSet on a collection element:
	// "/environmentVariables.[name='FOO'].value:bar" has Name
	// "environmentVariables", Selector [{name FOO}] and Attr "value".
	Attr string
	// Value is the text after the first ':' following the name (or
	// following the selector's ']' and the attribute); "" if none.
	Value string
	// HasValue reports whether a ':' was present, so "/text:" has HasValue
	// true and Value "".
	HasValue bool
	// Nested is the edit of a collection inside one element of the
	// section, for an OpAdd or OpRemove whose selector has no path (set
	// config's /+[name='X'].recycling.periodicRestart.schedule.[value='03:00:00']):
	// this Param selects the element, Nested (same Op and Raw) is the edit.
	// It is nil otherwise.
	Nested *Param
}

// Args is a parsed parameter list.
type Args struct {
	// ID is the positional identifier, if any.
	ID string
	// HasID reports whether a positional identifier was given (it may be
	// the empty string).
	HasID bool
	// Params are the parameters, in the order given.
	Params []Param
	// Help reports whether "/?", "-?", "-h", "/h" or "--help" was present.
	Help bool
}

// Examples quoted in error messages, one per operation. The selector forms
// are in double quotes, so that pasted into a shell they reach poolctl as
// written, single quotes and all.
const (
	exampleAdd    = `"/+environmentVariables.[name='FOO',value='bar']"`
	exampleRemove = `"/-environmentVariables.[name='FOO']"`
	exampleAttr   = `"/environmentVariables.[name='FOO'].value:bar"`
	exampleName   = "processModel.idleTimeout"
)

// Parse parses tokens, the command-line arguments after the verb and the
// object. The first token that does not start with '/' or '-' is the
// positional identifier; every other token is a parameter or a help switch.
// Errors wrap ErrUsage; on error the returned Args is empty.
func Parse(tokens []string) (Args, error) {
	var a Args
	for _, tok := range tokens {
		switch {
		case isHelp(tok):
			a.Help = true
		case tok == "" || (tok[0] != '/' && tok[0] != '-'):
			if a.HasID {
				return Args{}, fmt.Errorf("%w: the parameter %q must begin with a / or - (for example /name:%s)", ErrUsage, tok, tok)
			}
			a.ID, a.HasID = tok, true
		default:
			p, err := parseParam(tok)
			if err != nil {
				return Args{}, err
			}
			general, err := generalSwitch(p)
			if err != nil {
				return Args{}, err
			}
			if !general {
				a.Params = append(a.Params, p)
			}
		}
	}
	return a, nil
}

// Lookup returns the last OpSet param whose Name equals one of names,
// case-insensitively. Element-attribute sets (those with a Selector) are
// not considered: their Name is a collection, not a property.
func (a Args) Lookup(names ...string) (Param, bool) {
	for i := len(a.Params) - 1; i >= 0; i-- {
		if matches(a.Params[i], names) {
			return a.Params[i], true
		}
	}
	return Param{}, false
}

// Has reports whether an OpSet param with one of names is present,
// case-insensitively, with the same rules as Lookup.
func (a Args) Has(names ...string) bool {
	_, ok := a.Lookup(names...)
	return ok
}

// Take returns Args without the OpSet params whose Name is one of names
// (case-insensitively, with the same rules as Lookup), and those removed
// params in the order given. Callers use it to consume output switches like
// /json, /text and /config before treating the rest as properties. The
// receiver is not modified.
func (a Args) Take(names ...string) (rest Args, taken []Param) {
	rest = a
	rest.Params = nil
	for _, p := range a.Params {
		if matches(p, names) {
			taken = append(taken, p)
		} else {
			rest.Params = append(rest.Params, p)
		}
	}
	return rest, taken
}

// matches reports whether p is a plain OpSet param named one of names.
func matches(p Param, names []string) bool {
	if p.Op != OpSet || p.Selector != nil {
		return false
	}
	for _, n := range names {
		if strings.EqualFold(p.Name, n) {
			return true
		}
	}
	return false
}

// isHelp reports whether tok is one of the help switches.
func isHelp(tok string) bool {
	for _, h := range []string{"/?", "-?", "-h", "/h", "--help"} {
		if strings.EqualFold(tok, h) {
			return true
		}
	}
	return false
}

// parseParam parses one token that starts with '/' or '-' and is not a
// help switch.
func parseParam(tok string) (Param, error) {
	if tok == "--" {
		return Param{}, fmt.Errorf("%w: stray '--': poolctl takes no '--' here; write parameters as /name:value", ErrUsage)
	}
	if len(tok) == 1 {
		return Param{}, fmt.Errorf("%w: parameter %q: expected a name after %q, e.g. /name:value", ErrUsage, tok, tok)
	}
	p := Param{Raw: tok}
	var body string
	switch {
	case strings.HasPrefix(tok, "--"):
		body = tok[2:]
		if !startsWithSelectorPath(body) {
			return Param{}, fmt.Errorf("%w: global flag %q must come before the verb (poolctl [--config F] <verb> <object> ...)", ErrUsage, tok)
		}
		p.Op = OpRemove
	case tok[1] == '+':
		p.Op, body = OpAdd, tok[2:]
	case tok[0] == '/' && tok[1] == '-':
		p.Op, body = OpRemove, tok[2:]
	default:
		p.Op, body = OpSet, tok[1:]
	}
	if err := parseBody(&p, tok[:len(tok)-len(body)], body); err != nil {
		return Param{}, fmt.Errorf("%w: parameter %q: %v", ErrUsage, tok, err)
	}
	return p, nil
}

// startsWithSelectorPath reports whether s is an optional path followed by
// '[', which makes "--path.[k='v']" a removal rather than a misplaced
// global flag.
func startsWithSelectorPath(s string) bool {
	i := 0
	for i < len(s) && isPathByte(s[i]) {
		i++
	}
	return i < len(s) && s[i] == '['
}

// isPathByte reports whether b may appear in a dotted path. Bytes of
// multi-byte UTF-8 sequences are accepted here and checked rune by rune
// later.
func isPathByte(b byte) bool {
	return b >= utf8.RuneSelf || b == '.' || b == '_' || b == '-' || b == '!' ||
		('a' <= b && b <= 'z') || ('A' <= b && b <= 'Z') || ('0' <= b && b <= '9')
}

// example returns the example to quote in errors about op.
func example(op Op) string {
	switch op {
	case OpAdd:
		return exampleAdd
	case OpRemove:
		return exampleRemove
	}
	return exampleAttr
}

// parseBody fills p from body, the token without its prefix. prefix is the
// prefix as written ("/", "-", "/+", "-+", "/-" or "--"). The returned error
// does not yet name the token nor wrap ErrUsage.
func parseBody(p *Param, prefix, body string) error {
	path, rest := body, ""
	if i := strings.IndexAny(body, ":["); i >= 0 {
		path, rest = body[:i], body[i:]
	}

	if !strings.HasPrefix(rest, "[") {
		name, err := checkName(path, false)
		if err != nil {
			return err
		}
		if p.Op == OpRemove && rest == "" {
			// "/-path" resets a property to its inherited value.
			p.Name = name
			return nil
		}
		if p.Op != OpSet {
			if p.Op == OpRemove {
				return fmt.Errorf("unexpected %q: /-path resets a property and takes no value; /-path.[key='value'] removes a collection element, e.g. %s", rest, example(p.Op))
			}
			return fmt.Errorf("expected a selector after the path: %s adds a collection element, e.g. %s", prefix, example(p.Op))
		}
		p.Name = name
		if rest != "" {
			p.Value, p.HasValue = rest[1:], true
		}
		return nil
	}

	// Collection selector: [path.]'[' ... ']'.
	if path != "" {
		if !strings.HasSuffix(path, ".") {
			return fmt.Errorf("expected '.' between %q and '[', e.g. %s", path, example(p.Op))
		}
		path = path[:len(path)-1]
		if path == "" {
			return fmt.Errorf("expected a path before '.[' (or no '.' at all), e.g. %s", example(p.Op))
		}
	}
	name, err := checkName(path, true)
	if err != nil {
		return err
	}
	sel, n, err := parseSelector(rest, example(p.Op))
	if err != nil {
		return err
	}
	p.Name, p.Selector = name, sel
	tail := rest[n:]

	if p.Op != OpSet {
		if name == "" && strings.HasPrefix(tail, ".") {
			return parseNested(p, prefix, tail[1:])
		}
		if tail != "" {
			return fmt.Errorf("unexpected %q after ']': %s takes no attribute or value, e.g. %s", tail, prefix, example(p.Op))
		}
		return nil
	}
	if tail == "" {
		return fmt.Errorf("expected .attribute:value after ']', e.g. %s", exampleAttr)
	}
	if tail[0] != '.' {
		return fmt.Errorf("unexpected %q after ']': expected .attribute:value, e.g. %s", tail, exampleAttr)
	}
	attr, value, hasValue := strings.Cut(tail[1:], ":")
	if attr == "" {
		return fmt.Errorf("expected an attribute name after '].', e.g. %s", exampleAttr)
	}
	if err := checkSegments(attr); err != nil {
		return err
	}
	p.Attr, p.Value, p.HasValue = attr, value, hasValue
	return nil
}

// checkName validates a dotted name, strips a leading '!' and returns it.
// An empty name is accepted only if allowEmpty.
func checkName(path string, allowEmpty bool) (string, error) {
	name, bang := strings.CutPrefix(path, "!")
	if name == "" {
		if bang {
			return "", errors.New("expected a name after '!', e.g. /!name:value")
		}
		if allowEmpty {
			return "", nil
		}
		return "", fmt.Errorf("expected a name, e.g. /name:value or /%s:value", exampleName)
	}
	if err := checkSegments(name); err != nil {
		return "", err
	}
	return name, nil
}

// checkSegments checks that name is non-empty segments of letters, digits,
// '_', '-' and '!', separated by single dots.
func checkSegments(name string) error {
	for seg := range strings.SplitSeq(name, ".") {
		if seg == "" {
			return fmt.Errorf("empty segment in name %q: names are non-empty parts separated by single dots, e.g. %s", name, exampleName)
		}
		for _, r := range seg {
			if isNameRune(r) {
				continue
			}
			if r == '=' {
				return fmt.Errorf("invalid character '=' in name %q: separate the name and the value with ':', e.g. /name:value", name)
			}
			return fmt.Errorf("invalid character %q in name %q: names use letters, digits, '_', '-' and '.', e.g. %s", r, name, exampleName)
		}
	}
	return nil
}

// isNameRune reports whether r may appear in a name segment.
func isNameRune(r rune) bool {
	return r == '_' || r == '-' || r == '!' || (r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r)))
}

// isKeyRune reports whether r may appear in a selector key.
func isKeyRune(r rune) bool {
	return r == '_' || r == '-' || r == '.' || (r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r)))
}

// skipSpace returns the index of the first non-space byte of s at or after i.
func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '\v' || s[i] == '\f') {
		i++
	}
	return i
}

// runeAt returns the rune starting at s[i], for error messages.
func runeAt(s string, i int) rune {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return r
}

// parseSelector parses the selector at the start of s (s[0] == '[') and
// returns its pairs and the number of bytes consumed, up to and including
// the closing ']'. ex is the example quoted in errors.
func parseSelector(s, ex string) ([]KeyValue, int, error) {
	var kvs []KeyValue
	unterminated := func(expected string) error {
		return fmt.Errorf("unterminated selector: expected %s, e.g. %s", expected, ex)
	}
	i := 1
	for {
		// key
		i = skipSpace(s, i)
		after := "'['"
		if len(kvs) > 0 {
			after = "','"
		}
		if i >= len(s) {
			return nil, 0, unterminated("key='value' after " + after)
		}
		if s[i] == ']' {
			if len(kvs) == 0 {
				return nil, 0, fmt.Errorf("empty selector: expected at least one key='value' pair inside [...], e.g. %s", ex)
			}
			return nil, 0, fmt.Errorf("empty key after ',': expected key='value', e.g. %s", ex)
		}
		start := i
		for i < len(s) {
			r, n := utf8.DecodeRuneInString(s[i:])
			if !isKeyRune(r) {
				break
			}
			i += n
		}
		key := s[start:i]
		if key == "" {
			if s[i] == '=' {
				return nil, 0, fmt.Errorf("empty key before '=': expected key='value', e.g. %s", ex)
			}
			return nil, 0, fmt.Errorf("expected a key after %s, found %q: write key='value', e.g. %s", after, runeAt(s, i), ex)
		}

		// '='
		i = skipSpace(s, i)
		if i >= len(s) {
			return nil, 0, unterminated(fmt.Sprintf("'=' and a quoted value after key %q", key))
		}
		if s[i] != '=' {
			return nil, 0, fmt.Errorf("missing '=' after key %q, found %q: expected key='value', e.g. %s", key, runeAt(s, i), ex)
		}
		i = skipSpace(s, i+1)

		// quoted value, or an unquoted one (a shell removed the quotes)
		if i >= len(s) {
			return nil, 0, unterminated(fmt.Sprintf("a quoted value after %q", key+"="))
		}
		q := s[i]
		if q != '\'' && q != '"' {
			v, n, err := unquotedValue(s[i:], key, ex)
			if err != nil {
				return nil, 0, err
			}
			kvs = append(kvs, KeyValue{Key: key, Value: v})
			i += n
			if i, err = selectorNext(s, i, key, ex); err != nil {
				return nil, 0, err
			}
			if s[i-1] == ']' {
				return kvs, i, nil
			}
			continue
		}
		i++
		var b strings.Builder
		closed := false
		for i < len(s) {
			c := s[i]
			if c == q {
				if i+1 < len(s) && s[i+1] == q {
					b.WriteByte(q)
					i += 2
					continue
				}
				i++
				closed = true
				break
			}
			b.WriteByte(c)
			i++
		}
		if !closed {
			return nil, 0, fmt.Errorf("unterminated quote in the value of key %q: expected a closing %c (write %c%c for a literal %c), e.g. %s", key, q, q, q, q, ex)
		}
		kvs = append(kvs, KeyValue{Key: key, Value: b.String()})
		var err error
		if i, err = selectorNext(s, i, key, ex); err != nil {
			return nil, 0, err
		}
		if s[i-1] == ']' {
			return kvs, i, nil
		}
	}
}

// selectorNext consumes the ',' or ']' that follows the value of key in
// the selector s, at or after i (after spaces), and returns the index after
// it; s[result-1] tells which one it was.
func selectorNext(s string, i int, key, ex string) (int, error) {
	i = skipSpace(s, i)
	if i >= len(s) {
		return 0, fmt.Errorf("unterminated selector: expected ']' after the last key='value' pair, e.g. %s", ex)
	}
	switch s[i] {
	case ',', ']':
		return i + 1, nil
	}
	return 0, fmt.Errorf("expected ',' or ']' after the value of key %q, found %q, e.g. %s", key, runeAt(s, i), ex)
}
