package params

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// render writes p back in canonical form: '/' prefixes, a '!' before every
// name (so names starting with '-' or 'h' stay names), single-quoted
// selector values. It exists only to check that parsing is consistent.
func render(p Param) string {
	var b strings.Builder
	switch p.Op {
	case OpAdd:
		b.WriteString("/+")
	case OpRemove:
		b.WriteString("/-")
	default:
		b.WriteString("/")
	}
	if p.Name != "" {
		b.WriteString("!" + p.Name)
	}
	if p.Selector != nil {
		if p.Name != "" {
			b.WriteString(".")
		}
		b.WriteString("[")
		for i, kv := range p.Selector {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(kv.Key + "='" + strings.ReplaceAll(kv.Value, "'", "''") + "'")
		}
		b.WriteString("]")
		if p.Attr != "" {
			b.WriteString("." + p.Attr)
		}
		if p.Nested != nil {
			prefix := map[Op]int{OpSet: 1, OpAdd: 2, OpRemove: 2}[p.Nested.Op]
			b.WriteString("." + render(*p.Nested)[prefix:])
		}
	}
	if p.HasValue {
		b.WriteString(":" + p.Value)
	}
	return b.String()
}

// FuzzParse feeds Parse the NUL-separated tokens of its input (argv never
// holds a NUL). Parse must not panic, every error must wrap ErrUsage, and a
// successful result must be self-consistent and survive a render/re-parse.
func FuzzParse(f *testing.F) {
	seeds := [][]string{
		{"Marketing", "/processModel.idleTimeout:00:10:00", "-queueLength:2000", "/+environmentVariables.[name='FOO',value='a b']", "/json"},
		{"/bindings:http/*:8080:", "/physicalPath:/var/www", "/x:-1", "/text:*", "/text:"},
		{"/environmentVariables.[name='FOO'].value:bar", "/[path='/'].applicationPool:Sales"},
		{"/+e.[name='it''s',value=\"a \"\"b\"\"\"]", "--e.[ name = 'x' , value='a,b]c' ]", "/-e.[a='']"},
		{"/!debug:x", "/!!x", "/?", "-h", "--HELP", ""},
		{"Marketing", "--config", "F"},
		{"a", "b"},
		{"--"}, {"-"}, {"/"}, {"/+"}, {"/-"},
		{"/+environmentVariables.[name='a'"},
		{"/+e.[a='b'']"}, {"/e.[a='b'].:c"}, {"/a..b:1"}, {"/+e[a='b']"}, {"/+.[a='b']"},
		{"/größe:1", "/a\xff:1", "/+e.[\xff='x']"},
		{"/+environmentVariables.[name=FOO,value=bar]", "/+bindings.[protocol=http,bindingInformation=*:8081:]", "/+e.[a=,b= c ]"},
		{"/+[name='X'].recycling.periodicRestart.schedule.[value='03:00:00']", "/-[name=X].environmentVariables.[name=FOO]", "/-[name='X'].queueLength"},
		{"/commit:apphost", "-commit:MACHINE/WEBROOT/APPHOST", "/!commit:x", "/!xml"}, {"/xml"}, {"/commit:site"},
	}
	for _, s := range seeds {
		f.Add(strings.Join(s, "\x00"))
	}
	f.Fuzz(func(t *testing.T, in string) {
		tokens := strings.Split(in, "\x00")
		checkParse(t, tokens)
		checkParse(t, []string{in}) // the whole input as one token
	})
}

