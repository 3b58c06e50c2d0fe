package runstate

import "fmt"

// names is the appcmd names of one kind of state, indexed by value.
type names struct {
	kind string // "pool", "worker", "site": for messages
	list []string
}

// of returns the name of state i, or a placeholder for a value no state has.
func (n names) of(i uint8) string {
	if int(i) < len(n.list) {
		return n.list[i]
	}
	return fmt.Sprintf("%s(%d)", n.kind, i)
}

// marshal writes the name of state i; a value no state has is an error.
func (n names) marshal(i uint8) ([]byte, error) {
	if int(i) >= len(n.list) {
		return nil, fmt.Errorf("runstate: no %s state %d", n.kind, i)
	}
	return []byte(n.list[i]), nil
}

// parse returns the state called b.
func (n names) parse(b []byte) (uint8, error) {
	for i, s := range n.list {
		if s == string(b) {
			return uint8(i), nil
		}
	}
	return 0, fmt.Errorf("runstate: %q is not a %s state (want one of %v)", b, n.kind, n.list)
}
