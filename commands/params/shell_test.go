package params

import (
	"errors"
	"os/exec"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// TestParseUnquotedSelector: bash removes the single quotes of an unquoted
// /+environmentVariables.[name='FOO',value='bar'], so the form without
// quotes is accepted too when it is unambiguous.
func TestParseUnquotedSelector(t *testing.T) {
	tests := []struct {
		tok  string
		want Param
	}{
		{"/+environmentVariables.[name=FOO,value=bar]", Param{Op: OpAdd, Name: "environmentVariables", Selector: sel("name", "FOO", "value", "bar")}},
		{"/+bindings.[protocol=http,bindingInformation=*:8081:]", Param{Op: OpAdd, Name: "bindings", Selector: sel("protocol", "http", "bindingInformation", "*:8081:")}},
		{"/-environmentVariables.[name=FOO]", Param{Op: OpRemove, Name: "environmentVariables", Selector: sel("name", "FOO")}},
		{"/environmentVariables.[name=FOO].value:baz", Param{Op: OpSet, Name: "environmentVariables", Selector: sel("name", "FOO"), Attr: "value", Value: "baz", HasValue: true}},
		{"/+e.[name=FOO,value=]", Param{Op: OpAdd, Name: "e", Selector: sel("name", "FOO", "value", "")}},
		{"/+e.[ name = FOO , value='a b' ]", Param{Op: OpAdd, Name: "e", Selector: sel("name", "FOO", "value", "a b")}},
		{"/+[name=Contoso,autoStart=True]", Param{Op: OpAdd, Selector: sel("name", "Contoso", "autoStart", "True")}},
	}
	for _, tt := range tests {
		got, err := Parse([]string{tt.tok})
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.tok, err)
			continue
		}
		tt.want.Raw = tt.tok
		if len(got.Params) != 1 || !reflect.DeepEqual(got.Params[0], tt.want) {
			t.Errorf("Parse(%q)\n got %+v\nwant %+v", tt.tok, got.Params, tt.want)
		}
	}
}

// TestParseUnquotedAmbiguous: an unquoted value that cannot be told apart
// from the selector's syntax is refused with a hint to quote it.
func TestParseUnquotedAmbiguous(t *testing.T) {
	for _, tok := range []string{
		"/+e.[name=a,b]",      // value='a,b' after bash: the comma splits it
		"/+e.[name=a'b',x=1]", // quotes inside an unquoted value
		"/+e.[name=a[b]",
	} {
		_, err := Parse([]string{tok})
		if err == nil {
			t.Errorf("Parse(%q) succeeded, want an error", tok)
			continue
		}
		if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), `"/+environmentVariables.[name='FOO',value='bar']"`) {
			t.Errorf("Parse(%q) error %v: want ErrUsage and the double-quoted example", tok, err)
		}
		checkMessage(t, err)
	}
}

// TestHintsPasteIntoBash: every example an error message quotes after
// "e.g." survives bash: pasted as is, bash hands poolctl a token that
// parses.
func TestHintsPasteIntoBash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	bad := []string{"/+environmentVariables.[name='a'", "/-e.[a=\"b']", "/e.[a='b']", "/+e", "/+e.[]", "/e.[a='b'].:c", "/+e.[a='b'].c:d"}
	eg := regexp.MustCompile(`e\.g\. (\S+)`)
	seen := 0
	for _, tok := range bad {
		_, perr := Parse([]string{tok})
		if perr == nil {
			t.Fatalf("Parse(%q) succeeded", tok)
		}
		m := eg.FindStringSubmatch(perr.Error())
		if m == nil {
			continue
		}
		seen++
		out, err := exec.Command(bash, "--norc", "--noprofile", "-c", "printf '%s\\n' "+m[1]).Output()
		if err != nil {
			t.Fatalf("bash on %s: %v", m[1], err)
		}
		words := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		if len(words) != 1 {
			t.Errorf("example %s becomes %d words in bash: %q", m[1], len(words), words)
			continue
		}
		if _, err := Parse(words); err != nil {
			t.Errorf("example %s, as bash passes it (%q), does not parse: %v", m[1], words[0], err)
		}
	}
	if seen == 0 {
		t.Fatal("no error message quoted an example")
	}
}

