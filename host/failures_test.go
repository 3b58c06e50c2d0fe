package host

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

// TestFailuresToldOnce: a failure of apply is returned by the first
// reconcile call that meets it and not by later ones while it stays; once
// gone and back, it is returned again. Joined errors are split.
func TestFailuresToldOnce(t *testing.T) {
	bind := errors.New("listen on 127.0.0.1:8443: address already in use")
	cert := errors.New("load certificate /etc/x.pem and key /etc/x.key: no such file")
	var f failures
	steps := []struct {
		errs []error
		want []string
	}{
		{[]error{nil, errors.Join(bind, cert)}, []string{bind.Error(), cert.Error()}},
		{[]error{nil, errors.Join(bind, cert)}, nil},
		{[]error{nil, bind}, nil},
		{[]error{nil, nil}, nil},
		{[]error{fmt.Errorf("pool %q: %w", "P", errors.New("no start")), bind}, []string{`pool "P": no start`, bind.Error()}},
	}
	for i, s := range steps {
		f.set(s.errs...)
		if got := f.untold(); !slices.Equal(got, s.want) {
			t.Errorf("step %d: untold %q, want %q", i, got, s.want)
		}
	}
}
