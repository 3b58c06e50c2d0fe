package params

import (
	"fmt"
	"strings"
)

// quoteHint tells how to keep a selector's quotes through a shell.
const quoteHint = "quote the value, and put the whole parameter in double quotes so the shell keeps the single quotes"

// unquotedValue reads the value of key at the start of s when it is not
// quoted: what bash leaves of /+environmentVariables.[name='FOO',value='bar']
// pasted without quotes is [name=FOO,value=bar]. The value runs to the next
// ',', ']' or space; it may be empty. A quote or '[' inside it makes the
// text ambiguous and is refused. It returns the value and the bytes read.
func unquotedValue(s, key, ex string) (string, int, error) {
	i := 0
	for i < len(s) {
		switch c := s[i]; c {
		case ',', ']', ' ', '\t', '\n', '\r', '\v', '\f':
			return s[:i], i, nil
		case '\'', '"', '[':
			return "", 0, fmt.Errorf("the value of key %q holds %q without being quoted: %s, e.g. %s", key, c, quoteHint, ex)
		}
		i++
	}
	return "", 0, fmt.Errorf("unterminated selector: expected ']' after the value of key %q, e.g. %s", key, ex)
}

// parseNested fills p.Nested from body, the text after "]." of an add or
// remove whose selector picks an element of the section itself:
// /+[name='X'].recycling.periodicRestart.schedule.[value='03:00:00'].
func parseNested(p *Param, prefix, body string) error {
	n := Param{Op: p.Op, Raw: p.Raw}
	if err := parseBody(&n, prefix, body); err != nil {
		return err
	}
	if n.Name == "" {
		return fmt.Errorf("expected a path after '].', e.g. %s", exampleNested(p.Op))
	}
	p.Nested = &n
	return nil
}

// exampleNested is the example quoted in errors about a nested edit.
func exampleNested(op Op) string {
	if op == OpRemove {
		return `"/-[name='X'].environmentVariables.[name='FOO']"`
	}
	return `"/+[name='X'].environmentVariables.[name='FOO',value='bar']"`
}

// commitTargets are the /commit values poolctl accepts: it has one store,
// IIS's applicationHost.config, which these name.
var commitTargets = []string{"apphost", "MACHINE/WEBROOT/APPHOST"}

// generalSwitch handles appcmd's general switches that poolctl answers
// itself: /commit:apphost is accepted and dropped (there is one store, so
// there is nothing to choose), /xml is refused with a pointer to /json. It
// reports whether p was one of them. The escaped forms (/!commit, /!xml)
// are properties, as in appcmd.
func generalSwitch(p Param) (bool, error) {
	if p.Op != OpSet || p.Selector != nil || strings.HasPrefix(p.Raw[1:], "!") {
		return false, nil
	}
	switch strings.ToLower(p.Name) {
	case "commit":
		for _, t := range commitTargets {
			if strings.EqualFold(p.Value, t) {
				return true, nil
			}
		}
		return false, fmt.Errorf("%w: parameter %q: poolctl keeps every setting in one store, its applicationHost; "+
			"a /commit to a site, application or web.config level cannot be honoured on Linux: drop /commit or write /commit:apphost", ErrUsage, p.Raw)
	case "xml":
		return false, fmt.Errorf("%w: parameter %q: poolctl writes no XML; use /json for a machine-readable list "+
			"(e.g. poolctl list apppool /json | jq -r '.[].name') or /text:ATTR for one value a line", ErrUsage, p.Raw)
	}
	return false, nil
}