// checkParse parses tokens and checks the result's invariants.
func checkParse(t *testing.T, tokens []string) {
	t.Helper()
	a, err := Parse(tokens)
	if err != nil {
		if !errors.Is(err, ErrUsage) {
			t.Fatalf("Parse(%q) error %v does not wrap ErrUsage", tokens, err)
		}
		if !reflect.DeepEqual(a, Args{}) {
			t.Fatalf("Parse(%q) returned %+v with error %v", tokens, a, err)
		}
		msg := err.Error()
		if msg == "" || strings.ToLower(msg[:1]) != msg[:1] || strings.HasSuffix(msg, ".") {
			t.Fatalf("Parse(%q) error message %q: want lowercase start and no trailing period", tokens, msg)
		}
		return
	}

	// Params are the parameter tokens, in order; ID is a token.
	next := 0
	for _, p := range a.Params {
		for next < len(tokens) && tokens[next] != p.Raw {
			next++
		}
		if next == len(tokens) {
			t.Fatalf("Parse(%q): param %+v is not one of the tokens, in order", tokens, p)
		}
		next++
	}
	if len(a.Params) > len(tokens) {
		t.Fatalf("Parse(%q): %d params from %d tokens", tokens, len(a.Params), len(tokens))
	}
	if a.HasID {
		found := false
		for _, tok := range tokens {
			found = found || tok == a.ID
		}
		if !found || (a.ID != "" && (a.ID[0] == '/' || a.ID[0] == '-')) {
			t.Fatalf("Parse(%q): bad ID %q", tokens, a.ID)
		}
	} else if a.ID != "" {
		t.Fatalf("Parse(%q): ID %q without HasID", tokens, a.ID)
	}

	for _, p := range a.Params {
		checkParam(t, p)
	}
}

// checkParam checks one successfully parsed param.
func checkParam(t *testing.T, p Param) {
	t.Helper()
	if p.Raw == "" || (p.Raw[0] != '/' && p.Raw[0] != '-') {
		t.Fatalf("param %+v: Raw does not start with / or -", p)
	}
	if !p.HasValue && p.Value != "" {
		t.Fatalf("param %+v: Value without HasValue", p)
	}
	switch p.Op {
	case OpRemove:
		if p.Selector == nil && p.Name != "" && p.Attr == "" && !p.HasValue {
			break // "/-path" resets a property
		}
		if len(p.Selector) == 0 || p.Attr != "" || p.HasValue {
			t.Fatalf("param %+v: remove needs a selector, or a bare path, and no attribute or value", p)
		}
	case OpAdd:
		if len(p.Selector) == 0 || p.Attr != "" || p.HasValue {
			t.Fatalf("param %+v: add/remove needs a selector and no attribute or value", p)
		}
	case OpSet:
		if (p.Selector == nil) != (p.Attr == "") {
			t.Fatalf("param %+v: set has a selector without an attribute or the reverse", p)
		}
		if p.Selector != nil && len(p.Selector) == 0 {
			t.Fatalf("param %+v: empty non-nil selector", p)
		}
		if p.Selector == nil && p.Name == "" {
			t.Fatalf("param %+v: set without a name", p)
		}
	default:
		t.Fatalf("param %+v: unknown Op", p)
	}
	if n := p.Nested; n != nil {
		if p.Op == OpSet || p.Name != "" || n.Op != p.Op || n.Raw != p.Raw || n.Name == "" || n.Nested != nil {
			t.Fatalf("param %+v: bad nested edit %+v", p, *n)
		}
	}
	for _, kv := range p.Selector {
		if kv.Key == "" {
			t.Fatalf("param %+v: empty selector key", p)
		}
	}
	for _, name := range []string{p.Name, p.Attr} {
		if strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, "..") ||
			strings.ContainsAny(name, ":[]'\"=/ ") {
			t.Fatalf("param %+v: malformed name or attribute %q", p, name)
		}
	}

	// The token alone parses to the same param.
	alone, err := Parse([]string{p.Raw})
	if err != nil || len(alone.Params) != 1 || !reflect.DeepEqual(alone.Params[0], p) {
		t.Fatalf("Parse(%q) alone = %+v, %v; want %+v", p.Raw, alone, err, p)
	}

	// The canonical rendering parses back to the same param.
	r := render(p)
	back, err := Parse([]string{r})
	if err != nil || len(back.Params) != 1 {
		t.Fatalf("re-parse of %q (rendered from %+v) = %+v, %v", r, p, back, err)
	}
	got := back.Params[0]
	got.Raw = p.Raw
	if got.Nested != nil {
		n := *got.Nested
		n.Raw = p.Raw
		got.Nested = &n
	}
	if !reflect.DeepEqual(got, p) {
		t.Fatalf("re-parse of %q\n got %+v\nwant %+v", r, got, p)
	}
}
