package proc

import (
	"errors"
	"fmt"
	"strings"
)

// ErrUndefinedVariable is wrapped by ExpandArgs when an argument names a
// variable the environment does not set.
var ErrUndefinedVariable = errors.New("undefined variable")

// maxExpanded bounds the length of one expanded argument, so that a command
// cannot be blown up by repeated large variables.
const maxExpanded = 1 << 20

// ExpandArgs expands environment variables in each argument the way
// systemd's ExecStart does, without word splitting: $NAME and ${NAME} are
// replaced by the value NAME has in env (a list of NAME=value, the last one
// winning, as for getenv), and $$ is a literal $. A name is a letter or
// underscore followed by letters, digits and underscores. A $ that is
// followed by anything else (a digit, punctuation, the end of the argument)
// is kept as it is. Unlike systemd, a variable env does not set is an error
// wrapping ErrUndefinedVariable (a misspelt $PROT should not start a worker
// on the wrong port); write $$ for a $ meant for a shell. An argument is
// never split into several, and an empty result stays one empty argument.
func ExpandArgs(args, env []string) ([]string, error) {
	vars := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	out := make([]string, len(args))
	for i, a := range args {
		s, err := expand(a, vars)
		if err != nil {
			return nil, fmt.Errorf("argument %d (%q): %w", i, a, err)
		}
		out[i] = s
	}
	return out, nil
}

// expand expands one argument; see ExpandArgs.
func expand(s string, vars map[string]string) (string, error) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		if c != '$' || i+1 == len(s) {
			b.WriteByte(c)
			i++
			continue
		}
		next := s[i+1]
		var name string
		switch {
		case next == '$':
			b.WriteByte('$')
			i += 2
			continue
		case next == '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return "", fmt.Errorf("${ at offset %d has no closing }", i)
			}
			name = s[i+2 : i+2+end]
			if !validName(name) {
				return "", fmt.Errorf("${%s}: not a variable name (letters, digits and _, not starting with a digit)", name)
			}
			i += 3 + end
		case nameStart(next):
			j := i + 2
			for j < len(s) && nameChar(s[j]) {
				j++
			}
			name = s[i+1 : j]
			i = j
		default:
			b.WriteByte('$')
			i++
			continue
		}
		v, ok := vars[name]
		if !ok {
			return "", fmt.Errorf("$%s: %w (write $$ for a literal $)", name, ErrUndefinedVariable)
		}
		if b.Len()+len(v) > maxExpanded {
			return "", fmt.Errorf("$%s: the expanded argument is longer than %d bytes", name, maxExpanded)
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

func nameStart(c byte) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

func nameChar(c byte) bool { return nameStart(c) || ('0' <= c && c <= '9') }

func validName(s string) bool {
	if s == "" || !nameStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !nameChar(s[i]) {
			return false
		}
	}
	return true
}