// TestParseCommit: appcmd's /commit:apphost (and its long form) is accepted
// on any verb and dropped, since poolctl has one store; a /commit that names
// a web.config is refused.
func TestParseCommit(t *testing.T) {
	for _, tok := range []string{"/commit:apphost", "-commit:APPHOST", "/commit:MACHINE/WEBROOT/APPHOST", "/Commit:machine/webroot/apphost"} {
		got, err := Parse([]string{"X", tok, "/a:1"})
		if err != nil {
			t.Errorf("Parse(%q): %v", tok, err)
			continue
		}
		want := Args{ID: "X", HasID: true, Params: []Param{{Op: OpSet, Raw: "/a:1", Name: "a", Value: "1", HasValue: true}}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Parse(%q) = %+v, want %+v", tok, got, want)
		}
	}
	for _, tok := range []string{"/commit:site", "/commit:webroot", "/commit", "/commit:"} {
		_, err := Parse([]string{tok})
		if err == nil || !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), "/commit:apphost") {
			t.Errorf("Parse(%q) error = %v, want a usage error that names /commit:apphost", tok, err)
		}
	}
	// The escape keeps a property called commit.
	got, err := Parse([]string{"/!commit:x"})
	if err != nil || len(got.Params) != 1 || got.Params[0].Name != "commit" {
		t.Errorf("Parse(/!commit:x) = %+v, %v", got, err)
	}
}

// TestParseXML: /xml is refused with a pointer to /json.
func TestParseXML(t *testing.T) {
	for _, tok := range []string{"/xml", "-XML", "/xml:true"} {
		_, err := Parse([]string{tok})
		if err == nil || !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), "/json") {
			t.Errorf("Parse(%q) error = %v, want a usage error that points to /json", tok, err)
		}
	}
	got, err := Parse([]string{"/!xml"})
	if err != nil || len(got.Params) != 1 || got.Params[0].Name != "xml" {
		t.Errorf("Parse(/!xml) = %+v, %v", got, err)
	}
}

// TestParseRootIndexerNested: appcmd's set config edits a nested collection
// of one element of the section: /+[name='X'].path.[k='v'].
func TestParseRootIndexerNested(t *testing.T) {
	tok := "/+[name='Contoso'].recycling.periodicRestart.schedule.[value='03:00:00']"
	got, err := Parse([]string{tok})
	if err != nil {
		t.Fatal(err)
	}
	want := Param{Op: OpAdd, Raw: tok, Selector: sel("name", "Contoso"),
		Nested: &Param{Op: OpAdd, Raw: tok, Name: "recycling.periodicRestart.schedule", Selector: sel("value", "03:00:00")}}
	if len(got.Params) != 1 || !reflect.DeepEqual(got.Params[0], want) {
		t.Fatalf("Parse(%q)\n got %+v\nwant %+v", tok, got.Params, want)
	}
	tok = "/-[name=X].environmentVariables.[name=FOO]"
	got, err = Parse([]string{tok})
	if err != nil {
		t.Fatal(err)
	}
	want = Param{Op: OpRemove, Raw: tok, Selector: sel("name", "X"),
		Nested: &Param{Op: OpRemove, Raw: tok, Name: "environmentVariables", Selector: sel("name", "FOO")}}
	if !reflect.DeepEqual(got.Params[0], want) {
		t.Fatalf("Parse(%q)\n got %+v\nwant %+v", tok, got.Params, want)
	}
	// A named collection takes no nested path.
	if _, err := Parse([]string{"/+e.[a='b'].f.[c='d']"}); err == nil {
		t.Error("nested path after a named collection was accepted")
	}
}
