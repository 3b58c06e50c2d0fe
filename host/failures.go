package host

import (
	"errors"
	"slices"
	"sync"
)

// failures are what the last apply could not do (a binding that cannot
// listen, a certificate that does not load, a pool that does not start)
// while it applied the rest. The control API's reconcile returns each
// failure once as a warning: a failure already returned is not repeated
// until it goes away (or changes) and comes back, so a later command that
// does not touch the broken binding stays quiet. Reconciles from SIGHUP or
// the store watcher record failures but tell nobody, so they never eat a
// warning the tool should see.
type failures struct {
	mu      sync.Mutex
	current []string        // failures of the last apply
	told    map[string]bool // failures a reconcile call already returned
}

// set records the failures of an apply.
func (f *failures) set(errs ...error) {
	var out []string
	for _, err := range errs {
		for _, e := range flatten(err) {
			if msg := e.Error(); !slices.Contains(out, msg) {
				out = append(out, msg)
			}
		}
	}
	f.mu.Lock()
	f.current = out
	f.mu.Unlock()
}

// untold returns the current failures not returned before and marks them
// returned; failures that went away are forgotten, so they are reported
// again if they come back.
func (f *failures) untold() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	told := make(map[string]bool, len(f.current))
	var out []string
	for _, msg := range f.current {
		if !f.told[msg] {
			out = append(out, msg)
		}
		told[msg] = true
	}
	f.told = told
	return out
}

// flatten splits the errors of errors.Join into their parts.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if isJoin(err) {
		var out []error
		for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// isJoin tells errors.Join's result from an error that wraps several
// errors with a message of its own (fmt.Errorf with two %w).
func isJoin(err error) bool {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return false
	}
	return err.Error() == errors.Join(j.Unwrap()...).Error()
}
