package params

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// set builds the expected OpSet param with a value.
func set(raw, name, value string) Param {
	return Param{Op: OpSet, Raw: raw, Name: name, Value: value, HasValue: true}
}

// flag builds the expected OpSet param without a value.
func flag(raw, name string) Param {
	return Param{Op: OpSet, Raw: raw, Name: name}
}

// sel builds a selector from alternating keys and values.
func sel(kv ...string) []KeyValue {
	var out []KeyValue
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, KeyValue{Key: kv[i], Value: kv[i+1]})
	}
	return out
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		tokens  []string
		want    Args
		wantErr []string // substrings of the error message; nil means success
	}{
		// Empty and positional.
		{name: "nil", tokens: nil, want: Args{}},
		{name: "empty", tokens: []string{}, want: Args{}},
		{name: "id only", tokens: []string{"Marketing"}, want: Args{ID: "Marketing", HasID: true}},
		{name: "empty id", tokens: []string{""}, want: Args{ID: "", HasID: true}},
		{name: "id with spaces and slash", tokens: []string{"Default Web Site/app"}, want: Args{ID: "Default Web Site/app", HasID: true}},
		{name: "id after params", tokens: []string{"/json", "Marketing"}, want: Args{ID: "Marketing", HasID: true, Params: []Param{flag("/json", "json")}}},
		{
			name:    "two positionals",
			tokens:  []string{"Marketing", "Sales"},
			wantErr: []string{`the parameter "Sales" must begin with a / or - (for example /name:Sales)`},
		},
		{
			name:    "second positional empty",
			tokens:  []string{"Marketing", ""},
			wantErr: []string{`the parameter "" must begin with a / or -`},
		},
		{
			name:    "second positional after empty id",
			tokens:  []string{"", "x"},
			wantErr: []string{`the parameter "x" must begin`},
		},

		// The brief's example.
		{
			name: "full example",
			tokens: []string{"Marketing", "/processModel.idleTimeout:00:10:00", "-queueLength:2000",
				"/+environmentVariables.[name='FOO',value='a b']", "/json"},
			want: Args{ID: "Marketing", HasID: true, Params: []Param{
				set("/processModel.idleTimeout:00:10:00", "processModel.idleTimeout", "00:10:00"),
				set("-queueLength:2000", "queueLength", "2000"),
				{Op: OpAdd, Raw: "/+environmentVariables.[name='FOO',value='a b']", Name: "environmentVariables", Selector: sel("name", "FOO", "value", "a b")},
				flag("/json", "json"),
			}},
		},

		// OpSet values.
		{name: "value with colons and slash", tokens: []string{"/bindings:http/*:8080:"}, want: Args{Params: []Param{set("/bindings:http/*:8080:", "bindings", "http/*:8080:")}}},
		{name: "value is a path", tokens: []string{"/physicalPath:/var/www"}, want: Args{Params: []Param{set("/physicalPath:/var/www", "physicalPath", "/var/www")}}},
		{name: "negative value", tokens: []string{"/x:-1"}, want: Args{Params: []Param{set("/x:-1", "x", "-1")}}},
		{name: "star value", tokens: []string{"/text:*"}, want: Args{Params: []Param{set("/text:*", "text", "*")}}},
		{name: "empty value", tokens: []string{"/text:"}, want: Args{Params: []Param{set("/text:", "text", "")}}},
		{name: "no value", tokens: []string{"/text"}, want: Args{Params: []Param{flag("/text", "text")}}},
		{name: "dash prefix", tokens: []string{"-name:Sales"}, want: Args{Params: []Param{set("-name:Sales", "name", "Sales")}}},
		{name: "value with brackets and quotes", tokens: []string{"/a:[k='v']"}, want: Args{Params: []Param{set("/a:[k='v']", "a", "[k='v']")}}},
		{name: "value with spaces", tokens: []string{"/a:x y z"}, want: Args{Params: []Param{set("/a:x y z", "a", "x y z")}}},
		{name: "value with equals", tokens: []string{"/a:b=c"}, want: Args{Params: []Param{set("/a:b=c", "a", "b=c")}}},
		{name: "dotted object name", tokens: []string{"/apppool.name:Sales"}, want: Args{Params: []Param{set("/apppool.name:Sales", "apppool.name", "Sales")}}},
		{name: "numeric name", tokens: []string{"-1"}, want: Args{Params: []Param{flag("-1", "1")}}},
		{name: "name chars", tokens: []string{"/a_b-c!d.E9:v"}, want: Args{Params: []Param{set("/a_b-c!d.E9:v", "a_b-c!d.E9", "v")}}},
		{name: "unicode name", tokens: []string{"/größe:1"}, want: Args{Params: []Param{set("/größe:1", "größe", "1")}}},
		{name: "bang escape", tokens: []string{"/!debug:x"}, want: Args{Params: []Param{set("/!debug:x", "debug", "x")}}},
		{name: "bang escape only once", tokens: []string{"/!!x"}, want: Args{Params: []Param{flag("/!!x", "!x")}}},
		{name: "bang escape of a dash name", tokens: []string{"/!-x:1"}, want: Args{Params: []Param{set("/!-x:1", "-x", "1")}}},
		{name: "bang escape of help", tokens: []string{"/!h"}, want: Args{Params: []Param{flag("/!h", "h")}}},
		{name: "h with value is a param", tokens: []string{"-h:1"}, want: Args{Params: []Param{set("-h:1", "h", "1")}}},
		{name: "help word is a param", tokens: []string{"/help"}, want: Args{Params: []Param{flag("/help", "help")}}},
		{name: "repeated param kept", tokens: []string{"/a:1", "/A:2"}, want: Args{Params: []Param{set("/a:1", "a", "1"), set("/A:2", "A", "2")}}},

		// Help.
		{name: "help /?", tokens: []string{"/?"}, want: Args{Help: true}},
		{name: "help -?", tokens: []string{"-?"}, want: Args{Help: true}},
		{name: "help -h", tokens: []string{"-h"}, want: Args{Help: true}},
		{name: "help -H", tokens: []string{"-H"}, want: Args{Help: true}},
		{name: "help /h", tokens: []string{"/h"}, want: Args{Help: true}},
		{name: "help /H", tokens: []string{"/H"}, want: Args{Help: true}},
		{name: "help --help", tokens: []string{"--help"}, want: Args{Help: true}},
		{name: "help --HELP", tokens: []string{"--HELP"}, want: Args{Help: true}},
		{name: "help with id and params", tokens: []string{"Marketing", "/a:1", "/?"}, want: Args{ID: "Marketing", HasID: true, Help: true, Params: []Param{set("/a:1", "a", "1")}}},

		// Misplaced global flags and stray tokens.
		{name: "stray --", tokens: []string{"Marketing", "--"}, wantErr: []string{"stray '--': poolctl takes no '--' here; write parameters as /name:value"}},
		{
			name:    "--config after object",
			tokens:  []string{"Marketing", "--config", "/etc/poolctl.toml"},
			wantErr: []string{`global flag "--config" must come before the verb (poolctl [--config F] <verb> <object> ...)`},
		},
		{name: "--json", tokens: []string{"--json"}, wantErr: []string{`global flag "--json" must come before the verb`}},
		{name: "--config=F", tokens: []string{"--config=x"}, wantErr: []string{`global flag "--config=x"`}},
		{name: "--x:[...]", tokens: []string{"--x:[a='b']"}, wantErr: []string{`global flag "--x:[a='b']"`}},
		{name: "bare slash", tokens: []string{"/"}, wantErr: []string{`parameter "/": expected a name after "/"`}},
		{name: "bare dash", tokens: []string{"-"}, wantErr: []string{`parameter "-": expected a name after "-"`}},

		// Bad names.
		{name: "empty name", tokens: []string{"/:x"}, wantErr: []string{`parameter "/:x": expected a name`}},
		{name: "only bang", tokens: []string{"/!"}, wantErr: []string{`parameter "/!": expected a name after '!'`}},
		{name: "only bang with value", tokens: []string{"/!:v"}, wantErr: []string{`expected a name after '!'`}},
		{name: "double dot", tokens: []string{"/a..b:1"}, wantErr: []string{`parameter "/a..b:1": empty segment in name "a..b"`}},
		{name: "leading dot", tokens: []string{"/.a:1"}, wantErr: []string{`empty segment in name ".a"`}},
		{name: "trailing dot", tokens: []string{"/a.:1"}, wantErr: []string{`empty segment in name "a."`}},
		{name: "equals instead of colon", tokens: []string{"/name=Sales"}, wantErr: []string{`invalid character '=' in name "name=Sales"`, "with ':'"}},
		{name: "space in name", tokens: []string{"/a b:1"}, wantErr: []string{`invalid character ' ' in name "a b"`}},
		{name: "quote in name", tokens: []string{"/a'b"}, wantErr: []string{`invalid character '\'' in name`}},
		{name: "bracket close in name", tokens: []string{"/a]:1"}, wantErr: []string{`invalid character ']' in name "a]"`}},
		{name: "invalid utf8 in name", tokens: []string{"/a\xff:1"}, wantErr: []string{`invalid character`}},
		{name: "slash in name", tokens: []string{"//a"}, wantErr: []string{`invalid character '/' in name "/a"`}},

		// OpAdd and OpRemove.
		{
			name:   "add with path",
			tokens: []string{"/+environmentVariables.[name='FOO',value='bar']"},
			want:   Args{Params: []Param{{Op: OpAdd, Raw: "/+environmentVariables.[name='FOO',value='bar']", Name: "environmentVariables", Selector: sel("name", "FOO", "value", "bar")}}},
		},
		{
			name:   "add dash plus",
			tokens: []string{"-+bindings.[protocol='http',bindingInformation='*:80:']"},
			want:   Args{Params: []Param{{Op: OpAdd, Raw: "-+bindings.[protocol='http',bindingInformation='*:80:']", Name: "bindings", Selector: sel("protocol", "http", "bindingInformation", "*:80:")}}},
		},
		{
			name:   "add without path",
			tokens: []string{"/+[path='/app']"},
			want:   Args{Params: []Param{{Op: OpAdd, Raw: "/+[path='/app']", Name: "", Selector: sel("path", "/app")}}},
		},
		{
			name:   "add with dotted path and bang",
			tokens: []string{"/+!a.b.[k='v']"},
			want:   Args{Params: []Param{{Op: OpAdd, Raw: "/+!a.b.[k='v']", Name: "a.b", Selector: sel("k", "v")}}},
		},
		{
			name:   "remove slash dash",
			tokens: []string{"/-environmentVariables.[name='FOO']"},
			want:   Args{Params: []Param{{Op: OpRemove, Raw: "/-environmentVariables.[name='FOO']", Name: "environmentVariables", Selector: sel("name", "FOO")}}},
		},
		{
			name:   "reset a property",
			tokens: []string{"/-processModel.idleTimeout"},
			want:   Args{Params: []Param{{Op: OpRemove, Raw: "/-processModel.idleTimeout", Name: "processModel.idleTimeout"}}},
		},
		{
			name:   "remove dash dash",
			tokens: []string{"--environmentVariables.[name='FOO']"},
			want:   Args{Params: []Param{{Op: OpRemove, Raw: "--environmentVariables.[name='FOO']", Name: "environmentVariables", Selector: sel("name", "FOO")}}},
		},
		{
			name:   "remove dash dash without path",
			tokens: []string{"--[name='FOO']"},
			want:   Args{Params: []Param{{Op: OpRemove, Raw: "--[name='FOO']", Name: "", Selector: sel("name", "FOO")}}},
		},
		{
			name:   "doubled single quote",
			tokens: []string{"/+e.[name='it''s',value='''quoted''']"},
			want:   Args{Params: []Param{{Op: OpAdd, Raw: "/+e.[name='it''s',value='''quoted''']", Name: "e", Selector: sel("name", "it's", "value", "'quoted'")}}},
		},
		{
			name:   "only a doubled quote",
			tokens: []string{"/+e.[a='''']"},
			want:   Args{Params: []Param{{Op: OpAdd, Raw: "/+e.[a='''']", Name: "e", Selector: sel("a", "'")}}},
		},
		{
			name:   "empty value",
			tokens: []string{"/+e.[a='']"},
			want:   Args{Params: []Param{{Op: OpAdd, Raw: "/+e.[a='']", Name: "e", Selector: sel("a", "")}}},
		},
		{
			name:   "double quoted values",
			tokens: []string{`/+e.[name="a ""b"" c",value="it's"]`},
			want:   Args{Params: []Param{{Op: OpAdd, Raw: `/+e.[name="a ""b"" c",value="it's"]`, Name: "e", Selector: sel("name", `a "b" c`, "value", "it's")}}},
		},
		{
			name:   "special characters in values",
			tokens: []string{"/+e.[name='a,b]c=d:e[f g',value='/x/y:1']"},
			want:   Args{Params: []Param{{Op: OpAdd, Raw: "/+e.[name='a,b]c=d:e[f g',value='/x/y:1']", Name: "e", Selector: sel("name", "a,b]c=d:e[f g", "value", "/x/y:1")}}},
		},
		{
			name:   "whitespace around keys and commas",
			tokens: []string{"/+e.[ name = 'FOO' ,\tvalue='a b' ]"},
			want:   Args{Params: []Param{{Op: OpAdd, Raw: "/+e.[ name = 'FOO' ,\tvalue='a b' ]", Name: "e", Selector: sel("name", "FOO", "value", "a b")}}},
		},
		{
			name:   "key characters",
			tokens: []string{"/+e.[a.b_c-9='v']"},
			want:   Args{Params: []Param{{Op: OpAdd, Raw: "/+e.[a.b_c-9='v']", Name: "e", Selector: sel("a.b_c-9", "v")}}},
		},
		{
			name:   "duplicate keys kept in order",
			tokens: []string{"/-e.[a='1',a='2']"},
			want:   Args{Params: []Param{{Op: OpRemove, Raw: "/-e.[a='1',a='2']", Name: "e", Selector: sel("a", "1", "a", "2")}}},
		},

		// OpSet on an element attribute.
		{
			name:   "element attribute",
			tokens: []string{"/environmentVariables.[name='FOO'].value:bar"},
			want:   Args{Params: []Param{{Op: OpSet, Raw: "/environmentVariables.[name='FOO'].value:bar", Name: "environmentVariables", Selector: sel("name", "FOO"), Attr: "value", Value: "bar", HasValue: true}}},
		},
		{
			name:   "element attribute without path",
			tokens: []string{"/[path='/'].applicationPool:Sales"},
			want:   Args{Params: []Param{{Op: OpSet, Raw: "/[path='/'].applicationPool:Sales", Name: "", Selector: sel("path", "/"), Attr: "applicationPool", Value: "Sales", HasValue: true}}},
		},
		{
			name:   "element attribute value with colons",
			tokens: []string{"-bindings.[protocol='http'].bindingInformation:*:8080:"},
			want:   Args{Params: []Param{{Op: OpSet, Raw: "-bindings.[protocol='http'].bindingInformation:*:8080:", Name: "bindings", Selector: sel("protocol", "http"), Attr: "bindingInformation", Value: "*:8080:", HasValue: true}}},
		},
		{
			name:   "element attribute without value",
			tokens: []string{"/e.[a='b'].c"},
			want:   Args{Params: []Param{{Op: OpSet, Raw: "/e.[a='b'].c", Name: "e", Selector: sel("a", "b"), Attr: "c"}}},
		},
		{
			name:   "element attribute with empty value",
			tokens: []string{"/e.[a='b'].c:"},
			want:   Args{Params: []Param{{Op: OpSet, Raw: "/e.[a='b'].c:", Name: "e", Selector: sel("a", "b"), Attr: "c", HasValue: true}}},
		},
		{
			name:   "element dotted attribute",
			tokens: []string{"/[path='/'].virtualDirectoryDefaults.physicalPath:/srv"},
			want:   Args{Params: []Param{{Op: OpSet, Raw: "/[path='/'].virtualDirectoryDefaults.physicalPath:/srv", Selector: sel("path", "/"), Attr: "virtualDirectoryDefaults.physicalPath", Value: "/srv", HasValue: true}}},
		},
		{
			name:   "colon inside selector is not the value separator",
			tokens: []string{"/e.[a='x:y'].b:c:d"},
			want:   Args{Params: []Param{{Op: OpSet, Raw: "/e.[a='x:y'].b:c:d", Name: "e", Selector: sel("a", "x:y"), Attr: "b", Value: "c:d", HasValue: true}}},
		},

		// Bad selectors.
		{
			name:    "unterminated selector",
			tokens:  []string{"/+environmentVariables.[name='a'"},
			wantErr: []string{`parameter "/+environmentVariables.[name='a'": unterminated selector: expected ']' after the last key='value' pair, e.g. "/+environmentVariables.[name='FOO',value='bar']"`},
		},
		{name: "unterminated after open", tokens: []string{"/+e.["}, wantErr: []string{`unterminated selector: expected key='value' after '['`}},
		{name: "unterminated after comma", tokens: []string{"/+e.[a='b',"}, wantErr: []string{`unterminated selector: expected key='value' after ','`}},
		{name: "unterminated after key", tokens: []string{"/+e.[a"}, wantErr: []string{`unterminated selector: expected '=' and a quoted value after key "a"`}},
		{name: "unterminated after equals", tokens: []string{"/+e.[a="}, wantErr: []string{`unterminated selector: expected a quoted value after "a="`}},
		{name: "unterminated quote", tokens: []string{"/+e.[a='b"}, wantErr: []string{`unterminated quote in the value of key "a": expected a closing '`}},
		{name: "unterminated quote after doubled", tokens: []string{"/+e.[a='b'']"}, wantErr: []string{`unterminated quote in the value of key "a"`}},
		{name: "unterminated double quote", tokens: []string{`/-e.[a="b']`}, wantErr: []string{`expected a closing "`, "/-environmentVariables.[name='FOO']"}},
		{name: "missing equals", tokens: []string{"/+e.[a'b']"}, wantErr: []string{`missing '=' after key "a", found '\''`}},
		{name: "missing equals space", tokens: []string{"/+e.[a b='c']"}, wantErr: []string{`missing '=' after key "a", found 'b'`}},
		{name: "empty key", tokens: []string{"/+e.[='b']"}, wantErr: []string{"empty key before '='"}},
		{name: "key with bad char", tokens: []string{"/+e.['a'='b']"}, wantErr: []string{`expected a key after '[', found '\''`}},
		{name: "empty selector", tokens: []string{"/+e.[]"}, wantErr: []string{"empty selector"}},
		{name: "trailing comma", tokens: []string{"/+e.[a='b',]"}, wantErr: []string{"empty key after ','"}},
		{name: "unquoted value", tokens: []string{"/+e.[a=b"}, wantErr: []string{`unterminated selector: expected ']' after the value of key "a"`}},
		{name: "unquoted value with a quote", tokens: []string{"/+e.[a=b'c']"}, wantErr: []string{`the value of key "a" holds '\'' without being quoted`}},
		{name: "missing comma", tokens: []string{"/+e.[a='b' c='d']"}, wantErr: []string{`expected ',' or ']' after the value of key "a", found 'c'`}},
		{name: "add without selector", tokens: []string{"/+environmentVariables"}, wantErr: []string{`parameter "/+environmentVariables": expected a selector after the path: /+ adds a collection element`}},
		{name: "add with value no selector", tokens: []string{"-+e:x"}, wantErr: []string{`expected a selector after the path: -+ adds`}},
		{name: "add nothing", tokens: []string{"/+"}, wantErr: []string{`parameter "/+": expected a name`}},
		{name: "remove with value and no selector", tokens: []string{"/-e:1"}, wantErr: []string{`unexpected ":1": /-path resets a property and takes no value`}},
		{name: "remove nothing", tokens: []string{"/-"}, wantErr: []string{`parameter "/-": expected a name`}},
		{name: "add with value after selector", tokens: []string{"/+e.[a='b']:c"}, wantErr: []string{`unexpected ":c" after ']': /+ takes no attribute or value`}},
		{name: "add with attr", tokens: []string{"/+e.[a='b'].c:d"}, wantErr: []string{`unexpected ".c:d" after ']'`}},
		{name: "remove with attr", tokens: []string{"--e.[a='b'].c"}, wantErr: []string{`unexpected ".c" after ']': -- takes no attribute or value`}},
		{name: "missing dot before selector", tokens: []string{"/+e[a='b']"}, wantErr: []string{`expected '.' between "e" and '['`}},
		{name: "dot only before selector", tokens: []string{"/+.[a='b']"}, wantErr: []string{"expected a path before '.['"}},
		{name: "empty segment before selector", tokens: []string{"/+a..[a='b']"}, wantErr: []string{`empty segment in name "a."`}},
		{name: "bang only before selector", tokens: []string{"/+!.[a='b']"}, wantErr: []string{"expected a name after '!'"}},
		{name: "set selector without attr", tokens: []string{"/e.[a='b']"}, wantErr: []string{"expected .attribute:value after ']'"}},
		{name: "set selector text after bracket", tokens: []string{"/e.[a='b']x"}, wantErr: []string{`unexpected "x" after ']': expected .attribute:value`}},
		{name: "set selector value without attr", tokens: []string{"/e.[a='b']:c"}, wantErr: []string{`unexpected ":c" after ']'`}},
		{name: "set selector empty attr", tokens: []string{"/e.[a='b'].:c"}, wantErr: []string{"expected an attribute name after '].'"}},
		{name: "set selector bad attr", tokens: []string{"/e.[a='b'].c..d:1"}, wantErr: []string{`empty segment in name "c..d"`}},
		{name: "nested selector", tokens: []string{"/e.[a='b'].f.[c='d'].g:1"}, wantErr: []string{`invalid character '[' in name`}},
		{name: "error after valid params", tokens: []string{"Marketing", "/a:1", "/+e"}, wantErr: []string{`parameter "/+e"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.tokens)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("Parse(%q) = %+v, want an error containing %q", tt.tokens, got, tt.wantErr)
				}
				if !errors.Is(err, ErrUsage) {
					t.Errorf("Parse(%q) error %v does not wrap ErrUsage", tt.tokens, err)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("Parse(%q) error\n  %v\nwant it to contain\n  %s", tt.tokens, err, w)
					}
				}
				checkMessage(t, err)
				if !reflect.DeepEqual(got, Args{}) {
					t.Errorf("Parse(%q) returned %+v with an error, want empty Args", tt.tokens, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tt.tokens, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q)\n got %+v\nwant %+v", tt.tokens, got, tt.want)
			}
		})
	}
}

// checkMessage checks the style of an error message: lowercase start, no
// trailing period.
func checkMessage(t *testing.T, err error) {
	t.Helper()
	msg := err.Error()
	if msg == "" || strings.ToLower(msg[:1]) != msg[:1] {
		t.Errorf("error %q does not start in lowercase", msg)
	}
	if strings.HasSuffix(msg, ".") {
		t.Errorf("error %q ends with a period", msg)
	}
}

func TestErrorPrefix(t *testing.T) {
	_, err := Parse([]string{"/+environmentVariables.[name='a'"})
	want := `usage error: parameter "/+environmentVariables.[name='a'": unterminated selector: expected ']' after the last key='value' pair, e.g. "/+environmentVariables.[name='FOO',value='bar']"`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant %s", err, want)
	}
}

func TestParseDoesNotAliasInput(t *testing.T) {
	tokens := []string{"x", "/a:1"}
	a, err := Parse(tokens)
	if err != nil {
		t.Fatal(err)
	}
	tokens[1] = "/b:2"
	if a.Params[0].Name != "a" || a.Params[0].Raw != "/a:1" {
		t.Errorf("Params changed with the input: %+v", a.Params[0])
	}
}

func TestOpString(t *testing.T) {
	for op, want := range map[Op]string{OpSet: "set", OpAdd: "add", OpRemove: "remove", Op(7): "Op(7)"} {
		if got := op.String(); got != want {
			t.Errorf("Op(%d).String() = %q, want %q", int(op), got, want)
		}
	}
}

// mustParse parses tokens or fails the test.
func mustParse(t *testing.T, tokens ...string) Args {
	t.Helper()
	a, err := Parse(tokens)
	if err != nil {
		t.Fatalf("Parse(%q): %v", tokens, err)
	}
	return a
}

func TestLookup(t *testing.T) {
	a := mustParse(t, "Marketing", "/text:name", "/queueLength:1", "/+e.[name='x']", "/e.[name='x'].value:v",
		"/QUEUELENGTH:2", "/json", "/-e.[name='y']")
	tests := []struct {
		names     []string
		wantRaw   string
		wantFound bool
	}{
		{names: []string{"queueLength"}, wantRaw: "/QUEUELENGTH:2", wantFound: true},
		{names: []string{"queuelength"}, wantRaw: "/QUEUELENGTH:2", wantFound: true},
		{names: []string{"text"}, wantRaw: "/text:name", wantFound: true},
		{names: []string{"json", "text"}, wantRaw: "/json", wantFound: true},
		{names: []string{"text", "JSON"}, wantRaw: "/json", wantFound: true},
		{names: []string{"e"}, wantFound: false},     // add, remove and element attribute only
		{names: []string{"name"}, wantFound: false},  // selector keys are not names
		{names: []string{"value"}, wantFound: false}, // nor attributes
		{names: []string{"missing"}, wantFound: false},
		{names: nil, wantFound: false},
	}
	for _, tt := range tests {
		p, ok := a.Lookup(tt.names...)
		if ok != tt.wantFound || p.Raw != tt.wantRaw {
			t.Errorf("Lookup(%q) = %q, %v; want %q, %v", tt.names, p.Raw, ok, tt.wantRaw, tt.wantFound)
		}
		if !ok && !reflect.DeepEqual(p, Param{}) {
			t.Errorf("Lookup(%q) returned %+v with false", tt.names, p)
		}
		if has := a.Has(tt.names...); has != tt.wantFound {
			t.Errorf("Has(%q) = %v, want %v", tt.names, has, tt.wantFound)
		}
	}
	if (Args{}).Has("x") {
		t.Error("empty Args has x")
	}
}

func TestLookupValueless(t *testing.T) {
	a := mustParse(t, "/json", "/text:")
	p, ok := a.Lookup("json")
	if !ok || p.HasValue || p.Value != "" {
		t.Errorf("Lookup(json) = %+v, %v", p, ok)
	}
	p, ok = a.Lookup("text")
	if !ok || !p.HasValue || p.Value != "" {
		t.Errorf("Lookup(text) = %+v, %v", p, ok)
	}
}

func TestTake(t *testing.T) {
	a := mustParse(t, "Marketing", "/json", "/queueLength:1", "/TEXT:name", "/+e.[name='x']", "/config", "/text:*", "/?")
	orig := mustParse(t, "Marketing", "/json", "/queueLength:1", "/TEXT:name", "/+e.[name='x']", "/config", "/text:*", "/?")

	rest, taken := a.Take("json", "text", "config")
	var takenRaw, restRaw []string
	for _, p := range taken {
		takenRaw = append(takenRaw, p.Raw)
	}
	for _, p := range rest.Params {
		restRaw = append(restRaw, p.Raw)
	}
	if want := []string{"/json", "/TEXT:name", "/config", "/text:*"}; !reflect.DeepEqual(takenRaw, want) {
		t.Errorf("taken = %q, want %q", takenRaw, want)
	}
	if want := []string{"/queueLength:1", "/+e.[name='x']"}; !reflect.DeepEqual(restRaw, want) {
		t.Errorf("rest = %q, want %q", restRaw, want)
	}
	if rest.ID != "Marketing" || !rest.HasID || !rest.Help {
		t.Errorf("rest lost ID or Help: %+v", rest)
	}
	if !reflect.DeepEqual(a, orig) {
		t.Errorf("Take modified its receiver:\n got %+v\nwant %+v", a, orig)
	}

	// Appending to rest must not write into the receiver's params.
	rest.Params = append(rest.Params, Param{Raw: "/new"})
	if !reflect.DeepEqual(a, orig) {
		t.Errorf("appending to rest modified the receiver")
	}

	// Nothing to take.
	rest, taken = a.Take("nope")
	if taken != nil {
		t.Errorf("taken = %+v, want nil", taken)
	}
	if !reflect.DeepEqual(rest, a) {
		t.Errorf("rest = %+v, want %+v", rest, a)
	}

	// Element attribute sets and add/remove are never taken.
	b := mustParse(t, "/e.[a='b'].c:d", "/-e.[a='b']", "/e:1")
	rest, taken = b.Take("e")
	if len(taken) != 1 || taken[0].Raw != "/e:1" || len(rest.Params) != 2 {
		t.Errorf("Take(e) = %+v, %+v", rest, taken)
	}

	// Taking everything leaves no params.
	rest, taken = mustParse(t, "/json").Take("JSON")
	if len(rest.Params) != 0 || len(taken) != 1 {
		t.Errorf("Take(JSON) = %+v, %+v", rest, taken)
	}
}
